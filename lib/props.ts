import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IStream, StreamMode } from 'aws-cdk-lib/aws-kinesis';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { type Config, type ConfigInput, parseConfig } from '../core/config/schema.js';
import { messageOf } from '../core/errors.js';
import { CdcProcessorPropsError } from './errors.js';
import { ContainerShardConsumer, ShardConsumer } from './shard-consumer.js';

/** Where the consumer starts reading a shard that has no checkpoint. */
type StartingPosition = 'TRIM_HORIZON' | 'LATEST';

/**
 * Props of {@link CdcProcessor}. Every prop is optional; the defaults deploy a small, production-shaped
 * processor (a 2-shard provisioned stream, retained and deletion-protected data, the mirror projection,
 * alarms to a created topic and a dashboard).
 */
interface CdcProcessorProps {
  // ── Projection ──────────────────────────────────────────────────────────────────────────────────
  /**
   * Path of your projection module (JavaScript or TypeScript), whose default export is the projection that
   * folds each change into the aggregate's state. Relative paths are resolved from the folder the CDK app
   * runs in. It is bundled into the consumer and the cluster manager, and its name and source fingerprint are
   * recorded in the stack's outputs, so `cdcp parked replay --stack` applies exactly this projection.
   * @default the built-in mirror projection (the state is the row's latest image)
   */
  readonly projectionEntry?: string;

  // ── Kinesis stream ──────────────────────────────────────────────────────────────────────────────
  /**
   * A stream of yours to consume (its partition key must be the aggregate id). The stream props below then
   * do not apply, and the cluster manager reshards this stream as it would its own. @default a stream created here
   */
  readonly stream?: IStream;
  /**
   * PROVISIONED (the cluster manager sizes the stream) or ON_DEMAND (Kinesis sizes it; set
   * `config.scaling.enabled` to false, since there is nothing to reshard). @default StreamMode.PROVISIONED
   */
  readonly streamMode?: StreamMode;
  /** Open shards of a provisioned stream (1 MB/s or 1,000 records/s in each). @default 2 */
  readonly shardCount?: number;
  /** How long the stream keeps records, 24 hours..365 days; above 24 hours costs extra. @default Duration.hours(24) */
  readonly streamRetention?: Duration;
  /**
   * Per-shard metrics (IncomingRecords, IncomingBytes, IteratorAgeMilliseconds,
   * WriteProvisionedThroughputExceeded): the cluster manager splits the hottest shard by them and the
   * dashboard shows iterator age per shard. Each is a CloudWatch metric per shard. @default true
   */
  readonly shardLevelMetrics?: boolean;
  /**
   * A customer-managed KMS key for the stream, when compliance requires one. Without it the stream is
   * encrypted with the AWS-managed `aws/kinesis` key, which costs nothing per request; a customer-managed key
   * adds KMS requests that grow with producers and consumers, and producers then need `kms:GenerateDataKey`
   * on it (`grantPublish` adds it). @default the AWS-managed key `aws/kinesis`
   */
  readonly streamEncryptionKey?: IKey;

  // ── Tables ──────────────────────────────────────────────────────────────────────────────────────
  /** Your per-aggregate state table: partition key `aggregateId` (string), TTL on `ttl`. @default a table created here */
  readonly stateTable?: ITable;
  /** Your parked-change table: partition key `pk`, sort key `sk` (strings), TTL on `ttl`. @default a table created here */
  readonly parkedTable?: ITable;
  /** Your coordination table: partition key `pk`, sort key `sk` (strings), TTL on `ttl`. @default a table created here */
  readonly coordinationTable?: ITable;

  // ── Data lifecycle ──────────────────────────────────────────────────────────────────────────────
  /** What happens to the tables, stream and failed-batches bucket created here when they leave the stack. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** DynamoDB deletion protection on the tables created here. @default true */
  readonly deletionProtection?: boolean;

  // ── Consumer: Lambda's event source mapping, or a fleet of worker containers ───────────────────
  /**
   * What consumes the stream: Lambda's event source mapping (`ShardConsumer.lambda()`), or a fleet of
   * `cdcp worker` containers on ECS Fargate that divide the shards through leases, sized by the cluster
   * manager (`ShardConsumer.containers({ minWorkers, maxWorkers, ... })`). The mapping props below (batch
   * size, batching window, ParallelizationFactor, retries, record age, starting position) apply to either;
   * the consumer function's memory and timeout, the bisect switch and the on-failure destination are Lambda's.
   * @default ShardConsumer.lambda()
   */
  readonly consumer?: ShardConsumer;

