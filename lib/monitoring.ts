import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  LogQueryWidget,
  MathExpression,
  Metric,
  SingleValueWidget,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS } from '../core/constants.js';

/** The consumer's figures the monitoring reads: a Lambda function's, or a worker fleet's in their place. */
type ConsumerMetrics = Pick<IFunction, 'metric' | 'metricErrors' | 'metricThrottles'>;

interface MonitoringProps {
  readonly stream: IStream;
  readonly consumer: ConsumerMetrics;
  readonly clusterManager: IFunction;
  readonly clusterManagerLogGroup: ILogGroup;
  readonly failureQueue: IQueue;
  readonly alarmTopic: ITopic;
  /** Create the dashboard (the alarms are created either way). */
  readonly dashboard: boolean;
  readonly shardLevelMetrics: boolean;
  readonly iteratorAgeAlarmThresholdMs: number;
  readonly consumerErrorsAlarmThreshold: number;
  readonly parkedAlarmThreshold: number;
  readonly clusterManagerHeartbeatAlarmMinutes: number;
}

const ONE_MINUTE = Duration.minutes(1);

/** A metric the consumer publishes (Powertools EMF: namespace + `service` dimension). */
function consumerMetric(metricName: string, statistic = 'Sum', period = ONE_MINUTE): Metric {
  return new Metric({
    namespace: METRICS.namespace,
    metricName,
    dimensionsMap: { service: METRICS.service },
    statistic,
    period,
  });
}

/** A metric the cluster manager publishes. */
function clusterManagerMetric(metricName: string, statistic = 'Sum', period = ONE_MINUTE): Metric {
  return new Metric({
    namespace: METRICS.namespace,
    metricName,
    dimensionsMap: { service: METRICS.clusterManagerService },
    statistic,
    period,
  });
}

/**
 * The dashboard (docs/architecture.md §11) and the alarms that page someone. Metric names are the constants the
 * runtime publishes with, so a renamed metric cannot leave a silent widget behind.
 */
class Monitoring extends Construct {
  /** Undefined when the construct was asked for no dashboard. */
  public readonly dashboard: Dashboard | undefined;
  public readonly iteratorAgeAlarm: Alarm;
  public readonly consumerErrorsAlarm: Alarm;
  public readonly parkedAlarm: Alarm;
  public readonly clusterManagerHeartbeatAlarm: Alarm;
  public readonly failedBatchesAlarm: Alarm;

  public constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { consumer } = props;
    const consumerIteratorAge = consumer.metric('IteratorAge', { statistic: 'Maximum', period: ONE_MINUTE });

