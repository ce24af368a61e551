import { Duration } from 'aws-cdk-lib';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IMetric,
  LogQueryWidget,
  MathExpression,
  SingleValueWidget,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { METRICS } from '../core/constants.js';
import type { ConsumerMetrics } from './metrics.js';
import {
  clusterManagerMetric,
  consumerMetric,
  ONE_MINUTE,
  parkedForReview,
  perTableLatency,
  recordsGivenUp,
} from './metrics.js';

/** Titles of the dashboard's widgets: the runbook names them, and a test checks it names only these. */
const WIDGETS = {
  alarms: 'Alarms',
  throughput: 'Throughput: records in and changes out (per minute)',
  iteratorAge: 'Iterator age (ms)',
  latency: 'Source → applied and arrival → applied latency, all tables (ms)',
  latencyPerTable: 'Source → applied latency per table (ms)',
  errors: 'Errors and throttles',
  parked: 'Parked and quarantined',
  tables: 'DynamoDB throttle events',
  stateCache: 'Owner cache: hit ratio, conditional misses, warm-up reads',
  instances: 'Live instances',
  locks: 'Lock contention',
  leader: 'Leader term and heartbeat',
  config: 'Config version convergence',
  actions: 'Cluster manager actions and shedding',
  decisions: 'Cluster manager: last decisions',
} as const;

interface DashboardInputs {
  readonly stream: IStream;
  readonly consumer: ConsumerMetrics;
  readonly clusterManager: IFunction;
  readonly clusterManagerLogGroup: ILogGroup;
  readonly stateTable: ITable;
  readonly parkedTable: ITable;
  readonly coordinationTable: ITable;
  /** The consumer's event source mapping; absent with a fleet. */
  readonly eventSourceMappingId: string | undefined;
  readonly shardLevelMetrics: boolean;
  readonly iteratorAgeAlarmThresholdMs: number;
  readonly sourceLatencyAlarmThresholdMs: number;
  /** Shown in the alarm status widget, in this order. */
  readonly alarms: readonly IAlarm[];
}

function iteratorAgeWidget(i: DashboardInputs): GraphWidget {
  const metrics: IMetric[] = [
    i.consumer
      .metric('IteratorAge', { statistic: 'Maximum', period: ONE_MINUTE })
      .with({ label: 'consumer IteratorAge (max)' }),
    i.stream.metricGetRecordsIteratorAgeMilliseconds({
      statistic: 'Maximum',
      period: ONE_MINUTE,
      label: 'stream (max over shards)',
    }),
  ];
  if (i.shardLevelMetrics)
    metrics.push(
      new MathExpression({
        expression: `SEARCH('{AWS/Kinesis,ShardId,StreamName} MetricName="IteratorAgeMilliseconds" StreamName="${i.stream.streamName}"', 'Maximum', 60)`,
        label: '',
        period: ONE_MINUTE,
      }),
    );
  return new GraphWidget({
    title: WIDGETS.iteratorAge,
    width: 12,
    left: metrics,
    leftAnnotations: [{ value: i.iteratorAgeAlarmThresholdMs, label: 'alarm' }],
  });
}

/** How far behind the source: p50, p99 and max of both latencies, then per table. */
function latencyWidgets(i: DashboardInputs): GraphWidget[] {
  const { sourceToAppliedLatency: source, arrivalToAppliedLatency: arrival } = METRICS;
  const stats = [
    ['p50', 'p50'],
    ['p99', 'p99'],
    ['Maximum', 'max'],
  ] as const;
  return [
    new GraphWidget({
      title: WIDGETS.latency,
      width: 12,
      left: stats.map(([stat, label]) =>
        consumerMetric(source, stat).with({ label: `source → applied ${label}` }),
      ),
      right: stats.map(([stat, label]) =>
        consumerMetric(arrival, stat).with({ label: `arrival → applied ${label}` }),
      ),
      leftAnnotations: [{ value: i.sourceLatencyAlarmThresholdMs, label: 'alarm (p99)' }],
    }),
    new GraphWidget({
      title: WIDGETS.latencyPerTable,
      width: 12,
      left: stats.map(([stat, label]) => perTableLatency(source, stat, `\${PROP('Dim.Table')} ${label}`)),
    }),
  ];
}