  // ── Consumer function and its event source mapping ─────────────────────────────────────────────
  /** Memory of the consumer function in MiB, 128..10240 (CPU grows with it). @default 1024 */
  readonly consumerMemorySizeMiB?: number;
  /** Timeout of one consumer invocation, 1 second..15 minutes. @default Duration.seconds(60) */
  readonly consumerTimeout?: Duration;
  /** Records per invocation, 1..10000. @default 100 */
  readonly batchSize?: number;
  /** How long the mapping gathers records before invoking, 0..300 seconds. @default Duration.seconds(0) */
  readonly maxBatchingWindow?: Duration;
  /** Concurrent batches per shard, 1..10; one partition key always stays in one of them. @default 1 */
  readonly parallelizationFactor?: number;
  /**
   * Retries of a failing batch before Lambda keeps it in the failed-batches bucket and moves on;
   * -1 = until the record expires. Must let the handler reach `config.processing.maxAttempts`, where it
   * parks the change itself and nothing is skipped. @default 10
   */
  readonly retryAttempts?: number;
  /** Records older than this go to the failed-batches bucket, 60 seconds..7 days. @default never */
  readonly maxRecordAge?: Duration;
  /**
   * Split a failing batch in two and retry each half. Off: the handler isolates failures per aggregate and
   * reports the exact failing record, which bisecting can only re-find at the cost of extra invocations.
   * @default false
   */
  readonly bisectBatchOnError?: boolean;
  /** Where the consumer starts on a shard without a checkpoint. @default 'TRIM_HORIZON' */
  readonly startingPosition?: StartingPosition;
  /**
   * How long the on-failure bucket keeps the batches the mapping gave up on (whole records, for `cdcp
   * failures redrive`), whole days, 1..365. @default Duration.days(14)
   */
  readonly failedBatchesRetention?: Duration;

  // ── Cluster manager ─────────────────────────────────────────────────────────────────────────────
  /** Time between cluster manager runs (EventBridge rate), whole minutes, 1..60. @default Duration.minutes(1) */
  readonly clusterManagerSchedule?: Duration;
  /** Timeout of one cluster manager run; shorter than the schedule so runs do not overlap. @default Duration.seconds(50) */
  readonly clusterManagerTimeout?: Duration;

  // ── Configuration (AppConfig) ───────────────────────────────────────────────────────────────────
  /** The configuration deployed with the stack, validated by the config schema. @default the schema's defaults */
  readonly config?: ConfigInput;
  /**
   * How long a configuration deployment takes to reach every consumer, whole minutes 0..1440: AppConfig adds
   * `configGrowthFactor` percent of them at each step, and rolls the deployment back by itself when the
   * configuration alarm fires (docs/operations.md#rolling-back-a-configuration). @default Duration.minutes(5)
   */
  readonly configDeploymentDuration?: Duration;
  /**
   * How long AppConfig keeps watching the configuration alarm after the last step before the deployment is
   * final (a rollback is still automatic until then), whole minutes 0..1440: at least the 5 minutes the
   * alarms it watches need to fire. @default Duration.minutes(5)
   */
  readonly configFinalBakeTime?: Duration;
  /** Percent of the consumers a configuration deployment adds at each step (linear), 1..100. @default 20 */
  readonly configGrowthFactor?: number;

