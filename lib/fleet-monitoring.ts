import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  type Dashboard,
  GraphWidget,
  type IMetric,
  LogQueryWidget,
  MathExpression,
  Metric,
  type MetricOptions,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import { FilterPattern, type IFilterPattern, type ILogGroup, MetricFilter } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { METRICS } from '../core/constants.js';
import type { WorkerService } from './worker-service.js';

/**
 * The sections of the runbook (docs/operations.md) the fleet's alarms name, by anchor. Each alarm's description
 * ends with `Runbook: <runbookUrl>#<anchor>`.
 */
const FLEET_RUNBOOK = {
  workersMissing: 'workers-missing',
  heartbeatsLate: 'worker-heartbeats-late',
  takeOvers: 'leases-taken-over',
  cpu: 'workers-at-their-cpu-limit',
  memory: 'worker-memory-high',
} as const;

/** Where the runbook is unless told otherwise: its path in this package. */
const DEFAULT_RUNBOOK_URL = 'docs/operations.md';

/** The fleet's dashboard widgets, by title (the runbook names them). */
const FLEET_WIDGETS = {
  alarms: 'Fleet alarms',
  workers: 'Workers',
  leases: 'Leases per worker',
  moves: 'Lease moves and failovers',
  heartbeatAge: 'Heartbeat age (ms, oldest live worker)',
  cpuMemory: 'Worker CPU and memory (% of the task)',
  leaseEvents: 'Workers: last lease events',
} as const;

interface FleetMonitoringProps {
  readonly workers: WorkerService;
  readonly stream: IStream;
  readonly alarmTopic: ITopic;
  /**
   * How often a worker at rest writes its report to the instance registry, whose age the cluster manager
   * publishes as `WorkerHeartbeatAge` (its liveness is its membership heartbeat, which the registry does not see).
   */
  readonly reportIntervalMs: number;
  /** Where the alarm descriptions' runbook links point. @default 'docs/operations.md' */
  readonly runbookUrl?: string;
}

const ONE_MINUTE = Duration.minutes(1);

/** A metric the cluster manager publishes about the fleet. */
function fleetMetric(metricName: string, statistic = 'Maximum'): Metric {
  return new Metric({
    namespace: METRICS.namespace,
    metricName,
    dimensionsMap: { service: METRICS.clusterManagerService },
    statistic,
    period: ONE_MINUTE,
  });
}

/** Lease events and errors, counted from the workers' own JSON log lines (one line per event). */
const LOG_COUNTS: readonly { id: string; metricName: string; pattern: IFilterPattern }[] = [
  {
    id: 'HandOffs',
    metricName: METRICS.leaseHandOffs,
    pattern: FilterPattern.stringValue('$.message', '=', 'worker handed-off'),
  },
  {
    id: 'TakeOvers',
    metricName: METRICS.leaseTakeOvers,
    pattern: FilterPattern.all(
      FilterPattern.stringValue('$.message', '=', 'worker assigned'),
      FilterPattern.stringValue('$.how', '=', 'take-over'),
    ),
  },
  {
    id: 'Lost',
    metricName: METRICS.leasesLost,
    pattern: FilterPattern.stringValue('$.message', '=', 'worker lost'),
  },
  {
    id: 'Errors',
    metricName: METRICS.workerErrors,
    pattern: FilterPattern.stringValue('$.level', '=', 'ERROR'),
  },
];

/**
 * The worker fleet's dashboard row and alarms (docs/deploy.md): live and desired workers, leases per worker,
 * lease moves and failovers (from the workers' log lines), heartbeat age, and the tasks' CPU and memory (ECS
 * service metrics). It also gives the processor's monitoring the fleet's figures where the Lambda consumer's
 * would be ({@link consumerMetrics}): iterator age, errors, read throttles.
 */
class FleetMonitoring extends Construct {
  public readonly workersMissingAlarm: Alarm;
  public readonly heartbeatAgeAlarm: Alarm;
  public readonly takeOversAlarm: Alarm;
  public readonly cpuAlarm: Alarm;
  public readonly memoryAlarm: Alarm;
  public readonly alarms: readonly Alarm[];
  readonly #props: FleetMonitoringProps;
  readonly #runbookUrl: string;

