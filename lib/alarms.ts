import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmRule,
  ComparisonOperator,
  CompositeAlarm,
  type IMetric,
  MathExpression,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { METRICS } from '../core/constants.js';
import type { ConsumerMetrics } from './metrics.js';
import {
  clusterManagerMetric,
  consumerMetric,
  ONE_MINUTE,
  parkedForReview,
  recordsGivenUp,
} from './metrics.js';
import { type RunbookSection, runbookLink } from './runbook.js';

/** What the alarms watch, and the thresholds the props set. */
interface AlarmInputs {
  readonly stream: IStream;
  readonly consumer: ConsumerMetrics;
  readonly clusterManager: IFunction;
  readonly stateTable: ITable;
  readonly parkedTable: ITable;
  readonly coordinationTable: ITable;
  /** The consumer's event source mapping, whose on-failure counts the failed-batches alarm reads; absent with a fleet. */
  readonly eventSourceMappingId: string | undefined;
  readonly runbookUrl: string;
  readonly iteratorAgeAlarmThresholdMs: number;
  readonly sourceLatencyAlarmThresholdMs: number;
  readonly consumerErrorsAlarmThreshold: number;
  readonly parkedAlarmThreshold: number;
  readonly clusterManagerHeartbeatAlarmMinutes: number;
  readonly clusterManagerScheduleMinutes: number;
  /** How long a configuration deployment and its bake take: instances may lag a version that long by design. */
  readonly configRolloutMinutes: number;
}

/** One alarm: what it watches, when it fires, and the runbook section its description names. */
interface AlarmSpec {
  readonly runbook: RunbookSection;
  /** What firing means, in a sentence or two; the runbook link is appended. */
  readonly summary: string;
  readonly metric: IMetric;
  readonly threshold: number;
  readonly comparison: ComparisonOperator;
  readonly evaluationPeriods: number;
  /** @default evaluationPeriods */
  readonly datapointsToAlarm?: number;
  /** @default NOT_BREACHING: no data is no failure, and AppConfig's monitor then reads OK */
  readonly missing?: TreatMissingData;
}

const AT_LEAST = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
const ABOVE = ComparisonOperator.GREATER_THAN_THRESHOLD;
const FIVE_MINUTES = Duration.minutes(5);

/** Read plus write throttle events of a table per minute (each metric exists only while there are some). */
function tableThrottles(table: ITable): MathExpression {
  return new MathExpression({
    expression: 'FILL(reads, 0) + FILL(writes, 0)',
    usingMetrics: {
      reads: table.metric('ReadThrottleEvents', { statistic: 'Sum', period: ONE_MINUTE }),
      writes: table.metric('WriteThrottleEvents', { statistic: 'Sum', period: ONE_MINUTE }),
    },
    label: 'read and write throttle events',
    period: ONE_MINUTE,
  });
}