  // ── Observability ───────────────────────────────────────────────────────────────────────────────
  /** Create the CloudWatch dashboard (the alarms are created either way). @default true */
  readonly dashboard?: boolean;
  /** Topic the alarms notify (and send OK to). @default a topic created here, TLS only */
  readonly alarmTopic?: ITopic;
  /** Consumer iterator age (maximum) that raises the lag alarm. @default Duration.seconds(60) */
  readonly iteratorAgeAlarmThreshold?: Duration;
  /** Consumer invocation errors per minute that count toward the errors alarm (3 of 5 minutes). @default 1 */
  readonly consumerErrorsAlarmThreshold?: number;
  /** Changes parked (poison or bad input) within 5 minutes that raise the parked alarm. @default 1 */
  readonly parkedAlarmThreshold?: number;
  /**
   * Time without a cluster manager heartbeat (no leader ran) before the alarm fires, whole minutes, at least
   * twice the schedule. @default Duration.minutes(5), or twice `clusterManagerSchedule` if that is longer
   */
  readonly clusterManagerHeartbeatAlarmPeriod?: Duration;
  /**
   * Source-to-applied latency (p99 over all tables) above which the latency alarm fires after 5 minutes.
   * @default Duration.minutes(5)
   */
  readonly sourceLatencyAlarmThreshold?: Duration;
  /**
   * Where each alarm's description sends the reader: the runbook, to which each alarm adds the anchor of its
   * section (`#consumer-errors`). Point it at a copy you can click from a notification (your Git host, a
   * wiki). @default 'docs/operations.md' (the runbook shipped in this package)
   */
  readonly runbookUrl?: string;
  /**
   * X-Ray active tracing of both functions through Powertools Tracer: a consumer batch's decode and, for the
   * first aggregates of each batch, their decode, fold and write, annotated with the aggregate and its source
   * transaction; the cluster manager's runs with their control-plane calls. Traces are sampled by X-Ray's
   * default rule (the first request each second, and 5 % of the rest). @default true
   */
  readonly tracing?: boolean;
  /** Retention of the functions' log groups. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/** Props with every default filled in and every value checked; durations as whole numbers of their unit. */
interface ResolvedProps {
  readonly projectionEntry: string | undefined;
  /** The container fleet's settings; undefined: Lambda's event source mapping. */
  readonly containers: ContainerShardConsumer['settings'] | undefined;
  readonly stream: IStream | undefined;
  readonly streamMode: StreamMode;
  readonly shardCount: number;
  readonly streamRetentionHours: number;
  readonly shardLevelMetrics: boolean;
  readonly streamEncryptionKey: IKey | undefined;
  readonly stateTable: ITable | undefined;
  readonly parkedTable: ITable | undefined;
  readonly coordinationTable: ITable | undefined;
  readonly removalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
  readonly consumerMemorySizeMiB: number;
  readonly consumerTimeoutSeconds: number;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly parallelizationFactor: number;
  readonly retryAttempts: number;
  /** -1: never. */
  readonly maxRecordAgeSeconds: number;
  readonly bisectBatchOnError: boolean;
  readonly startingPosition: StartingPosition;
  readonly failedBatchesRetentionDays: number;
  readonly clusterManagerScheduleMinutes: number;
  readonly clusterManagerTimeoutSeconds: number;
  readonly config: Config;
  readonly configDeploymentDurationMinutes: number;
  readonly configFinalBakeTimeMinutes: number;
  readonly configGrowthFactor: number;
  readonly dashboard: boolean;
  readonly alarmTopic: ITopic | undefined;
  readonly iteratorAgeAlarmThresholdMs: number;
  readonly consumerErrorsAlarmThreshold: number;
  readonly parkedAlarmThreshold: number;
  readonly clusterManagerHeartbeatAlarmMinutes: number;
  readonly sourceLatencyAlarmThresholdMs: number;
  readonly runbookUrl: string;
  readonly tracing: boolean;
  readonly logRetention: RetentionDays;
}

/** The defaults of the props that have a value (the others default to "created here" or "none"). */
const DEFAULTS = {
  streamMode: StreamMode.PROVISIONED,
  shardCount: 2,
  streamRetention: Duration.hours(24),
  shardLevelMetrics: true,
  removalPolicy: RemovalPolicy.RETAIN,
  deletionProtection: true,
  consumerMemorySizeMiB: 1024,
  consumerTimeout: Duration.seconds(60),
  batchSize: 100,
  maxBatchingWindow: Duration.seconds(0),
  parallelizationFactor: 1,
  retryAttempts: 10,
  bisectBatchOnError: false,
  startingPosition: 'TRIM_HORIZON',
  failedBatchesRetention: Duration.days(14),
  clusterManagerSchedule: Duration.minutes(1),
  clusterManagerTimeout: Duration.seconds(50),
  configDeploymentDuration: Duration.minutes(5),
  configFinalBakeTime: Duration.minutes(5),
  configGrowthFactor: 20,
  dashboard: true,
  iteratorAgeAlarmThreshold: Duration.seconds(60),
  consumerErrorsAlarmThreshold: 1,
  parkedAlarmThreshold: 1,
  clusterManagerHeartbeatAlarmPeriod: Duration.minutes(5),
  sourceLatencyAlarmThreshold: Duration.minutes(5),
  runbookUrl: 'docs/operations.md',
  tracing: true,
  logRetention: RetentionDays.ONE_MONTH,
} as const satisfies CdcProcessorProps;

/** The stream props that a stream of yours (`stream`) makes meaningless. */
const OWN_STREAM_PROPS = [
  'streamMode',
  'shardCount',
  'streamRetention',
  'shardLevelMetrics',
  'streamEncryptionKey',
] as const;

function integer(prop: string, value: number, min: number, max: number, fix = ''): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new CdcProcessorPropsError(prop, value, `must be an integer in ${min}..${max}${fix}`);
  return value;
}

