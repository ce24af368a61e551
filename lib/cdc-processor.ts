import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { ShardLevelMetrics, Stream, StreamEncryption, StreamMode } from 'aws-cdk-lib/aws-kinesis';
import { CfnEventSourceMapping, StartingPosition as LambdaStartingPosition } from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ENV } from '../core/constants.js';
import { INSTANCE_PK } from '../core/coordination/keys.js';
import {
  CONFIG_DEPLOY_ACTIONS,
  CONFIG_PUBLISH_ACTIONS,
  CONFIG_READ_ACTIONS,
  INSTANCE_REGISTER_ACTIONS,
  KEY_ENCRYPT_ACTIONS,
  MAPPING_TUNE_ACTIONS,
  METRIC_READ_ACTIONS,
  STREAM_DESCRIBE_ACTIONS,
  STREAM_PUBLISH_ACTIONS,
  STREAM_RESHARD_ACTIONS,
  TABLE_READ_ACTIONS,
  TABLE_SCAN_ACTIONS,
  TABLE_WRITE_ACTIONS,
} from './actions.js';
import { FailureQueue } from './failure-queue.js';
import { ProcessorFunction } from './function-defaults.js';
import { Monitoring } from './monitoring.js';
import { ProcessorConfig } from './processor-config.js';
import { type CdcProcessorProps, resolveProps } from './props.js';
import { processorTable } from './tables.js';

/**
 * The whole CDC event processor (docs/architecture.md §2): a provisioned, encrypted Kinesis stream; the
 * state, parked and coordination tables; the consumer function on the stream with partial batch responses
 * and an on-failure queue; the leader-elected cluster manager on a schedule; the AppConfig profile validated
 * by the config schema; and the dashboard and alarms.
 *
 * @example
 * ```ts
 * const processor = new CdcProcessor(this, 'Processor', { shardCount: 4, parallelizationFactor: 2 });
 * processor.grantPublish(debeziumServerRole);
 * ```
 */
class CdcProcessor extends Construct {
  public readonly stream: Stream;
  public readonly stateTable: Table;
  public readonly parkedTable: Table;
  public readonly coordinationTable: Table;
  public readonly consumer: ProcessorFunction;
  public readonly eventSource: KinesisEventSource;
  public readonly failureQueue: FailureQueue;
  public readonly clusterManager: ProcessorFunction;
  public readonly clusterManagerSchedule: Rule;
  public readonly config: ProcessorConfig;
  public readonly alarmTopic: ITopic;
  public readonly monitoring: Monitoring;

