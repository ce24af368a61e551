/**
 * Names shared between the infrastructure (`lib/`), the runtime (`functions/`, `localstack/`) and the
 * dashboard, so that the stack and the code cannot drift apart.
 */

/**
 * Environment variables read by the composition roots in `functions/`, `bin/` (`cdcp worker`) and
 * `localstack/`; the stack sets them on the functions and on the worker containers.
 */
export const ENV = {
  STATE_TABLE: 'CDCP_STATE_TABLE',
  PARKED_TABLE: 'CDCP_PARKED_TABLE',
  COORDINATION_TABLE: 'CDCP_COORDINATION_TABLE',
  STREAM_NAME: 'CDCP_STREAM_NAME',
  /** The stream's ARN (`cdcp worker`); unset, the worker asks DescribeStreamSummary. */
  STREAM_ARN: 'CDCP_STREAM_ARN',
  /** Inline JSON configuration (validated by the config schema); used until AppConfig is wired in. */
  CONFIG_JSON: 'CDCP_CONFIG_JSON',
  /** Endpoint of a running LocalStack; when set, local runs start no engine. */
  LOCALSTACK_ENDPOINT: 'LOCALSTACK_ENDPOINT',
  AWS_ENDPOINT_URL: 'AWS_ENDPOINT_URL',
  /** AppConfig ids the functions read their configuration from (AppConfigData); unset = schema defaults. */
  APPCONFIG_APPLICATION_ID: 'CDCP_APPCONFIG_APPLICATION_ID',
  APPCONFIG_ENVIRONMENT_ID: 'CDCP_APPCONFIG_ENVIRONMENT_ID',
  APPCONFIG_PROFILE_ID: 'CDCP_APPCONFIG_PROFILE_ID',
  /** The deployment strategy the cluster manager deploys new configuration versions with. */
  APPCONFIG_DEPLOYMENT_STRATEGY_ID: 'CDCP_APPCONFIG_DEPLOYMENT_STRATEGY_ID',
  /**
   * Base URL of the AppConfig agent (Lambda extension) when the function has it, for example
   * `http://localhost:2772`; set, the consumer reads its configuration from the agent instead of AppConfigData.
   */
  APPCONFIG_AGENT_URL: 'CDCP_APPCONFIG_AGENT_URL',
  /** Seconds between AppConfigData polls (the session's minimum poll interval and the cache age); 15..3600. */
  APPCONFIG_POLL_INTERVAL_SECONDS: 'CDCP_APPCONFIG_POLL_INTERVAL_SECONDS',
  /** The local config store (a JSON file every local worker watches); `cdcp config set` writes it. */
  CONFIG_FILE: 'CDCP_CONFIG_FILE',
  /** UUID of the consumer's event source mapping, which the cluster manager tunes. */
  EVENT_SOURCE_MAPPING_ID: 'CDCP_EVENT_SOURCE_MAPPING_ID',
  /** The projection the functions were bundled with, as JSON `{"name","fingerprint","entry"}` (for people and logs). */
  PROJECTION: 'CDCP_PROJECTION',
  /** The stack `cdcp` acts on when no `--stack` is given. */
  STACK: 'CDCP_STACK',
  /** `cdcp worker`: its instance id in the registry; unset, `worker-<host>-<random>`. */
  WORKER_INSTANCE_ID: 'CDCP_WORKER_INSTANCE_ID',
  /** `cdcp worker`: the health endpoint's port (0: any free port; `off`: none). Default 8080. */
  WORKER_HEALTH_PORT: 'CDCP_WORKER_HEALTH_PORT',
  /** `cdcp worker`: the address the health endpoint listens on. Default 0.0.0.0. */
  WORKER_HEALTH_HOST: 'CDCP_WORKER_HEALTH_HOST',
  /**
   * `cdcp worker`: the longest a graceful hand-off after SIGTERM may take, in ms; keep it under the task's stop
   * timeout (ECS kills the container that long after SIGTERM). Default 25000.
   */
  WORKER_STOP_TIMEOUT_MS: 'CDCP_WORKER_STOP_TIMEOUT_MS',
  /** `cdcp worker`: `polling` (GetRecords, the default) or `fan-out` (enhanced fan-out, SubscribeToShard). */
  WORKER_READER: 'CDCP_WORKER_READER',
  /** `cdcp worker`: the fleet's registered stream consumer for enhanced fan-out. Default `cdcp-workers`. */
  WORKER_FAN_OUT_CONSUMER: 'CDCP_WORKER_FAN_OUT_CONSUMER',
  /** `cdcp worker`: renew each fan-out subscription after this many ms (5000..300000). Default 300000. */
  WORKER_RESUBSCRIBE_MS: 'CDCP_WORKER_RESUBSCRIBE_MS',
  /** `cdcp worker`: the event source mapping's settings, with Lambda's names, ranges and defaults. */
  WORKER_BATCH_SIZE: 'CDCP_WORKER_BATCH_SIZE',
  WORKER_BATCHING_WINDOW_MS: 'CDCP_WORKER_BATCHING_WINDOW_MS',
  WORKER_PARALLELIZATION_FACTOR: 'CDCP_WORKER_PARALLELIZATION_FACTOR',
  WORKER_MAX_RETRY_ATTEMPTS: 'CDCP_WORKER_MAX_RETRY_ATTEMPTS',
  WORKER_MAX_RECORD_AGE_SECONDS: 'CDCP_WORKER_MAX_RECORD_AGE_SECONDS',
  WORKER_STARTING_POSITION: 'CDCP_WORKER_STARTING_POSITION',
  /** `cdcp worker`: a module whose default export is the projection to apply; unset, the mirror projection. */
  WORKER_PROJECTION_MODULE: 'CDCP_WORKER_PROJECTION_MODULE',
  /** The cluster manager: the worker fleet's ECS cluster and service it sizes (unset: no fleet). */
  FLEET_CLUSTER: 'CDCP_FLEET_CLUSTER',
  FLEET_SERVICE: 'CDCP_FLEET_SERVICE',
  /** The cluster manager: the bounds it sizes the fleet within. */
  FLEET_MIN_WORKERS: 'CDCP_FLEET_MIN_WORKERS',
  FLEET_MAX_WORKERS: 'CDCP_FLEET_MAX_WORKERS',
  /** The cluster manager: CPU units of one worker task (1024 = one vCPU), what a worker's CPU is measured against. */
  FLEET_TASK_CPU: 'CDCP_FLEET_TASK_CPU',
  /** Log level of the Powertools logger (`DEBUG`, `INFO`, `WARN`, `ERROR`, `CRITICAL`, `SILENT`). */
  LOG_LEVEL: 'LOG_LEVEL',
  /** The AWS SDK's own: region, and an endpoint override for every service or one (local engines, LocalStack). */
  AWS_REGION: 'AWS_REGION',
  AWS_ENDPOINT_URL_DYNAMODB: 'AWS_ENDPOINT_URL_DYNAMODB',
  AWS_ENDPOINT_URL_KINESIS: 'AWS_ENDPOINT_URL_KINESIS',
} as const;