type DurationUnit = 'milliseconds' | 'seconds' | 'minutes' | 'hours' | 'days';

/** A Duration as a whole number of `unit` within min..max; the message shows the Duration received. */
function whole(
  prop: string,
  value: Duration,
  unit: DurationUnit,
  min: number,
  max: number,
  fix = '',
): number {
  const what = `a whole number of ${unit} in ${min}..${max}${fix}`;
  const problem = `must be ${what}`;
  if (!(value instanceof Duration))
    throw new CdcProcessorPropsError(prop, value, `must be a Duration of ${what}`);
  let amount: number;
  try {
    amount = {
      milliseconds: value.toMilliseconds,
      seconds: value.toSeconds,
      minutes: value.toMinutes,
      hours: value.toHours,
      days: value.toDays,
    }[unit].call(value);
  } catch {
    throw new CdcProcessorPropsError(prop, value, problem);
  }
  if (!Number.isInteger(amount) || amount < min || amount > max)
    throw new CdcProcessorPropsError(prop, value, problem);
  return amount;
}

/** The consumer choice; a container fleet's `assignment` goes into the deployed configuration's leases section. */
function consumerProps(props: CdcProcessorProps): {
  containers: ContainerShardConsumer['settings'] | undefined;
  config: ConfigInput | undefined;
} {
  const consumer = props.consumer ?? ShardConsumer.lambda();
  if (!(consumer instanceof ShardConsumer))
    throw new CdcProcessorPropsError(
      'consumer',
      consumer,
      'must be ShardConsumer.lambda() or ShardConsumer.containers({...})',
    );
  if (!(consumer instanceof ContainerShardConsumer)) return { containers: undefined, config: props.config };
  const containers = consumer.settings;
  const configured = props.config?.leases?.assignment;
  if (containers.assignment === undefined) return { containers, config: props.config };
  if (configured !== undefined && configured !== containers.assignment)
    throw new CdcProcessorPropsError(
      'consumer.assignment',
      containers.assignment,
      `differs from config.leases.assignment (${JSON.stringify(configured)}); set the strategy in one place`,
    );
  return {
    containers,
    config: { ...props.config, leases: { ...props.config?.leases, assignment: containers.assignment } },
  };
}

function parseConfigProp(input: ConfigInput | undefined): Config {
  try {
    return parseConfig(input ?? {});
  } catch (cause) {
    throw new CdcProcessorPropsError(
      'config',
      input,
      `is not a valid configuration (${messageOf(cause)}); fix it against \`cdcp config defaults\``,
    );
  }
}

/** With `stream`, the stream props must stay unset; an on-demand stream has no shard count and is not resharded. */
function checkStreamProps(props: CdcProcessorProps, config: Config): void {
  if (props.stream !== undefined)
    for (const name of OWN_STREAM_PROPS)
      if (props[name] !== undefined)
        throw new CdcProcessorPropsError(
          name,
          props[name],
          'applies only to a stream created here; with `stream` given, set it on your stream instead',
        );
  if (props.streamMode === StreamMode.ON_DEMAND) {
    if (props.shardCount !== undefined)
      throw new CdcProcessorPropsError(
        'shardCount',
        props.shardCount,
        'has no meaning for an ON_DEMAND stream; leave it out',
      );
    if (config.scaling.enabled)
      throw new CdcProcessorPropsError(
        'streamMode',
        'ON_DEMAND',
        'sizes the stream itself, so the cluster manager must not reshard it: set config.scaling.enabled to false',
      );
  }
}