  public constructor(scope: Construct, id: string, props: CdcProcessorProps = {}) {
    super(scope, id);
    const p = resolveProps(props);

    this.stream = new Stream(this, 'Stream', {
      streamMode: StreamMode.PROVISIONED,
      shardCount: p.shardCount,
      retentionPeriod: Duration.hours(p.streamRetentionHours),
      encryption: p.streamEncryptionKey === undefined ? StreamEncryption.MANAGED : StreamEncryption.KMS,
      encryptionKey: p.streamEncryptionKey,
      shardLevelMetrics: p.shardLevelMetrics
        ? [
            ShardLevelMetrics.INCOMING_RECORDS,
            ShardLevelMetrics.INCOMING_BYTES,
            ShardLevelMetrics.ITERATOR_AGE_MILLISECONDS,
            // Throttled puts per shard: the cluster manager's metrics source reads them to tell a shard
            // producers cannot write to fast enough from one merely busy.
            ShardLevelMetrics.WRITE_PROVISIONED_THROUGHPUT_EXCEEDED,
          ]
        : undefined,
      removalPolicy: p.removalPolicy,
    });
    if (p.streamEncryptionKey !== undefined)
      Validations.of(this.stream).acknowledge({
        id: 'AwsSolutions-KDS3',
        reason:
          'The deployer passed streamEncryptionKey: a customer-managed key is a compliance choice made ' +
          'deliberately, and grantPublish and the event source grant the key permissions it needs.',
      });

    const tableOptions = { removalPolicy: p.removalPolicy, deletionProtection: p.deletionProtection };
    this.stateTable = processorTable(this, 'StateTable', 'state', tableOptions);
    this.parkedTable = processorTable(this, 'ParkedTable', 'parked', tableOptions);
    this.coordinationTable = processorTable(this, 'CoordinationTable', 'coordination', tableOptions);

    this.config = new ProcessorConfig(this, 'Config', {
      config: p.config,
      deploymentDurationMinutes: p.configDeploymentDurationMinutes,
      finalBakeTimeMinutes: p.configFinalBakeTimeMinutes,
    });
    const configEnvironment = {
      [ENV.APPCONFIG_APPLICATION_ID]: this.config.application.applicationId,
      [ENV.APPCONFIG_ENVIRONMENT_ID]: this.config.environment.environmentId,
      [ENV.APPCONFIG_PROFILE_ID]: this.config.profile.configurationProfileId,
    };

    this.consumer = new ProcessorFunction(this, 'Consumer', {
      entry: 'consumer',
      description: 'cdc-event-processor consumer: applies change events to per-aggregate state',
      memorySizeMiB: p.consumerMemorySizeMiB,
      timeoutSeconds: p.consumerTimeoutSeconds,
      logRetention: p.logRetention,
      environment: {
        [ENV.STATE_TABLE]: this.stateTable.tableName,
        [ENV.PARKED_TABLE]: this.parkedTable.tableName,
        [ENV.COORDINATION_TABLE]: this.coordinationTable.tableName,
        [ENV.STREAM_NAME]: this.stream.streamName,
        ...configEnvironment,
      },
    });
    this.failureQueue = new FailureQueue(this, 'FailedBatches', {
      retentionDays: p.failureQueueRetentionDays,
      maxReceiveCount: p.failureQueueMaxReceiveCount,
      removalPolicy: p.removalPolicy,
    });
    this.eventSource = new KinesisEventSource(this.stream, {
      startingPosition: LambdaStartingPosition[p.startingPosition],
      batchSize: p.batchSize,
      maxBatchingWindow: Duration.seconds(p.maxBatchingWindowSeconds),
      parallelizationFactor: p.parallelizationFactor,
      // The handler returns the lowest failing sequence number of each failing aggregate; Lambda retries
      // from there, so a poison change never makes the healthy aggregates before it run again.
      reportBatchItemFailures: true,
      retryAttempts: p.retryAttempts,
      maxRecordAge: p.maxRecordAgeSeconds === -1 ? undefined : Duration.seconds(p.maxRecordAgeSeconds),
      // Off by default: the handler already isolates failures per aggregate (it stops an aggregate at its
      // first failing change, applies the others, and reports the exact record to resume from), so bisecting
      // could only re-find that record with extra invocations, and each half would re-deliver changes the
      // fence then skips. It stays a prop for handlers that fail whole batches.
      bisectBatchOnError: p.bisectBatchOnError,
      onFailure: new SqsDlq(this.failureQueue.queue),
    });
    this.consumer.function.addEventSource(this.eventSource);
    if (p.maxRecordAgeSeconds === -1) {
      // CDK leaves the property out for "never" (it takes a Duration); the template states it, so a reader
      // of the template (and the local provisioner) sees the setting rather than a default.
      const mapping = this.consumer.function.node.findAll().find((c) => c instanceof CfnEventSourceMapping);
      (mapping as CfnEventSourceMapping).addPropertyOverride('MaximumRecordAgeInSeconds', -1);
    }
    this.#grantTableReadWrite(this.consumer.role, [this.stateTable, this.parkedTable]);
    // Every consumer execution environment registers and heartbeats in the instance registry (docs/architecture.md §6),
    // and does nothing else on the coordination table: leases, locks, leadership and the audit log are
    // the cluster manager's.
    Grant.addToPrincipal({
      grantee: this.consumer.role,
      actions: [...INSTANCE_REGISTER_ACTIONS],
      resourceArns: [this.coordinationTable.tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [INSTANCE_PK] } },
    });
    this.#grantReadConfig(this.consumer.role);

