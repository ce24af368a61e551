import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { IMetric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import {
  type IStream,
  ShardLevelMetrics,
  Stream,
  StreamEncryption,
  StreamMode,
} from 'aws-cdk-lib/aws-kinesis';
import {
  CfnEventSourceMapping,
  StartingPosition as LambdaStartingPosition,
  MetricType,
} from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ENV, METRICS, TARGET_OUTPUT, type TargetDocument } from '../core/constants.js';
import { INSTANCE_PK } from '../core/coordination/keys.js';
import { workerTimings } from '../core/workers/timings.js';
import { ProjectionModuleError } from '../projection-module/errors.js';
import { MIRROR_IDENTITY, type ProjectionIdentity } from '../projection-module/identity.js';
import { probeProjectionModuleSync } from '../projection-module/load.js';
import {
  FLEET_DESCRIBE_ACTIONS,
  INSTANCE_REGISTER_ACTIONS,
  KEY_DECRYPT_ACTIONS,
  KEY_ENCRYPT_ACTIONS,
  MAPPING_READ_ACTIONS,
  METRIC_READ_ACTIONS,
  STACK_DESCRIBE_ACTIONS,
  STREAM_PUBLISH_ACTIONS,
  STREAM_READ_ACTIONS,
  TABLE_READ_ACTIONS,
  TABLE_SCAN_ACTIONS,
  TABLE_WRITE_ACTIONS,
} from './actions.js';
import { CdcProcessorPropsError } from './errors.js';
import {
  FailedBatchDestination,
  FailedBatches,
  grantFailedBatchRead,
  objectsFindingId,
} from './failed-batches.js';
import { FleetMonitoring } from './fleet-monitoring.js';
import { displayEntry, type ProjectionSource } from './function-code.js';
import { ProcessorFunction } from './function-defaults.js';
import {
  acknowledgeWildcardResource,
  grantClusterManager,
  grantConsumerReadConfig,
  grantPublishConfig,
  grantReadConfig,
  grantTableReadWrite,
  XRAY_WILDCARD_REASON,
} from './grants.js';
import { type ConsumerMetrics, clusterManagerMetric, consumerMetric, Monitoring } from './monitoring.js';
import { ProcessorConfig } from './processor-config.js';
import { type CdcProcessorProps, type ResolvedProps, resolveProps } from './props.js';
import { processorTable } from './tables.js';
import { WorkerService } from './worker-service.js';

/**
 * The whole CDC event processor (docs/architecture.md §2): a Kinesis stream (yours or one created here); the
 * state, parked and coordination tables (yours or created here); the consumer — a function bundled with your
 * projection module, on the stream with partial batch responses and an S3 on-failure destination, or a fleet of
 * `cdcp worker` containers on ECS Fargate with the same projection (`consumer`); the leader-elected cluster
 * manager on a schedule, which also sizes a fleet; the AppConfig profile validated by the config schema; the
 * alarms and the dashboard; and the stack output `cdcp --stack` reads.
 *
 * @example
 * ```ts
 * const processor = new CdcProcessor(this, 'Cdc', { projectionEntry: 'projection.mjs', shardCount: 4 });
 * processor.grantPublish(debeziumServerRole);
 * processor.grantOperate(onCallRole);
 * ```
 */
class CdcProcessor extends Construct {
  public readonly stream: IStream;
  public readonly stateTable: ITable;
  public readonly parkedTable: ITable;
  public readonly coordinationTable: ITable;
  /** The consumer function; undefined when a worker fleet consumes the stream. */
  public readonly consumer: ProcessorFunction | undefined;
  /** The consumer's event source mapping; undefined when a worker fleet consumes the stream. */
  public readonly eventSource: KinesisEventSource | undefined;
  /** The worker fleet's service, task definition, role and log group, when containers consume the stream. */
  public readonly workers: WorkerService | undefined;
  /** The fleet's alarms and dashboard row, when containers consume the stream. */
  public readonly fleetMonitoring: FleetMonitoring | undefined;
  /**
   * Where Lambda's mapping keeps the batches it gave up on, whole (`cdcp failures`). A worker fleet parks such
   * records in the parked table with their payload instead; the bucket stays, so batches given up before a
   * switch to containers can still be read and re-driven.
   */
  public readonly failedBatches: FailedBatches;
  public readonly clusterManager: ProcessorFunction;
  public readonly clusterManagerSchedule: Rule;
  public readonly config: ProcessorConfig;
  public readonly alarmTopic: ITopic;
  public readonly monitoring: Monitoring;
  /** The projection both functions run: its name, source fingerprint and module path. */
  public readonly projection: ProjectionIdentity;
  /** The stack output `cdcp --stack` reads. */
  public readonly targetOutput: CfnOutput;