/** Checks the props of the consumer's event source mapping against AWS's ranges and the config. */
function mappingProps(props: CdcProcessorProps, config: Config) {
  const retryAttempts = integer('retryAttempts', props.retryAttempts ?? DEFAULTS.retryAttempts, -1, 10_000);
  if (retryAttempts !== -1 && retryAttempts < config.processing.maxAttempts)
    throw new CdcProcessorPropsError(
      'retryAttempts',
      retryAttempts,
      `must be -1 or at least config.processing.maxAttempts (${config.processing.maxAttempts}): with fewer, Lambda ` +
        'gives up on a failing batch before the handler parks the change, and the shard skips records instead ' +
        'of parking them; raise retryAttempts or lower maxAttempts',
    );
  const parallelizationFactor = integer(
    'parallelizationFactor',
    props.parallelizationFactor ?? DEFAULTS.parallelizationFactor,
    1,
    10,
  );
  if (parallelizationFactor > config.scaling.maxParallelizationFactor)
    throw new CdcProcessorPropsError(
      'parallelizationFactor',
      parallelizationFactor,
      `must not exceed config.scaling.maxParallelizationFactor (${config.scaling.maxParallelizationFactor}); change one or the other`,
    );
  const startingPosition = props.startingPosition ?? DEFAULTS.startingPosition;
  if (startingPosition !== 'TRIM_HORIZON' && startingPosition !== 'LATEST')
    throw new CdcProcessorPropsError(
      'startingPosition',
      startingPosition,
      "must be 'TRIM_HORIZON' or 'LATEST'",
    );
  return {
    retryAttempts,
    parallelizationFactor,
    startingPosition,
    batchSize: integer('batchSize', props.batchSize ?? DEFAULTS.batchSize, 1, 10_000),
    maxBatchingWindowSeconds: whole(
      'maxBatchingWindow',
      props.maxBatchingWindow ?? DEFAULTS.maxBatchingWindow,
      'seconds',
      0,
      300,
    ),
    maxRecordAgeSeconds:
      props.maxRecordAge === undefined
        ? -1
        : whole('maxRecordAge', props.maxRecordAge, 'seconds', 60, 604_800),
    bisectBatchOnError: props.bisectBatchOnError ?? DEFAULTS.bisectBatchOnError,
    failedBatchesRetentionDays: whole(
      'failedBatchesRetention',
      props.failedBatchesRetention ?? DEFAULTS.failedBatchesRetention,
      'days',
      1,
      365,
    ),
  };
}

/** The cluster manager's schedule and timeout, and the alarm that watches its heartbeat. */
function clusterManagerProps(props: CdcProcessorProps) {
  const scheduleMinutes = whole(
    'clusterManagerSchedule',
    props.clusterManagerSchedule ?? DEFAULTS.clusterManagerSchedule,
    'minutes',
    1,
    60,
  );
  const timeoutSeconds = whole(
    'clusterManagerTimeout',
    props.clusterManagerTimeout ?? DEFAULTS.clusterManagerTimeout,
    'seconds',
    1,
    Math.min(900, scheduleMinutes * 60 - 1),
    ' (shorter than the schedule, so runs do not overlap)',
  );
  const heartbeatAlarmMinutes = whole(
    'clusterManagerHeartbeatAlarmPeriod',
    props.clusterManagerHeartbeatAlarmPeriod ??
      Duration.minutes(
        Math.max(DEFAULTS.clusterManagerHeartbeatAlarmPeriod.toMinutes(), 2 * scheduleMinutes),
      ),
    'minutes',
    Math.max(2, scheduleMinutes * 2),
    1440,
    ' and at least twice the schedule, so one late run does not page anyone',
  );
  return {
    clusterManagerScheduleMinutes: scheduleMinutes,
    clusterManagerTimeoutSeconds: timeoutSeconds,
    clusterManagerHeartbeatAlarmMinutes: heartbeatAlarmMinutes,
  };
}

/** The runbook link every alarm description starts from: a URL or path, without a fragment. */
function runbookUrl(props: CdcProcessorProps): string {
  const url = props.runbookUrl ?? DEFAULTS.runbookUrl;
  if (typeof url !== 'string' || url.trim() === '' || url.includes('#'))
    throw new CdcProcessorPropsError(
      'runbookUrl',
      url,
      "must be the runbook's URL or path without a #fragment (each alarm adds its section's anchor)",
    );
  return url;
}

/** The AppConfig deployment strategy: gradual, with a bake time the alarms can fire in. */
function configRolloutProps(props: CdcProcessorProps) {
  return {
    configDeploymentDurationMinutes: whole(
      'configDeploymentDuration',
      props.configDeploymentDuration ?? DEFAULTS.configDeploymentDuration,
      'minutes',
      0,
      1440,
    ),
    configFinalBakeTimeMinutes: whole(
      'configFinalBakeTime',
      props.configFinalBakeTime ?? DEFAULTS.configFinalBakeTime,
      'minutes',
      0,
      1440,
    ),
    configGrowthFactor: integer(
      'configGrowthFactor',
      props.configGrowthFactor ?? DEFAULTS.configGrowthFactor,
      1,
      100,
      ' (percent of the consumers per step)',
    ),
  };
}