function errorsWidget(i: DashboardInputs): GraphWidget {
  return new GraphWidget({
    title: WIDGETS.errors,
    width: 12,
    left: [
      i.consumer.metricErrors({ statistic: 'Sum', period: ONE_MINUTE, label: 'consumer errors' }),
      i.consumer.metricThrottles({ statistic: 'Sum', period: ONE_MINUTE, label: 'consumer throttles' }),
      i.clusterManager.metricErrors({
        statistic: 'Sum',
        period: ONE_MINUTE,
        label: 'cluster manager errors',
      }),
      consumerMetric(METRICS.aggregateFailures).with({ label: 'aggregate failures (retried)' }),
    ],
    right: [
      i.stream.metricPutRecordsThrottledRecords({
        statistic: 'Sum',
        period: ONE_MINUTE,
        label: 'put throttled',
      }),
      i.stream.metricWriteProvisionedThroughputExceeded({
        statistic: 'Sum',
        period: ONE_MINUTE,
        label: 'write throttled (WriteProvisionedThroughputExceeded)',
      }),
      i.stream.metricReadProvisionedThroughputExceeded({
        statistic: 'Sum',
        period: ONE_MINUTE,
        label: 'read throttled',
      }),
    ],
  });
}

function parkedWidget(i: DashboardInputs): GraphWidget {
  return new GraphWidget({
    title: WIDGETS.parked,
    width: 12,
    left: [
      consumerMetric(METRICS.changesParked).with({ label: 'changes parked' }),
      parkedForReview(ONE_MINUTE),
      consumerMetric(METRICS.changesDeferred).with({ label: 'of which deferred (paused or shed)' }),
      consumerMetric(METRICS.badInput).with({ label: 'of which bad input' }),
      consumerMetric(METRICS.aggregatesQuarantined).with({ label: 'aggregates quarantined' }),
      clusterManagerMetric(METRICS.quarantinedAggregates, 'Maximum').with({
        label: 'aggregates quarantined now',
      }),
      clusterManagerMetric(METRICS.deferredReplayed).with({
        label: 'deferred changes replayed by the sweep',
      }),
      clusterManagerMetric(METRICS.deferredRemaining, 'Maximum').with({
        label: 'deferred changes the sweep left parked',
      }),
    ],
    right: [
      ...(i.eventSourceMappingId === undefined
        ? []
        : [
            recordsGivenUp(i.consumer, i.eventSourceMappingId, ONE_MINUTE).with({
              label: 'records given up (kept in the failed-batches bucket)',
            }),
          ]),
    ],
  });
}

function tablesWidget(i: DashboardInputs): GraphWidget {
  const tables: [string, ITable][] = [
    ['state', i.stateTable],
    ['parked', i.parkedTable],
    ['coordination', i.coordinationTable],
  ];
  return new GraphWidget({
    title: WIDGETS.tables,
    width: 12,
    left: tables.flatMap(([name, table]) => [
      table.metric('ReadThrottleEvents', { statistic: 'Sum', period: ONE_MINUTE, label: `${name} reads` }),
      table.metric('WriteThrottleEvents', { statistic: 'Sum', period: ONE_MINUTE, label: `${name} writes` }),
    ]),
  });
}

/**
 * The consumers' owner cache (projections that read the previous state): the share of aggregates served
 * without a read, and what it cost: writes that lost their condition behind a stale entry, warm-up reads.
 */
function stateCacheWidget(): GraphWidget {
  return new GraphWidget({
    title: WIDGETS.stateCache,
    width: 12,
    left: [
      new MathExpression({
        expression: 'IF(hits + misses > 0, hits / (hits + misses), 1)',
        usingMetrics: {
          hits: consumerMetric(METRICS.stateCacheHits),
          misses: consumerMetric(METRICS.stateCacheMisses),
        },
        label: 'hit ratio',
        period: ONE_MINUTE,
      }),
    ],
    leftYAxis: { min: 0, max: 1 },
    right: [
      consumerMetric(METRICS.stateCacheConditionalMisses).with({ label: 'writes that lost their condition' }),
      consumerMetric(METRICS.stateCacheWarmupReads).with({ label: 'warm-up reads' }),
      consumerMetric(METRICS.stateCacheEvictions).with({ label: 'evictions (cache.maxBytes)' }),
    ],
  });
}