  public constructor(scope: Construct, id: string, props: CdcProcessorProps = {}) {
    super(scope, id);
    const p = resolveProps(props);
    const projection = this.#projectionSource(p);
    this.projection = projection?.identity ?? MIRROR_IDENTITY;
    this.stream = p.stream ?? this.#createStream(p);
    const tableOptions = { removalPolicy: p.removalPolicy, deletionProtection: p.deletionProtection };
    this.stateTable = p.stateTable ?? processorTable(this, 'StateTable', 'state', tableOptions);
    this.parkedTable = p.parkedTable ?? processorTable(this, 'ParkedTable', 'parked', tableOptions);
    this.coordinationTable =
      p.coordinationTable ?? processorTable(this, 'CoordinationTable', 'coordination', tableOptions);
    this.config = new ProcessorConfig(this, 'Config', {
      config: p.config,
      deploymentDurationMinutes: p.configDeploymentDurationMinutes,
      finalBakeTimeMinutes: p.configFinalBakeTimeMinutes,
      growthFactor: p.configGrowthFactor,
    });
    this.failedBatches = new FailedBatches(this, 'FailedBatches', {
      retentionDays: p.failedBatchesRetentionDays,
      removalPolicy: p.removalPolicy,
    });
    if (p.containers === undefined) {
      this.consumer = this.#createConsumer(p, projection);
      this.eventSource = this.#attachEventSource(p, this.consumer);
      this.#grantConsumer(p, this.consumer);
    } else this.workers = this.#createWorkers(p, projection);
    this.clusterManager = this.#createClusterManager(p, projection);
    this.clusterManagerSchedule = this.#scheduleClusterManager(p);
    grantClusterManager(this, p.stream !== undefined || p.streamMode !== StreamMode.ON_DEMAND, p.tracing);
    this.alarmTopic = p.alarmTopic ?? this.#createAlarmTopic();
    this.fleetMonitoring = this.workers === undefined ? undefined : this.#createFleetMonitoring(p);
    this.monitoring = this.#createMonitoring(p);
    this.config.rollBackOn(this.monitoring.configRollbackAlarm);
    if (this.monitoring.dashboard !== undefined)
      this.fleetMonitoring?.addToDashboard(this.monitoring.dashboard);
    this.targetOutput = this.#addTargetOutput();
  }

  // ── Grants ──────────────────────────────────────────────────────────────────────────────────────

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
   * What an operator's `cdcp parked list` / `replay` / `discard` need: scan and rewrite parked changes, and
   * read and write the state their replay applies to.
   */
  public grantOperateParked(grantee: IGrantable): Grant {
    grantTableReadWrite(grantee, [this.stateTable]);
    return Grant.addToPrincipal({
      grantee,
      actions: [...TABLE_READ_ACTIONS, ...TABLE_SCAN_ACTIONS, ...TABLE_WRITE_ACTIONS],
      resourceArns: [this.parkedTable.tableArn],
    });
  }

  /**
   * Everything `cdcp --stack` does for an operator: find this processor from the stack's outputs; `status`
   * and `scale` (read the coordination table, the stream's shards, CloudWatch metrics and the mapping, or the
   * worker fleet's ECS service);
   * `config set/get/status` (publish and deploy AppConfig versions); `parked` (as {@link grantOperateParked});
   * `failures` (list, read and delete the batches kept in the on-failure bucket, and re-read a given-up range
   * from the stream).
   */
  public grantOperate(grantee: IGrantable): Grant {
    const stack = Stack.of(this);
    const grant = Grant.addToPrincipal({
      grantee,
      actions: [...STACK_DESCRIBE_ACTIONS],
      resourceArns: [
        stack.formatArn({
          service: 'cloudformation',
          resource: 'stack',
          resourceName: `${stack.stackName}/*`,
        }),
      ],
    });
    this.grantOperateParked(grantee);
    Grant.addToPrincipal({
      grantee,
      actions: [...TABLE_READ_ACTIONS],
      resourceArns: [this.coordinationTable.tableArn],
    });
    Grant.addToPrincipal({
      grantee,
      actions: [...STREAM_READ_ACTIONS],
      resourceArns: [this.stream.streamArn],
    });
    const key = this.stream.encryptionKey;
    if (key !== undefined)
      Grant.addToPrincipal({ grantee, actions: [...KEY_DECRYPT_ACTIONS], resourceArns: [key.keyArn] });
    if (this.eventSource !== undefined)
      Grant.addToPrincipal({
        grantee,
        actions: [...MAPPING_READ_ACTIONS],
        resourceArns: [this.eventSource.eventSourceMappingArn],
      });
    if (this.workers !== undefined)
      Grant.addToPrincipal({
        grantee,
        actions: [...FLEET_DESCRIBE_ACTIONS],
        resourceArns: [this.workers.service.serviceArn],
      });
    Grant.addToPrincipal({ grantee, actions: [...METRIC_READ_ACTIONS], resourceArns: ['*'] });
    grantFailedBatchRead(grantee, this.failedBatches.bucket);
    grantReadConfig(grantee, this.config);
    grantPublishConfig(grantee, this.config);
    return grant;
  }