/**
 * Defaults of `cdcp worker` that a task definition must agree with: the container health check calls the health
 * path, and the task's stop timeout must leave the worker its own (ECS sends SIGKILL when the task's runs out).
 */
export const WORKER = {
  healthPath: '/health',
  healthPort: 8080,
  stopTimeoutMs: 25_000,
  /** The fleet's registered stream consumer for enhanced fan-out. */
  fanOutConsumerName: 'cdcp-workers',
  /** Service name of the worker's own log lines (lease events); the consumer's lines keep `METRICS.service`. */
  logService: 'cdc-consumer-worker',
} as const;

/**
 * The stack output `cdcp --stack` reads: one JSON document (its fields in `lib/target-output.ts`) naming the
 * stream, tables, functions, AppConfig ids and projection of one CdcProcessor. Found by its description.
 */
export const TARGET_OUTPUT = {
  id: 'CdcpTarget',
  descriptionPrefix: 'cdcp target:',
  version: 2,
} as const;

/** The JSON document of the {@link TARGET_OUTPUT} stack output. */
export interface TargetDocument {
  readonly version: number;
  readonly streamName: string;
  readonly streamArn: string;
  readonly stateTable: string;
  readonly parkedTable: string;
  readonly coordinationTable: string;
  /** The Lambda consumer and its mapping; absent when a worker fleet consumes the stream. */
  readonly consumerFunction?: string;
  readonly eventSourceMappingId?: string;
  /**
   * The S3 bucket the consumer's mapping keeps the batches it gives up on in (`cdcp failures`); it stays
   * with a fleet, for batches given up before the switch.
   */
  readonly failedBatchesBucket: string;
  /** The worker fleet on ECS, when containers consume the stream. */
  readonly fleet?: {
    readonly cluster: string;
    readonly service: string;
    readonly minWorkers: number;
    readonly maxWorkers: number;
    /** CPU units of one task (1024 = one vCPU). */
    readonly taskCpu: number;
  };
  readonly appConfig: {
    readonly applicationId: string;
    readonly environmentId: string;
    readonly profileId: string;
    readonly deploymentStrategyId: string;
  };
  /** The projection both functions were bundled with: name, source fingerprint, module path. */
  readonly projection: { readonly name: string; readonly fingerprint: string; readonly entry: string | null };
}