    this.clusterManager = new ProcessorFunction(this, 'ClusterManager', {
      entry: 'clusterManager',
      description:
        'cdc-event-processor cluster manager: leader-elected, resizes the stream and tunes consumers',
      memorySizeMiB: 256,
      timeoutSeconds: p.clusterManagerTimeoutSeconds,
      logRetention: p.logRetention,
      environment: {
        [ENV.COORDINATION_TABLE]: this.coordinationTable.tableName,
        [ENV.STATE_TABLE]: this.stateTable.tableName,
        [ENV.PARKED_TABLE]: this.parkedTable.tableName,
        [ENV.STREAM_NAME]: this.stream.streamName,
        [ENV.EVENT_SOURCE_MAPPING_ID]: this.eventSource.eventSourceMappingId,
        [ENV.APPCONFIG_DEPLOYMENT_STRATEGY_ID]: this.config.deploymentStrategy.deploymentStrategyId,
        ...configEnvironment,
      },
    });
    this.#grantClusterManager();
    this.clusterManagerSchedule = new Rule(this, 'ClusterManagerSchedule', {
      description: 'Runs the cdc-event-processor cluster manager',
      schedule: Schedule.rate(Duration.minutes(p.clusterManagerScheduleMinutes)),
      // A missed run is superseded by the next one: no retries, no stale events.
      targets: [
        new LambdaFunction(this.clusterManager.function, {
          retryAttempts: 0,
          maxEventAge: Duration.seconds(60 * p.clusterManagerScheduleMinutes),
        }),
      ],
    });