  // ── Metrics (the figures the dashboard shows) ──────────────────────────────────────────────────

  /** A metric the consumer publishes (namespace `CdcEventProcessor`, dimension `service`), summed per minute by default. */
  public metric(metricName: string, props?: MetricOptions): IMetric {
    return consumerMetric(metricName).with(props ?? {});
  }

  /** Changes applied to state. */
  public metricChangesApplied(props?: MetricOptions): IMetric {
    return this.metric(METRICS.changesApplied, props);
  }

  /** Records the consumers received. */
  public metricRecordsReceived(props?: MetricOptions): IMetric {
    return this.metric(METRICS.recordsReceived, props);
  }

  /** Duplicates skipped by the position fence. */
  public metricDuplicatesSkipped(props?: MetricOptions): IMetric {
    return this.metric(METRICS.duplicatesSkipped, props);
  }

  /** Changes parked: poison changes after their attempts, and bad input. */
  public metricChangesParked(props?: MetricOptions): IMetric {
    return this.metric(METRICS.changesParked, props);
  }

  /** Of the parked changes, records that could not be decoded. */
  public metricBadInput(props?: MetricOptions): IMetric {
    return this.metric(METRICS.badInput, props);
  }

  /** Aggregates quarantined behind a parked change. */
  public metricAggregatesQuarantined(props?: MetricOptions): IMetric {
    return this.metric(METRICS.aggregatesQuarantined, props);
  }

  /** Of the changes parked, those deferred by a paused or shed table (they replay by themselves). */
  public metricChangesDeferred(props?: MetricOptions): IMetric {
    return this.metric(METRICS.changesDeferred, props);
  }

  /**
   * Milliseconds from a change's source commit to its state write, p99 per minute over every table by default;
   * one table's: `dimensionsMap: { service: 'cdc-consumer', Table: 'public.orders' }`.
   */
  public metricSourceToAppliedLatency(props?: MetricOptions): IMetric {
    return consumerMetric(METRICS.sourceToAppliedLatency, 'p99').with(props ?? {});
  }

  /** Milliseconds from a record's arrival in the stream to its state write, p99 per minute by default. */
  public metricArrivalToAppliedLatency(props?: MetricOptions): IMetric {
    return consumerMetric(METRICS.arrivalToAppliedLatency, 'p99').with(props ?? {});
  }

  /** Conditional writes to the state table. */
  public metricStateWrites(props?: MetricOptions): IMetric {
    return this.metric(METRICS.stateWrites, props);
  }