/** Roles elected on the coordination table (`LEADER/<role>`). */
export const LEADER_ROLES = {
  clusterManager: 'cluster-manager',
} as const;

/** Key and attribute names of the per-aggregate state table. */
export const STATE_TABLE = {
  partitionKey: 'aggregateId',
  attributes: {
    position: 'position',
    deleted: 'deleted',
    state: 'state',
    /** Paths in `state` of numbers DynamoDB cannot hold as numbers, stored as their exact text. */
    exactNumbers: 'exactNumbers',
    table: 'sourceTable',
    revision: 'rev',
    updatedAt: 'updatedAt',
    quarantine: 'quarantine',
    lastParkedKey: 'lastParkedKey',
    pendingFailure: 'pendingFailure',
    ttl: 'ttl',
    /** The high-water position of each source (docs/architecture.md contract 9): a map of source id to position. */
    positions: 'positions',
    /** The source, commit time and position of the change that last set the state. */
    writer: 'writer',
    /** `field-merge` only: the stamp of each field of the state and of the newest delete. */
    fieldStamps: 'fieldStamps',
    /** The highest lock fence a write of this aggregate carried (projections that hold locks). */
    fence: 'fence',
  },
  /**
   * Prefix of the attributes derived updates keep (`d.total`): other aggregates' projections add to and set
   * them; the aggregate's own writes never touch them.
   */
  derivedPrefix: 'd.',
} as const;

/** Key names of the parked-event table: one item per parked change, sorted per aggregate in source order. */
export const PARKED_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttl: 'ttl',
} as const;

/** Key names of the coordination table (docs/architecture.md §5). */
export const COORDINATION_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttl: 'ttl',
} as const;