/** The consumer's failure modes. */
function consumerSpecs(i: AlarmInputs) {
  const consumerIteratorAge = i.consumer.metric('IteratorAge', { statistic: 'Maximum', period: ONE_MINUTE });
  return {
    iteratorAge: {
      runbook: 'iteratorAge',
      summary:
        'The consumer is falling behind the stream: its oldest record waited longer than the threshold for ' +
        '5 minutes.',
      metric: consumerIteratorAge,
      threshold: i.iteratorAgeAlarmThresholdMs,
      comparison: ABOVE,
      evaluationPeriods: 5,
    },
    sourceLatency: {
      runbook: 'sourceLatency',
      summary:
        'Changes reach their state later than the threshold after their source committed them (p99 over all ' +
        'tables) for 5 minutes.',
      metric: consumerMetric(METRICS.sourceToAppliedLatency, 'p99'),
      threshold: i.sourceLatencyAlarmThresholdMs,
      comparison: ABOVE,
      evaluationPeriods: 5,
    },
    consumerErrors: {
      runbook: 'consumerErrors',
      summary:
        'Consumer invocations are failing as a whole (timeouts, crashes, init errors) in 3 of the last 5 ' +
        'minutes; failures of single aggregates do not count (they are batch item failures).',
      metric: i.consumer.metricErrors({ statistic: 'Sum', period: ONE_MINUTE }),
      threshold: i.consumerErrorsAlarmThreshold,
      comparison: AT_LEAST,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
    },
    consumerThrottles: {
      runbook: 'consumerThrottles',
      summary:
        'Lambda throttled consumer invocations in 3 of the last 5 minutes: the account or the function is out ' +
        'of concurrency, and the shards wait.',
      metric: i.consumer.metricThrottles({ statistic: 'Sum', period: ONE_MINUTE }),
      threshold: 1,
      comparison: AT_LEAST,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
    },
    parked: {
      runbook: 'parked',
      summary:
        'Changes were parked for review in the last 5 minutes (poison changes after their attempts, changes ' +
        'behind them, bad input); their aggregates wait for an operator. Deferred changes do not count.',
      metric: parkedForReview(FIVE_MINUTES),
      threshold: i.parkedAlarmThreshold,
      comparison: AT_LEAST,
      evaluationPeriods: 1,
    },
    quarantined: {
      runbook: 'quarantined',
      summary: 'Aggregates have stayed quarantined behind a poison change for an hour without a replay.',
      metric: clusterManagerMetric(METRICS.quarantinedAggregates, 'Maximum', Duration.minutes(15)),
      threshold: 1,
      comparison: AT_LEAST,
      evaluationPeriods: 4,
    },
    heartbeatFailures: {
      runbook: 'heartbeatFailures',
      summary:
        'Consumer registrations or heartbeats kept failing for 10 minutes: the cluster manager sees their ' +
        'load late, or presumes live consumers dead.',
      metric: consumerMetric(METRICS.instanceHeartbeatFailures, 'Sum', FIVE_MINUTES),
      threshold: 3,
      comparison: AT_LEAST,
      evaluationPeriods: 2,
    },
    // A worker fleet parks what it gives up on itself (the parked alarm); only Lambda's mapping skips records.
    ...(i.eventSourceMappingId === undefined
      ? {}
      : {
          failedBatches: {
            runbook: 'failedBatches',
            summary:
              'Lambda gave up on records (retries or record age used up) and the shard moved past them, or ' +
              'could not keep them. They are kept whole in the failed-batches bucket: `cdcp failures list ' +
              '--stack <stack>` shows them; fix the cause, then `cdcp failures redrive --stack <stack>` applies ' +
              'them in order.',
            metric: recordsGivenUp(i.consumer, i.eventSourceMappingId, FIVE_MINUTES),
            threshold: 1,
            comparison: AT_LEAST,
            evaluationPeriods: 1,
          } satisfies AlarmSpec,
        }),
  } satisfies Record<string, AlarmSpec>;
}

/** The stores' failure modes: DynamoDB tables and the stream's writes. */
function storeSpecs(i: AlarmInputs) {
  const throttles = (table: ITable, name: string): AlarmSpec => ({
    runbook: 'dynamoDbThrottles',
    summary: `DynamoDB throttled requests to the ${name} table in 3 of the last 5 minutes.`,
    metric: tableThrottles(table),
    threshold: 1,
    comparison: AT_LEAST,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
  });
  return {
    stateTableThrottles: throttles(i.stateTable, 'state'),
    parkedTableThrottles: throttles(i.parkedTable, 'parked'),
    coordinationTableThrottles: throttles(i.coordinationTable, 'coordination'),
    streamWriteThrottles: {
      runbook: 'streamWriteThrottles',
      summary:
        'Producers were throttled writing to the stream (WriteProvisionedThroughputExceeded) for 15 minutes: ' +
        'a shard is over its write limits and resharding has not caught up.',
      metric: i.stream.metricWriteProvisionedThroughputExceeded({ statistic: 'Sum', period: FIVE_MINUTES }),
      threshold: 1,
      comparison: AT_LEAST,
      evaluationPeriods: 3,
    },
  } satisfies Record<string, AlarmSpec>;
}