  /**
   * The consumer's iterator age, maximum per minute: how far behind the stream it is (Lambda's `IteratorAge`;
   * for a worker fleet the stream's GetRecords iterator age, or its fan-out consumer's MillisBehindLatest).
   */
  public metricIteratorAge(props?: MetricOptions): IMetric {
    return this.#consumerMetrics().metric('IteratorAge', {
      statistic: 'Maximum',
      period: Duration.minutes(1),
      ...props,
    });
  }

  /** Consumer invocations that failed as a whole (for a worker fleet: its log lines at ERROR level). */
  public metricConsumerErrors(props?: MetricOptions): IMetric {
    return this.#consumerMetrics().metricErrors({ statistic: 'Sum', period: Duration.minutes(1), ...props });
  }

  /** Live consumer instances, as the cluster manager counts them. */
  public metricLiveInstances(props?: MetricOptions): IMetric {
    return clusterManagerMetric(METRICS.liveInstances, 'Maximum').with(props ?? {});
  }

  /** Live instances on another configuration version than the latest (0: converged). */
  public metricInstancesOnStaleConfig(props?: MetricOptions): IMetric {
    return clusterManagerMetric(METRICS.instancesOnStaleConfig, 'Maximum').with(props ?? {});
  }

  /** 1 while shedding is active (the cluster manager's view, maximum per minute). */
  public metricSheddingActive(props?: MetricOptions): IMetric {
    return clusterManagerMetric(METRICS.sheddingActive, 'Maximum').with(props ?? {});
  }

  /** Scaling actions the cluster manager took. */
  public metricScalingActions(props?: MetricOptions): IMetric {
    return clusterManagerMetric(METRICS.scalingActions).with(props ?? {});
  }

  /** 1 per scheduled run that held the leadership: no data means no leader. */
  public metricClusterManagerHeartbeat(props?: MetricOptions): IMetric {
    return clusterManagerMetric(METRICS.clusterManagerHeartbeat).with(props ?? {});
  }

  /** Live workers of the fleet, as the cluster manager counts them (a fleet only). */
  public metricLiveWorkers(props?: MetricOptions): IMetric {
    return clusterManagerMetric(METRICS.liveWorkers, 'Maximum').with(props ?? {});
  }

  /** Shard leases taken over from workers presumed dead: failovers (a fleet only). */
  public metricLeaseTakeOvers(props?: MetricOptions): IMetric {
    if (this.fleetMonitoring === undefined)
      throw new Error('metricLeaseTakeOvers: this processor has no worker fleet (consumer is Lambda)');
    return this.fleetMonitoring.metricTakeOvers(props);
  }

  /** The consumer's figures: the Lambda function's, or the worker fleet's in their place. */
  #consumerMetrics(): ConsumerMetrics {
    return this.consumer?.function ?? this.fleetMonitoring!.consumerMetrics;
  }

  // ── Construction steps ─────────────────────────────────────────────────────────────────────────

  /** The projection module, checked and fingerprinted at synthesis; undefined: the built-in mirror. */
  #projectionSource(p: ResolvedProps): ProjectionSource | undefined {
    if (p.projectionEntry === undefined) return undefined;
    const path = resolve(p.projectionEntry);
    if (!existsSync(path))
      throw new CdcProcessorPropsError(
        'projectionEntry',
        p.projectionEntry,
        `names no file (resolved to ${path} from ${process.cwd()}); pass the path of your projection module, relative to the CDK app's folder`,
      );
    try {
      return { path, identity: probeProjectionModuleSync(path, displayEntry(path)) };
    } catch (error) {
      if (error instanceof ProjectionModuleError)
        throw new CdcProcessorPropsError(
          'projectionEntry',
          p.projectionEntry,
          `is not usable: ${error.message}`,
        );
      throw error;
    }
  }

  #createStream(p: ResolvedProps): Stream {
    const provisioned = p.streamMode === StreamMode.PROVISIONED;
    const stream = new Stream(this, 'Stream', {
      streamMode: p.streamMode,
      shardCount: provisioned ? p.shardCount : undefined,
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
      Validations.of(stream).acknowledge({
        id: 'AwsSolutions-KDS3',
        reason:
          'The deployer passed streamEncryptionKey: a customer-managed key is a compliance choice made ' +
          'deliberately, and grantPublish and the event source grant the key permissions it needs.',
      });
    return stream;
  }

  /**
   * Environment both functions share: the AppConfig profile and the projection they were bundled with. The
   * consumer names the environment by its name, the cluster manager by its id (which its deployments need):
   * see `ProcessorConfig.environmentName`.
   */
  #commonEnvironment(environment: 'name' | 'id'): Record<string, string> {
    return {
      [ENV.APPCONFIG_APPLICATION_ID]: this.config.application.applicationId,
      [ENV.APPCONFIG_ENVIRONMENT_ID]:
        environment === 'name' ? this.config.environmentName : this.config.environment.environmentId,
      [ENV.APPCONFIG_PROFILE_ID]: this.config.profile.configurationProfileId,
      [ENV.PROJECTION]: JSON.stringify(this.projection),
    };
  }

  #createConsumer(p: ResolvedProps, projection: ProjectionSource | undefined): ProcessorFunction {
    return new ProcessorFunction(this, 'Consumer', {
      role: 'consumer',
      projection,
      description: 'cdc-event-processor consumer: applies change events to per-aggregate state',
      memorySizeMiB: p.consumerMemorySizeMiB,
      timeoutSeconds: p.consumerTimeoutSeconds,
      logRetention: p.logRetention,
      tracing: p.tracing,
      environment: {
        [ENV.STATE_TABLE]: this.stateTable.tableName,
        [ENV.PARKED_TABLE]: this.parkedTable.tableName,
        [ENV.COORDINATION_TABLE]: this.coordinationTable.tableName,
        [ENV.STREAM_NAME]: this.stream.streamName,
        ...this.#commonEnvironment('name'),
      },
    });
  }

  #attachEventSource(p: ResolvedProps, consumer: ProcessorFunction): KinesisEventSource {
    const eventSource = new KinesisEventSource(this.stream, {
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
      // An S3 destination gets the whole invocation record, the records included (a queue would get only
      // the shard and sequence range, and the records would be lost once the stream's retention passed).
      onFailure: new FailedBatchDestination(this.failedBatches.bucket),
      // The mapping's own counts (records delivered to the on-failure destination), for the alarm.
      metricsConfig: { metrics: [MetricType.EVENT_COUNT] },
    });
    consumer.function.addEventSource(eventSource);
    Validations.of(consumer.role).acknowledge({
      id: objectsFindingId(this.failedBatches.bucket),
      reason:
        'PutObject on the objects of the failed-batches bucket only: Lambda names each object itself when it ' +
        'gives up on a batch (aws/lambda/<mapping>/<shard>/<date>/<time>-<uuid>), so no name can be granted ahead.',
    });
    if (p.maxRecordAgeSeconds === -1) {
      // CDK leaves the property out for "never" (it takes a Duration); the template states it, so a reader
      // of the template (and the local provisioner) sees the setting rather than a default.
      const mapping = consumer.function.node.findAll().find((c) => c instanceof CfnEventSourceMapping);
      (mapping as CfnEventSourceMapping).addPropertyOverride('MaximumRecordAgeInSeconds', -1);
    }
    return eventSource;
  }

  #grantConsumer(p: ResolvedProps, consumer: ProcessorFunction): void {
    grantTableReadWrite(consumer.role, [this.stateTable, this.parkedTable]);
    // Every consumer execution environment registers and heartbeats in the instance registry (docs/architecture.md §6),
    // and does nothing else on the coordination table: leases, locks, leadership and the audit log are
    // the cluster manager's.
    Grant.addToPrincipal({
      grantee: consumer.role,
      actions: [...INSTANCE_REGISTER_ACTIONS],
      resourceArns: [this.coordinationTable.tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [INSTANCE_PK] } },
    });
    grantConsumerReadConfig(consumer.role, this.config);
    acknowledgeWildcardResource(consumer.role, p.tracing ? [XRAY_WILDCARD_REASON] : []);
  }

  /** The worker fleet: `cdcp worker` on ECS Fargate with the deployment's projection and mapping settings. */
  #createWorkers(p: ResolvedProps, projection: ProjectionSource | undefined): WorkerService {
    return new WorkerService(this, 'Workers', {
      settings: p.containers!,
      projection,
      projectionIdentity: this.projection,
      stream: this.stream,
      stateTable: this.stateTable,
      parkedTable: this.parkedTable,
      coordinationTable: this.coordinationTable,
      config: this.config,
      configJson: JSON.stringify(p.config),
      mapping: {
        batchSize: p.batchSize,
        maxBatchingWindowSeconds: p.maxBatchingWindowSeconds,
        parallelizationFactor: p.parallelizationFactor,
        retryAttempts: p.retryAttempts,
        maxRecordAgeSeconds: p.maxRecordAgeSeconds,
        startingPosition: p.startingPosition,
      },
      logRetention: p.logRetention,
    });
  }

  #createClusterManager(p: ResolvedProps, projection: ProjectionSource | undefined): ProcessorFunction {
    return new ProcessorFunction(this, 'ClusterManager', {
      role: 'clusterManager',
      projection,
      description:
        'cdc-event-processor cluster manager: leader-elected, resizes the stream and tunes consumers',
      memorySizeMiB: 256,
      timeoutSeconds: p.clusterManagerTimeoutSeconds,
      logRetention: p.logRetention,
      tracing: p.tracing,
      environment: {
        [ENV.COORDINATION_TABLE]: this.coordinationTable.tableName,
        [ENV.STATE_TABLE]: this.stateTable.tableName,
        [ENV.PARKED_TABLE]: this.parkedTable.tableName,
        [ENV.STREAM_NAME]: this.stream.streamName,
        [ENV.APPCONFIG_DEPLOYMENT_STRATEGY_ID]: this.config.deploymentStrategy.deploymentStrategyId,
        ...this.#consumerEnvironment(),
        ...this.#commonEnvironment('id'),
      },
    });
  }

  /** What the cluster manager tunes: the consumer's mapping, or the worker fleet's service and its bounds. */
  #consumerEnvironment(): Record<string, string> {
    if (this.eventSource !== undefined)
      return { [ENV.EVENT_SOURCE_MAPPING_ID]: this.eventSource.eventSourceMappingId };
    const workers = this.workers!;
    return {
      [ENV.FLEET_CLUSTER]: workers.cluster.clusterName,
      [ENV.FLEET_SERVICE]: workers.service.serviceName,
      [ENV.FLEET_MIN_WORKERS]: String(workers.minWorkers),
      [ENV.FLEET_MAX_WORKERS]: String(workers.maxWorkers),
      [ENV.FLEET_TASK_CPU]: String(workers.taskCpu),
    };
  }

  #scheduleClusterManager(p: ResolvedProps): Rule {
    return new Rule(this, 'ClusterManagerSchedule', {
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
  }

  #createFleetMonitoring(p: ResolvedProps): FleetMonitoring {
    return new FleetMonitoring(this, 'FleetMonitoring', {
      workers: this.workers!,
      stream: this.stream,
      alarmTopic: this.alarmTopic,
      reportIntervalMs: workerTimings(p.config.leases).reportIntervalMs,
    });
  }

  #createMonitoring(p: ResolvedProps): Monitoring {
    return new Monitoring(this, 'Monitoring', {
      stream: this.stream,
      consumer: this.#consumerMetrics(),
      clusterManager: this.clusterManager.function,
      clusterManagerLogGroup: this.clusterManager.logGroup,
      stateTable: this.stateTable,
      parkedTable: this.parkedTable,
      coordinationTable: this.coordinationTable,
      eventSourceMappingId: this.eventSource?.eventSourceMappingId,
      alarmTopic: this.alarmTopic,
      dashboard: p.dashboard,
      shardLevelMetrics: p.stream === undefined && p.shardLevelMetrics,
      runbookUrl: p.runbookUrl,
      iteratorAgeAlarmThresholdMs: p.iteratorAgeAlarmThresholdMs,
      sourceLatencyAlarmThresholdMs: p.sourceLatencyAlarmThresholdMs,
      consumerErrorsAlarmThreshold: p.consumerErrorsAlarmThreshold,
      parkedAlarmThreshold: p.parkedAlarmThreshold,
      clusterManagerHeartbeatAlarmMinutes: p.clusterManagerHeartbeatAlarmMinutes,
      clusterManagerScheduleMinutes: p.clusterManagerScheduleMinutes,
      configRolloutMinutes: p.configDeploymentDurationMinutes + p.configFinalBakeTimeMinutes,
    });
  }

  /** The one output `cdcp --stack` reads: everything an operator's command acts on, as JSON. */
  #addTargetOutput(): CfnOutput {
    const document: TargetDocument = {
      version: TARGET_OUTPUT.version,
      streamName: this.stream.streamName,
      streamArn: this.stream.streamArn,
      stateTable: this.stateTable.tableName,
      parkedTable: this.parkedTable.tableName,
      coordinationTable: this.coordinationTable.tableName,
      ...(this.consumer === undefined || this.eventSource === undefined
        ? {}
        : {
            consumerFunction: this.consumer.function.functionName,
            eventSourceMappingId: this.eventSource.eventSourceMappingId,
          }),
      failedBatchesBucket: this.failedBatches.bucket.bucketName,
      ...(this.workers === undefined
        ? {}
        : {
            fleet: {
              cluster: this.workers.cluster.clusterName,
              service: this.workers.service.serviceName,
              minWorkers: this.workers.minWorkers,
              maxWorkers: this.workers.maxWorkers,
              taskCpu: this.workers.taskCpu,
            },
          }),
      appConfig: {
        applicationId: this.config.application.applicationId,
        environmentId: this.config.environment.environmentId,
        profileId: this.config.profile.configurationProfileId,
        deploymentStrategyId: this.config.deploymentStrategy.deploymentStrategyId,
      },
      projection: this.projection,
    };
    return new CfnOutput(this, TARGET_OUTPUT.id, {
      value: Stack.of(this).toJsonString(document),
      description: `${TARGET_OUTPUT.descriptionPrefix} what \`cdcp --stack\` acts on (${this.node.path})`,
    });
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