    this.iteratorAgeAlarm = new Alarm(this, 'IteratorAgeAlarm', {
      alarmDescription:
        'The consumer is falling behind the stream: its oldest record waited longer than the threshold for ' +
        '5 minutes. Look at consumer errors and throttles, then at the hottest shard.',
      metric: consumerIteratorAge,
      threshold: props.iteratorAgeAlarmThresholdMs,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.consumerErrorsAlarm = new Alarm(this, 'ConsumerErrorsAlarm', {
      alarmDescription:
        'Consumer invocations are failing as a whole (timeouts, crashes, init errors), in 3 of the last 5 ' +
        'minutes. Per-aggregate failures do not count here: the handler reports those as batch item failures.',
      metric: consumer.metricErrors({ statistic: 'Sum', period: ONE_MINUTE }),
      threshold: props.consumerErrorsAlarmThreshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.parkedAlarm = new Alarm(this, 'ParkedAlarm', {
      alarmDescription:
        'Changes were parked (poison changes after their attempts, or bad input) in the last 5 minutes. ' +
        'Their aggregates wait for an operator: `cdcp parked list`, fix, `cdcp parked replay`.',
      metric: consumerMetric(METRICS.changesParked, 'Sum', Duration.minutes(5)),
      threshold: props.parkedAlarmThreshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.clusterManagerHeartbeatAlarm = new Alarm(this, 'ClusterManagerHeartbeatAlarm', {
      alarmDescription:
        'No cluster manager run held the leadership for the whole period: nothing resizes the stream or ' +
        'tunes the consumers. Look at the cluster manager log group and the LEADER item of the coordination table.',
      metric: clusterManagerMetric(
        METRICS.clusterManagerHeartbeat,
        'Sum',
        Duration.minutes(props.clusterManagerHeartbeatAlarmMinutes),
      ),
      threshold: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No data is exactly the failure this alarm exists for.
      treatMissingData: TreatMissingData.BREACHING,
    });
    this.failedBatchesAlarm = new Alarm(this, 'FailedBatchesAlarm', {
      alarmDescription:
        'Lambda gave up on a batch (retries or record age exhausted) and the shard moved past it. Read the ' +
        'description in the failure queue and re-read that sequence range from the stream before it expires.',
      metric: props.failureQueue.metricApproximateNumberOfMessagesVisible({
        statistic: 'Maximum',
        period: Duration.minutes(5),
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const alarms = [
      this.iteratorAgeAlarm,
      this.consumerErrorsAlarm,
      this.parkedAlarm,
      this.clusterManagerHeartbeatAlarm,
      this.failedBatchesAlarm,
    ];
    const action = new SnsAction(props.alarmTopic);
    for (const alarm of alarms) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }

    this.dashboard = props.dashboard ? this.#createDashboard(props, alarms, consumerIteratorAge) : undefined;
  }

  #createDashboard(props: MonitoringProps, alarms: readonly Alarm[], consumerIteratorAge: Metric): Dashboard {
    const { stream, consumer, clusterManager } = props;
    const iteratorAgeMetrics: IMetric[] = [
      consumerIteratorAge.with({ label: 'consumer IteratorAge (max)' }),
      stream.metricGetRecordsIteratorAgeMilliseconds({
        statistic: 'Maximum',
        period: ONE_MINUTE,
        label: 'stream (max over shards)',
      }),
    ];
    if (props.shardLevelMetrics)
      iteratorAgeMetrics.push(
        new MathExpression({
          expression: `SEARCH('{AWS/Kinesis,ShardId,StreamName} MetricName="IteratorAgeMilliseconds" StreamName="${stream.streamName}"', 'Maximum', 60)`,
          label: '',
          period: ONE_MINUTE,
        }),
      );

    const dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    dashboard.addWidgets(
      new TextWidget({
        markdown:
          '## CDC event processor\nStream → consumer → per-aggregate state. Parked changes: `cdcp parked list`; ' +
          'the cluster manager resizes the stream and tunes the consumers while it holds the leadership.',
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: [...alarms], width: 24, height: 3 }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Throughput: records in and changes out (per minute)',
        width: 12,
        left: [
          stream.metricIncomingRecords({
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
      new GraphWidget({
        title: 'Iterator age (ms)',
        width: 12,
        left: iteratorAgeMetrics,
        leftAnnotations: [{ value: props.iteratorAgeAlarmThresholdMs, label: 'alarm' }],
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Errors and throttles',
        width: 12,
        left: [
          consumer.metricErrors({ statistic: 'Sum', period: ONE_MINUTE, label: 'consumer errors' }),
          consumer.metricThrottles({ statistic: 'Sum', period: ONE_MINUTE, label: 'consumer throttles' }),
          clusterManager.metricErrors({
            statistic: 'Sum',
            period: ONE_MINUTE,
            label: 'cluster manager errors',
          }),
          consumerMetric(METRICS.aggregateFailures).with({ label: 'aggregate failures (retried)' }),
        ],
        right: [
          stream.metricPutRecordsThrottledRecords({
            statistic: 'Sum',
            period: ONE_MINUTE,
            label: 'put throttled',
          }),
          stream.metricReadProvisionedThroughputExceeded({
            statistic: 'Sum',
            period: ONE_MINUTE,
            label: 'read throttled',
          }),
        ],
      }),
      new GraphWidget({
        title: 'Parked and quarantined',
        width: 12,
        left: [
          consumerMetric(METRICS.changesParked).with({ label: 'changes parked' }),
          consumerMetric(METRICS.badInput).with({ label: 'of which bad input' }),
          consumerMetric(METRICS.aggregatesQuarantined).with({ label: 'aggregates quarantined' }),
          clusterManagerMetric(METRICS.deferredReplayed).with({
            label: 'deferred changes replayed by the sweep',
          }),
          clusterManagerMetric(METRICS.deferredRemaining, 'Maximum').with({
            label: 'deferred changes the sweep left parked',
          }),
        ],
        right: [
          props.failureQueue.metricApproximateNumberOfMessagesVisible({
            statistic: 'Maximum',
            period: ONE_MINUTE,
            label: 'batches given up (failure queue)',
          }),
        ],
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Live instances',
        width: 6,
        left: [clusterManagerMetric(METRICS.liveInstances, 'Maximum').with({ label: 'live instances' })],
        right: [
          consumerMetric(METRICS.instanceHeartbeatFailures).with({
            label: 'consumer registrations or heartbeats failed',
          }),
        ],
      }),
      new GraphWidget({
        title: 'Lock contention',
        width: 6,
        left: [
          consumerMetric(METRICS.lockContention).with({ label: 'acquisitions that found the lock held' }),
        ],
      }),
      new SingleValueWidget({
        title: 'Leader term and heartbeat',
        width: 6,
        metrics: [
          clusterManagerMetric(METRICS.leaderTerm, 'Maximum').with({ label: 'leader term' }),
          clusterManagerMetric(METRICS.clusterManagerHeartbeat, 'Sum', Duration.minutes(5)).with({
            label: 'leader runs (5 min)',
          }),
        ],
      }),
      new GraphWidget({
        title: 'Config version convergence',
        width: 6,
        left: [
          clusterManagerMetric(METRICS.instancesOnStaleConfig, 'Maximum').with({
            label: 'instances on an older config',
          }),
          consumerMetric(METRICS.configFetchFailures).with({ label: 'fetch failures (kept last good)' }),
          consumerMetric(METRICS.configInvalid).with({ label: 'invalid configs refused' }),
        ],
        right: [
          consumerMetric(METRICS.configApplyLatency, 'Maximum').with({
            label: 'publish → applied (ms, max)',
          }),
        ],
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Cluster manager actions',
        width: 8,
        left: [clusterManagerMetric(METRICS.scalingActions).with({ label: 'scaling actions' })],
      }),
      new LogQueryWidget({
        title: 'Cluster manager: last decisions',
        width: 16,
        logGroupNames: [props.clusterManagerLogGroup.logGroupName],
        queryLines: [
          'fields @timestamp, message, leader, term',
          'filter ispresent(term) or ispresent(decision)',
          'sort @timestamp desc',
          'limit 20',
        ],
      }),
    );
    return dashboard;
  }
}

export type { ConsumerMetrics, MonitoringProps };
export { clusterManagerMetric, consumerMetric, Monitoring };