/** Fills defaults and rejects values AWS would reject (or that would lose records), naming the value received. */
function resolveProps(props: CdcProcessorProps): ResolvedProps {
  const consumer = consumerProps(props);
  const config = parseConfigProp(consumer.config);
  checkStreamProps(props, config);
  const streamMode = props.streamMode ?? DEFAULTS.streamMode;
  const shardCount = integer('shardCount', props.shardCount ?? DEFAULTS.shardCount, 1, 10_000);
  const { minShards, maxShards } = config.scaling;
  if (
    props.stream === undefined &&
    streamMode === StreamMode.PROVISIONED &&
    (shardCount < minShards || shardCount > maxShards)
  )
    throw new CdcProcessorPropsError(
      'shardCount',
      shardCount,
      `must lie within config.scaling.minShards..maxShards (${minShards}..${maxShards}), or the cluster ` +
        'manager reshards the stream right after the deploy; change one or the other',
    );
  const removalPolicy = props.removalPolicy ?? DEFAULTS.removalPolicy;
  const deletionProtection = props.deletionProtection ?? DEFAULTS.deletionProtection;
  if (removalPolicy === RemovalPolicy.DESTROY && deletionProtection)
    throw new CdcProcessorPropsError(
      'deletionProtection',
      deletionProtection,
      'must be false when removalPolicy is DESTROY, or CloudFormation cannot delete the tables; set both',
    );
  if (
    props.projectionEntry !== undefined &&
    (typeof props.projectionEntry !== 'string' || props.projectionEntry === '')
  )
    throw new CdcProcessorPropsError(
      'projectionEntry',
      props.projectionEntry,
      'must be the path of a projection module',
    );
  return {
    projectionEntry: props.projectionEntry,
    containers: consumer.containers,
    stream: props.stream,
    streamMode,
    shardCount,
    streamRetentionHours: whole(
      'streamRetention',
      props.streamRetention ?? DEFAULTS.streamRetention,
      'hours',
      24,
      8760,
    ),
    shardLevelMetrics: props.shardLevelMetrics ?? DEFAULTS.shardLevelMetrics,
    streamEncryptionKey: props.streamEncryptionKey,
    stateTable: props.stateTable,
    parkedTable: props.parkedTable,
    coordinationTable: props.coordinationTable,
    removalPolicy,
    deletionProtection,
    consumerMemorySizeMiB: integer(
      'consumerMemorySizeMiB',
      props.consumerMemorySizeMiB ?? DEFAULTS.consumerMemorySizeMiB,
      128,
      10_240,
    ),
    consumerTimeoutSeconds: whole(
      'consumerTimeout',
      props.consumerTimeout ?? DEFAULTS.consumerTimeout,
      'seconds',
      1,
      900,
    ),
    ...mappingProps(props, config),
    ...clusterManagerProps(props),
    config,
    ...configRolloutProps(props),
    dashboard: props.dashboard ?? DEFAULTS.dashboard,
    alarmTopic: props.alarmTopic,
    iteratorAgeAlarmThresholdMs: whole(
      'iteratorAgeAlarmThreshold',
      props.iteratorAgeAlarmThreshold ?? DEFAULTS.iteratorAgeAlarmThreshold,
      'milliseconds',
      1,
      7 * 86_400_000,
    ),
    consumerErrorsAlarmThreshold: integer(
      'consumerErrorsAlarmThreshold',
      props.consumerErrorsAlarmThreshold ?? DEFAULTS.consumerErrorsAlarmThreshold,
      1,
      1_000_000,
    ),
    parkedAlarmThreshold: integer(
      'parkedAlarmThreshold',
      props.parkedAlarmThreshold ?? DEFAULTS.parkedAlarmThreshold,
      1,
      1_000_000,
    ),
    sourceLatencyAlarmThresholdMs: whole(
      'sourceLatencyAlarmThreshold',
      props.sourceLatencyAlarmThreshold ?? DEFAULTS.sourceLatencyAlarmThreshold,
      'milliseconds',
      1,
      7 * 86_400_000,
    ),
    runbookUrl: runbookUrl(props),
    tracing: props.tracing ?? DEFAULTS.tracing,
    logRetention: props.logRetention ?? DEFAULTS.logRetention,
  };
}

export type { CdcProcessorProps, ResolvedProps, StartingPosition };
export { DEFAULTS, resolveProps };