/** Instances, locks, leadership and configuration: one row. */
function clusterWidgets() {
  return [
    new GraphWidget({
      title: WIDGETS.instances,
      width: 6,
      left: [clusterManagerMetric(METRICS.liveInstances, 'Maximum').with({ label: 'live instances' })],
      right: [
        consumerMetric(METRICS.instanceHeartbeatFailures).with({
          label: 'consumer registrations or heartbeats failed',
        }),
      ],
    }),
    new GraphWidget({
      title: WIDGETS.locks,
      width: 6,
      left: [consumerMetric(METRICS.lockContention).with({ label: 'acquisitions that found the lock held' })],
      right: [consumerMetric(METRICS.lockWaitTime, 'p99').with({ label: 'p99 wait for a lock set (ms)' })],
    }),
    new SingleValueWidget({
      title: WIDGETS.leader,
      width: 6,
      metrics: [
        clusterManagerMetric(METRICS.leaderTerm, 'Maximum').with({ label: 'leader term' }),
        clusterManagerMetric(METRICS.clusterManagerHeartbeat, 'Sum', Duration.minutes(5)).with({
          label: 'leader runs (5 min)',
        }),
      ],
    }),
    new GraphWidget({
      title: WIDGETS.config,
      width: 6,
      left: [
        clusterManagerMetric(METRICS.instancesOnStaleConfig, 'Maximum').with({
          label: 'instances on an older config',
        }),
        consumerMetric(METRICS.configFetchFailures).with({ label: 'fetch failures (kept last good)' }),
        consumerMetric(METRICS.configInvalid).with({ label: 'invalid configs refused' }),
      ],
      right: [
        consumerMetric(METRICS.configApplyLatency, 'Maximum').with({ label: 'publish → applied (ms, max)' }),
      ],
    }),
  ];
}

/** What the cluster manager did: its actions, shedding, and its last decisions from its log. */
function managerWidgets(i: DashboardInputs) {
  return [
    new GraphWidget({
      title: WIDGETS.actions,
      width: 8,
      left: [clusterManagerMetric(METRICS.scalingActions).with({ label: 'scaling actions' })],
      right: [clusterManagerMetric(METRICS.sheddingActive, 'Maximum').with({ label: 'shedding active (1)' })],
    }),
    new LogQueryWidget({
      title: WIDGETS.decisions,
      width: 16,
      logGroupNames: [i.clusterManagerLogGroup.logGroupName],
      queryLines: [
        'fields @timestamp, message, leader, term',
        'filter ispresent(term) or ispresent(decision)',
        'sort @timestamp desc',
        'limit 20',
      ],
    }),
  ];
}

/** The processor's dashboard: alarms first, then throughput and lag, failures, stores, the cluster. */
function createDashboard(scope: Construct, i: DashboardInputs): Dashboard {
  const dashboard = new Dashboard(scope, 'Dashboard', { defaultInterval: Duration.hours(3) });
  dashboard.addWidgets(
    new TextWidget({
      markdown:
        '## CDC event processor\nStream → consumer → per-aggregate state. Each alarm names its runbook section ' +
        '(docs/operations.md); parked changes: `cdcp parked list`; instances and leases: `cdcp status`.',
      width: 24,
      height: 2,
    }),
  );
  dashboard.addWidgets(
    new AlarmStatusWidget({ title: WIDGETS.alarms, alarms: [...i.alarms], width: 24, height: 4 }),
  );
  dashboard.addWidgets(
    new GraphWidget({
      title: WIDGETS.throughput,
      width: 12,
      left: [
        i.stream.metricIncomingRecords({
          statistic: 'Sum',
          period: ONE_MINUTE,
          label: 'records into the stream',
        }),
        consumerMetric(METRICS.recordsReceived).with({ label: 'records received by consumers' }),
        consumerMetric(METRICS.changesApplied).with({ label: 'changes applied' }),
        consumerMetric(METRICS.duplicatesSkipped).with({ label: 'duplicates skipped' }),
      ],
      right: [consumerMetric(METRICS.stateWrites).with({ label: 'state writes' })],
    }),
    iteratorAgeWidget(i),
  );
  dashboard.addWidgets(...latencyWidgets(i));
  dashboard.addWidgets(errorsWidget(i), parkedWidget(i));
  dashboard.addWidgets(tablesWidget(i), stateCacheWidget());
  dashboard.addWidgets(...clusterWidgets());
  dashboard.addWidgets(...managerWidgets(i));
  return dashboard;
}

export type { DashboardInputs };
export { createDashboard, WIDGETS };