/** The cluster manager's and the configuration's failure modes. */
function clusterSpecs(i: AlarmInputs) {
  const run = Duration.minutes(i.clusterManagerScheduleMinutes);
  const staleRuns = Math.ceil((i.configRolloutMinutes + 10) / i.clusterManagerScheduleMinutes);
  return {
    clusterManagerHeartbeat: {
      runbook: 'clusterManagerHeartbeat',
      summary:
        'No cluster manager run held the leadership for the whole period: nothing resizes the stream, tunes ' +
        'the consumers or sweeps deferred changes.',
      metric: clusterManagerMetric(
        METRICS.clusterManagerHeartbeat,
        'Sum',
        Duration.minutes(i.clusterManagerHeartbeatAlarmMinutes),
      ),
      threshold: 1,
      comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No data is exactly the failure this alarm exists for.
      missing: TreatMissingData.BREACHING,
    },
    clusterManagerErrors: {
      runbook: 'clusterManagerErrors',
      summary: 'Cluster manager runs failed in 3 of the last 5 minutes.',
      metric: i.clusterManager.metricErrors({ statistic: 'Sum', period: ONE_MINUTE }),
      threshold: 1,
      comparison: AT_LEAST,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
    },
    staleConfig: {
      runbook: 'staleConfig',
      summary:
        `Live instances have run another configuration version than the newest for ${staleRuns * i.clusterManagerScheduleMinutes} ` +
        'minutes, longer than a deployment and its bake take.',
      metric: clusterManagerMetric(METRICS.instancesOnStaleConfig, 'Maximum', run),
      threshold: 1,
      comparison: AT_LEAST,
      evaluationPeriods: staleRuns,
    },
    shedding: {
      runbook: 'shedding',
      summary:
        'Shedding is active: changes of low-priority tables are deferred to the parked table until it is lifted.',
      metric: clusterManagerMetric(METRICS.sheddingActive, 'Maximum', run),
      threshold: 1,
      comparison: AT_LEAST,
      evaluationPeriods: 1,
    },
  } satisfies Record<string, AlarmSpec>;
}

type ProcessorAlarms = {
  readonly [K in keyof (ReturnType<typeof consumerSpecs> &
    ReturnType<typeof storeSpecs> &
    ReturnType<typeof clusterSpecs>)]: Alarm;
};

/** `iteratorAge` → `IteratorAgeAlarm`: the construct id of an alarm. */
const alarmId = (name: string) => `${name[0]!.toUpperCase()}${name.slice(1)}Alarm`;

/**
 * Every alarm of the processor (docs/operations.md has a section for each), created in `scope`. Each
 * description says what firing means and ends with the link to its runbook section.
 */
function createAlarms(scope: Construct, inputs: AlarmInputs): ProcessorAlarms {
  const specs: Record<string, AlarmSpec> = {
    ...consumerSpecs(inputs),
    ...storeSpecs(inputs),
    ...clusterSpecs(inputs),
  };
  const alarms: Record<string, Alarm> = {};
  for (const [name, spec] of Object.entries(specs))
    alarms[name] = new Alarm(scope, alarmId(name), {
      alarmDescription: `${spec.summary} Runbook: ${runbookLink(inputs.runbookUrl, spec.runbook)}`,
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: spec.comparison,
      evaluationPeriods: spec.evaluationPeriods,
      datapointsToAlarm: spec.datapointsToAlarm ?? spec.evaluationPeriods,
      treatMissingData: spec.missing ?? TreatMissingData.NOT_BREACHING,
    });
  return alarms as unknown as ProcessorAlarms;
}

/**
 * The alarms a bad configuration trips, as one composite alarm: the AppConfig environment's monitor, so a
 * deployment rolls back by itself when any fires (docs/operations.md#configuration-rolled-back). Left out on
 * purpose: iterator age and latency, since the cluster manager deploys shedding through AppConfig exactly
 * when they fire; shedding itself; and the cluster manager's errors, whose function reads the environment's
 * id (its alarm in the monitor would close a dependency cycle). A composite also ignores members that have
 * no data yet, where AppConfig would roll back on a monitor in INSUFFICIENT_DATA.
 */
function configRollbackAlarm(scope: Construct, alarms: ProcessorAlarms, runbookUrl: string): CompositeAlarm {
  const members = [
    alarms.consumerErrors,
    alarms.parked,
    alarms.stateTableThrottles,
    alarms.coordinationTableThrottles,
  ];
  return new CompositeAlarm(scope, 'ConfigRollbackAlarm', {
    alarmDescription:
      'A configuration deployment tripped an alarm a bad configuration causes (consumer errors, changes ' +
      'parked, state or coordination table throttles); AppConfig rolls back a deployment in progress or ' +
      `baking when this fires. Runbook: ${runbookLink(runbookUrl, 'configRollback')}`,
    alarmRule: AlarmRule.anyOf(...members),
  });
}

export type { AlarmInputs, ProcessorAlarms };
export { configRollbackAlarm, createAlarms };