  public constructor(scope: Construct, id: string, props: FleetMonitoringProps) {
    super(scope, id);
    this.#props = props;
    this.#runbookUrl = props.runbookUrl ?? DEFAULT_RUNBOOK_URL;
    for (const count of LOG_COUNTS)
      new MetricFilter(this, count.id, {
        logGroup: props.workers.logGroup as ILogGroup,
        filterPattern: count.pattern,
        metricNamespace: METRICS.namespace,
        metricName: count.metricName,
        metricValue: '1',
        defaultValue: 0,
      });
    this.workersMissingAlarm = new Alarm(this, 'WorkersMissingAlarm', {
      alarmDescription:
        'Fewer live workers than the service asks for, for 5 minutes: tasks fail to start or to stay healthy ' +
        '(image, permissions, health check), or their heartbeats do not reach the coordination table. ' +
        `${this.#runbook('workersMissing')}`,
      metric: new MathExpression({
        expression: 'desired - live',
        usingMetrics: {
          desired: fleetMetric(METRICS.desiredWorkers),
          live: fleetMetric(METRICS.liveWorkers),
        },
        label: 'workers missing',
        period: ONE_MINUTE,
      }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.heartbeatAgeAlarm = new Alarm(this, 'HeartbeatAgeAlarm', {
      alarmDescription:
        "A live worker's last report to the instance registry is older than two report intervals in 3 minutes " +
        'running: a starved task or throttled coordination writes (its leases go at the failure-detection window). ' +
        `${this.#runbook('heartbeatsLate')}`,
      metric: fleetMetric(METRICS.workerHeartbeatAge),
      threshold: 2 * props.reportIntervalMs,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.takeOversAlarm = new Alarm(this, 'TakeOversAlarm', {
      alarmDescription:
        'Shard leases were taken over from a worker presumed dead (a failover) in the last 5 minutes: a task ' +
        'crashed, was killed (out of memory, or SIGKILL before its hand-off finished) or lost its network. Its ' +
        `shards were idle for a failure-detection window. ${this.#runbook('takeOvers')}`,
      metric: this.metricTakeOvers({ period: Duration.minutes(5) }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.cpuAlarm = new Alarm(this, 'CpuAlarm', {
      alarmDescription:
        'The busiest worker task used over 90% of its CPU for 15 minutes: the fleet is at maxWorkers, or a ' +
        `worker is alone on a hot shard. ${this.#runbook('cpu')}`,
      metric: props.workers.service.metricCpuUtilization({ statistic: 'Maximum', period: ONE_MINUTE }),
      threshold: 90,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 15,
      datapointsToAlarm: 15,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.memoryAlarm = new Alarm(this, 'MemoryAlarm', {
      alarmDescription:
        'A worker task used over 85% of its memory for 5 minutes: out-of-memory kills (and failovers) follow. ' +
        `${this.#runbook('memory')}`,
      metric: props.workers.service.metricMemoryUtilization({ statistic: 'Maximum', period: ONE_MINUTE }),
      threshold: 85,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.alarms = [
      this.workersMissingAlarm,
      this.heartbeatAgeAlarm,
      this.takeOversAlarm,
      this.cpuAlarm,
      this.memoryAlarm,
    ];
    const action = new SnsAction(props.alarmTopic);
    for (const alarm of this.alarms) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
  }

  /** Leases handed off between live workers (moves by the assigner, and leavers' releases are not counted). */
  public metricHandOffs(props?: MetricOptions): IMetric {
    return this.#logCount(METRICS.leaseHandOffs, props);
  }

  /** Leases taken over from workers presumed dead: failovers. */
  public metricTakeOvers(props?: MetricOptions): IMetric {
    return this.#logCount(METRICS.leaseTakeOvers, props);
  }

  /**
   * The fleet's figures where the processor's monitoring reads the Lambda consumer's: its iterator age (the
   * stream's GetRecords iterator age, or the fan-out consumer's MillisBehindLatest), its errors (ERROR lines of
   * the workers) and its throttles (reads the stream refused).
   */
  public get consumerMetrics() {
    const { stream, workers } = this.#props;
    const consumerName = workers.fanOutConsumer?.streamConsumerName;
    return {
      metric: (metricName: string, props?: MetricOptions): Metric => {
        if (metricName !== 'IteratorAge')
          throw new Error(`the worker fleet has no figure for the Lambda metric ${metricName}`);
        return consumerName === undefined
          ? stream.metricGetRecordsIteratorAgeMilliseconds({ statistic: 'Maximum', ...props })
          : new Metric({
              namespace: 'AWS/Kinesis',
              metricName: 'SubscribeToShardEvent.MillisBehindLatest',
              dimensionsMap: { StreamName: stream.streamName, ConsumerName: consumerName },
              statistic: 'Maximum',
              ...props,
            });
      },
      metricErrors: (props?: MetricOptions): Metric => this.#logCount(METRICS.workerErrors, props),
      metricThrottles: (props?: MetricOptions): Metric =>
        stream.metricReadProvisionedThroughputExceeded({ statistic: 'Sum', ...props }),
    };
  }

  /** Adds the fleet's row to a dashboard. */
  public addToDashboard(dashboard: Dashboard): void {
    const { workers } = this.#props;
    dashboard.addWidgets(
      new TextWidget({
        markdown:
          '### Worker fleet\n`cdcp worker` tasks on ECS Fargate divide the shards through leases; the cluster ' +
          'manager sets their number. Which worker holds what: `cdcp status --stack`.',
        width: 18,
        height: 2,
      }),
      new AlarmStatusWidget({ title: FLEET_WIDGETS.alarms, alarms: [...this.alarms], width: 6, height: 2 }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: FLEET_WIDGETS.workers,
        width: 6,
        left: [
          fleetMetric(METRICS.liveWorkers).with({ label: 'live' }),
          fleetMetric(METRICS.desiredWorkers).with({ label: 'desired' }),
          fleetMetric(METRICS.idleWorkers).with({ label: 'without a shard' }),
        ],
      }),
      new GraphWidget({
        title: FLEET_WIDGETS.leases,
        width: 6,
        left: [
          fleetMetric(METRICS.maxLeasesPerWorker).with({ label: 'most' }),
          fleetMetric(METRICS.minLeasesPerWorker).with({ label: 'fewest' }),
        ],
      }),
      new GraphWidget({
        title: FLEET_WIDGETS.moves,
        width: 6,
        left: [
          this.metricHandOffs({ label: 'handed off' }),
          this.metricTakeOvers({ label: 'taken over (failovers)' }),
          this.#logCount(METRICS.leasesLost, { label: 'lost by their holder' }),
        ],
      }),
      new GraphWidget({
        title: FLEET_WIDGETS.heartbeatAge,
        width: 6,
        left: [fleetMetric(METRICS.workerHeartbeatAge).with({ label: 'heartbeat age' })],
        leftAnnotations: [{ value: 2 * this.#props.reportIntervalMs, label: 'reports late' }],
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: FLEET_WIDGETS.cpuMemory,
        width: 12,
        left: [
          workers.service.metricCpuUtilization({
            statistic: 'Maximum',
            period: ONE_MINUTE,
            label: 'CPU (max)',
          }),
          workers.service.metricCpuUtilization({
            statistic: 'Average',
            period: ONE_MINUTE,
            label: 'CPU (mean)',
          }),
          workers.service.metricMemoryUtilization({
            statistic: 'Maximum',
            period: ONE_MINUTE,
            label: 'memory (max)',
          }),
        ],
        leftAnnotations: [{ value: 90, label: 'CPU alarm' }],
      }),
      new LogQueryWidget({
        title: FLEET_WIDGETS.leaseEvents,
        width: 12,
        logGroupNames: [workers.logGroup.logGroupName],
        queryLines: [
          'fields @timestamp, instanceId, message, shardId, to, how',
          'filter message like /^worker (handed-off|assigned|lost|released|leader|started|stopped)/',
          'sort @timestamp desc',
          'limit 20',
        ],
      }),
    );
  }

  /** `Runbook: <url>#<anchor>`: the end of an alarm description. */
  #runbook(section: keyof typeof FLEET_RUNBOOK): string {
    return `Runbook: ${this.#runbookUrl}#${FLEET_RUNBOOK[section]}`;
  }

  #logCount(metricName: string, props?: MetricOptions): Metric {
    return new Metric({
      namespace: METRICS.namespace,
      metricName,
      statistic: 'Sum',
      period: ONE_MINUTE,
      ...props,
    });
  }
}

export type { FleetMonitoringProps };
export { DEFAULT_RUNBOOK_URL, FLEET_RUNBOOK, FLEET_WIDGETS, FleetMonitoring };
