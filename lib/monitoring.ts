import type { Alarm, CompositeAlarm, Dashboard } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { type AlarmInputs, configRollbackAlarm, createAlarms, type ProcessorAlarms } from './alarms.js';
import { createDashboard } from './dashboard.js';
import { type ConsumerMetrics, clusterManagerMetric, consumerMetric } from './metrics.js';

interface MonitoringProps extends AlarmInputs {
  readonly clusterManagerLogGroup: ILogGroup;
  readonly alarmTopic: ITopic;
  /** Create the dashboard (the alarms are created either way). */
  readonly dashboard: boolean;
  readonly shardLevelMetrics: boolean;
}

/**
 * The alarms that page someone, one for every failure mode, each naming its section of the runbook
 * (docs/operations.md), and the dashboard (docs/architecture.md §11) that shows what they watch. Metric names
 * are the constants the runtime publishes with, so a renamed metric cannot leave a silent widget behind.
 */
class Monitoring extends Construct {
  /** Undefined when the construct was asked for no dashboard. */
  public readonly dashboard: Dashboard | undefined;
  /** Every alarm by name; each notifies the topic on ALARM and on OK. */
  public readonly alarms: ProcessorAlarms;
  /** Any of the alarms a bad configuration trips: the AppConfig environment's rollback monitor. */
  public readonly configRollbackAlarm: CompositeAlarm;
  public readonly iteratorAgeAlarm: Alarm;
  public readonly consumerErrorsAlarm: Alarm;
  public readonly parkedAlarm: Alarm;
  public readonly clusterManagerHeartbeatAlarm: Alarm;
  /** Records Lambda's mapping gave up on; undefined with a worker fleet, which parks them itself. */
  public readonly failedBatchesAlarm: Alarm | undefined;

  public constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.alarms = createAlarms(this, props);
    this.iteratorAgeAlarm = this.alarms.iteratorAge;
    this.consumerErrorsAlarm = this.alarms.consumerErrors;
    this.parkedAlarm = this.alarms.parked;
    this.clusterManagerHeartbeatAlarm = this.alarms.clusterManagerHeartbeat;
    this.failedBatchesAlarm = this.alarms.failedBatches;
    const action = new SnsAction(props.alarmTopic);
    for (const alarm of Object.values(this.alarms)) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    // The composite notifies no one: its members already did. It exists for AppConfig's rollback.
    this.configRollbackAlarm = configRollbackAlarm(this, this.alarms, props.runbookUrl);
    this.dashboard = props.dashboard
      ? createDashboard(this, {
          ...props,
          alarms: [...Object.values(this.alarms), this.configRollbackAlarm],
        })
      : undefined;
  }
}

export type { ConsumerMetrics, MonitoringProps };
export { clusterManagerMetric, consumerMetric, Monitoring };