    this.alarmTopic = p.alarmTopic ?? this.#createAlarmTopic();
    this.monitoring = new Monitoring(this, 'Monitoring', {
      stream: this.stream,
      consumer: this.consumer.function,
      clusterManager: this.clusterManager.function,
      clusterManagerLogGroup: this.clusterManager.logGroup,
      failureQueue: this.failureQueue.queue,
      alarmTopic: this.alarmTopic,
      shardLevelMetrics: p.shardLevelMetrics,
      iteratorAgeAlarmThresholdMs: p.iteratorAgeAlarmThresholdMs,
      consumerErrorsAlarmThreshold: p.consumerErrorsAlarmThreshold,
      parkedAlarmThreshold: p.parkedAlarmThreshold,
      clusterManagerHeartbeatAlarmMinutes: p.clusterManagerHeartbeatAlarmMinutes,
    });
  }

  /** Lets a producer (Debezium Server, DMS, an outbox relay) put change records on the stream. */
  public grantPublish(grantee: IGrantable): Grant {
    const grant = Grant.addToPrincipal({
      grantee,
      actions: [...STREAM_PUBLISH_ACTIONS],
      resourceArns: [this.stream.streamArn],
    });
    const key = this.stream.encryptionKey;
    if (key !== undefined)
      Grant.addToPrincipal({ grantee, actions: [...KEY_ENCRYPT_ACTIONS], resourceArns: [key.keyArn] });
    return grant;
  }

  /** Lets a reader (a query service, a projection) read per-aggregate state, point reads and queries only. */
  public grantReadState(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: [...TABLE_READ_ACTIONS],
      resourceArns: [this.stateTable.tableArn],
    });
  }

  /**
   * What an operator's `cdcp parked list` / `cdcp parked replay` needs: scan and rewrite parked changes, and
   * read and write the state their replay applies to.
   */
  public grantOperateParked(grantee: IGrantable): Grant {
    this.#grantTableReadWrite(grantee, [this.stateTable]);
    return Grant.addToPrincipal({
      grantee,
      actions: [...TABLE_READ_ACTIONS, ...TABLE_SCAN_ACTIONS, ...TABLE_WRITE_ACTIONS],
      resourceArns: [this.parkedTable.tableArn],
    });
  }

  #grantTableReadWrite(grantee: IGrantable, tables: readonly Table[]): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS],
      resourceArns: tables.map((t) => t.tableArn),
    });
  }

  #grantReadConfig(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: [...CONFIG_READ_ACTIONS],
      resourceArns: [this.config.configurationArn],
    });
  }

  #grantClusterManager(): void {
    const role = this.clusterManager.role;
    const profileArn = this.config.profile.configurationProfileArn;
    this.#grantTableReadWrite(role, [this.coordinationTable]);
    // The leader replays changes deferred by a table that was resumed (or by shedding that was lifted) for
    // aggregates that get no new change, as `cdcp parked replay` does: the sweep scans the parked table.
    this.grantOperateParked(role);
    Grant.addToPrincipal({
      grantee: role,
      actions: [...STREAM_DESCRIBE_ACTIONS, ...STREAM_RESHARD_ACTIONS],
      resourceArns: [this.stream.streamArn],
    });
    Grant.addToPrincipal({
      grantee: role,
      actions: [...MAPPING_TUNE_ACTIONS],
      resourceArns: [this.eventSource.eventSourceMappingArn],
    });
    this.#grantReadConfig(role);
    Grant.addToPrincipal({
      grantee: role,
      actions: [...CONFIG_PUBLISH_ACTIONS],
      resourceArns: [profileArn, `${profileArn}/hostedconfigurationversion/*`],
    });
    Grant.addToPrincipal({
      grantee: role,
      actions: [...CONFIG_DEPLOY_ACTIONS],
      resourceArns: [
        this.config.environment.environmentArn,
        profileArn,
        this.config.deploymentStrategy.deploymentStrategyArn,
      ],
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${this.#nagArn(profileArn)}/hostedconfigurationversion/*]`,
      reason:
        'GetHostedConfigurationVersion (and, for some callers, CreateHostedConfigurationVersion) authorise on ' +
        'the hostedconfigurationversion resource, whose last part is a version number AppConfig allocates at ' +
        'publication, so it cannot be named in advance. The wildcard covers versions of this one profile only.',
    });
    Grant.addToPrincipal({ grantee: role, actions: [...METRIC_READ_ACTIONS], resourceArns: ['*'] });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudwatch:GetMetricData supports no resource-level permissions (the Service Authorization Reference ' +
        'lists no resource type for it), so it can only be granted on "*"; it is the only action granted on "*" ' +
        'and it reads metrics only. The cluster manager needs it for per-shard load and consumer lag.',
    });
  }

  /** An ARN as cdk-nag prints it in a finding id: intrinsics as `<LogicalId>` / `<AWS::Region>`. */
  #nagArn(arn: string): string {
    const stack = Stack.of(this);
    const parts = stack.resolve(arn) as { 'Fn::Join': [string, unknown[]] };
    return parts['Fn::Join'][1]
      .map((part) => (typeof part === 'string' ? part : `<${(part as { Ref: string }).Ref}>`))
      .join('');
  }

  #createAlarmTopic(): Topic {
    const topic = new Topic(this, 'AlarmTopic', {
      displayName: 'cdc-event-processor alarms',
      enforceSSL: true,
    });
    Validations.of(topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry alarm names, states and thresholds, never change data. CloudWatch cannot ' +
        'publish to a topic encrypted with the AWS-managed SNS key, and a customer-managed key whose policy ' +
        'drifts would silence every alarm; TLS is enforced in transit. Pass alarmTopic to use an encrypted one.',
    });
    return topic;
  }
}

export type { CdcProcessorProps };
export { CdcProcessor };