/** Metric namespace and names, shared with the CloudWatch dashboard. */
export const METRICS = {
  namespace: 'CdcEventProcessor',
  service: 'cdc-consumer',
  recordsReceived: 'RecordsReceived',
  changesApplied: 'ChangesApplied',
  duplicatesSkipped: 'DuplicatesSkipped',
  changesParked: 'ChangesParked',
  badInput: 'BadInputParked',
  aggregatesQuarantined: 'AggregatesQuarantined',
  aggregateFailures: 'AggregateFailures',
  tombstonesSkipped: 'TombstonesSkipped',
  stateWrites: 'StateWrites',
  /** Owner cache (projections that read the previous state): aggregates served from the cache, no read. */
  stateCacheHits: 'StateCacheHits',
  /** Owner cache: aggregates the cache did not hold, read from the state table. */
  stateCacheMisses: 'StateCacheMisses',
  /**
   * Guarded state writes that lost their condition: another writer (a replay, a second consumer during a
   * hand-off, a redrive) had changed the aggregate, mostly behind a cached item. Each costs a read and a retry.
   */
  stateCacheConditionalMisses: 'StateCacheConditionalMisses',
  /** Aggregates read to warm the owner cache after a shard moved to a worker (its previous owner's hot keys). */
  stateCacheWarmupReads: 'StateCacheWarmupReads',
  /** Entries the owner cache let go to stay within `cache.maxBytes`. */
  stateCacheEvictions: 'StateCacheEvictions',
  /** Estimated bytes the owner cache holds after the batch (a gauge: take the maximum). */
  stateCacheBytes: 'StateCacheBytes',
  /** Service dimension of the cluster manager's metrics. */
  clusterManagerService: 'cdc-cluster-manager',
  /** 1 per scheduled run that held the cluster-manager leadership; its absence means no leader. */
  clusterManagerHeartbeat: 'ClusterManagerHeartbeat',
  /** The leader's term (fence) of the cluster-manager role. */
  leaderTerm: 'LeaderTerm',
  /** Consumer instances with a moving heartbeat, as the cluster manager sees them. */
  liveInstances: 'LiveInstances',
  /** Lock acquisitions that found the lock held (projections that hold aggregate locks). */
  lockContention: 'LockContention',
  /** Milliseconds an aggregate lock set took to be granted (or to be given up on), per acquisition. */
  lockWaitTime: 'LockWaitTime',
  /** Live instances reporting a configuration version other than the latest deployed one (0 = converged). */
  instancesOnStaleConfig: 'InstancesOnStaleConfig',
  /** Config fetches that failed (store unreachable, nothing deployed); the instance kept its last good config. */
  configFetchFailures: 'ConfigFetchFailures',
  /** Fetched configs refused as corrupt or invalid (each distinct content once); the last good one stayed. */
  configInvalid: 'ConfigInvalidKeptLastGood',
  /** Milliseconds since the running config version was published (its `publishedAt`), per refresh. */
  configVersionAge: 'ConfigVersionAge',
  /** Milliseconds from a version's publication to this instance applying it (wall clocks of two machines). */
  configApplyLatency: 'ConfigApplyLatency',
  /**
   * Instance registrations or heartbeats of a consumer that failed or timed out; the batch went on regardless.
   * The cluster manager then sees that instance's load and hot keys late, or presumes it dead.
   */
  instanceHeartbeatFailures: 'InstanceHeartbeatFailures',
  /** Scaling actions the cluster manager took (UpdateShardCount, split, merge, mapping update). */
  scalingActions: 'ScalingActions',
  /** Deferred changes the cluster manager's sweep replayed after their table was resumed or shedding lifted. */
  deferredReplayed: 'DeferredChangesReplayed',
  /** Deferred changes a sweep left parked (a replay failed; the next run's sweep tries again). */
  deferredRemaining: 'DeferredChangesRemaining',
  /**
   * Of the changes parked, those parked as DEFERRED (their table paused or shed): waiting by design, so the
   * parked alarm leaves them out (ChangesParked - ChangesDeferred: poison, behind a poison, bad input).
   */
  changesDeferred: 'ChangesDeferred',
  /**
   * Milliseconds from a change's source commit time (`ChangeEvent.ts`) to its state write, one value per
   * applied change (unit Milliseconds, so CloudWatch keeps percentiles). Published with two dimension sets:
   * `{service, Table}` for the per-table widgets and `{service}` for the alarm (alarms cannot search).
   */
  sourceToAppliedLatency: 'SourceToAppliedLatency',
  /**
   * Milliseconds from a record's arrival in the stream (ApproximateArrivalTimestamp) to its state write, beside
   * the source-to-applied figure: their difference is the time spent before the stream. Same dimension sets.
   */
  arrivalToAppliedLatency: 'ArrivalToAppliedLatency',
  /** 1 per leader run while shedding is active, 0 otherwise (the cluster manager, from its round's figures). */
  sheddingActive: 'SheddingActive',
  /**
   * Aggregates quarantined behind a poison change now (a gauge, maximum): the cluster manager's leader counts
   * the parked `POISON` and `UNSTORABLE` changes, one per quarantined aggregate, each run (a bounded Scan of
   * the parked table; docs/operations.md#quarantined-aggregates-standing).
   */
  quarantinedAggregates: 'QuarantinedAggregates',
  /** A worker fleet, as the cluster manager sees it: live workers (heartbeat current, not leaving). */
  liveWorkers: 'LiveWorkers',
  /** The fleet's desired count after the manager's run. */
  desiredWorkers: 'DesiredWorkers',
  /** Most and fewest shard leases a live worker holds. */
  maxLeasesPerWorker: 'MaxLeasesPerWorker',
  minLeasesPerWorker: 'MinLeasesPerWorker',
  /** Live workers holding no shard lease. */
  idleWorkers: 'IdleWorkers',
  /** Age of the oldest heartbeat of a live worker, ms (wall clocks of two machines: a dashboard figure). */
  workerHeartbeatAge: 'WorkerHeartbeatAge',
  /** From the workers' log lines (metric filters): leases handed off between live workers. */
  leaseHandOffs: 'LeaseHandOffs',
  /** Leases the assigner took over from a worker presumed dead: failovers. */
  leaseTakeOvers: 'LeaseTakeOvers',
  /** Leases a worker found it no longer held (taken over, expired, a rejected checkpoint). */
  leasesLost: 'LeasesLost',
  /** Log lines at ERROR level of the workers' processes. */
  workerErrors: 'WorkerErrors',
} as const;

/** Dimension names of the processor's metrics, beside {@link METRICS}. */
export const METRIC_DIMENSIONS = {
  /** Which function published it: {@link METRICS.service} or {@link METRICS.clusterManagerService}. */
  service: 'service',
  /** The change's `<schema-or-db>.<table>`, on the latency metrics. */
  table: 'Table',
} as const;
