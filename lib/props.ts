import { RemovalPolicy } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { type Config, type ConfigInput, parseConfig } from '../core/config/schema.js';
import { CdcProcessorPropsError } from './errors.js';

/** Where the consumer starts reading a shard that has no checkpoint. */
type StartingPosition = 'TRIM_HORIZON' | 'LATEST';

/**
 * Props of {@link CdcProcessor}. Every prop is optional; the defaults deploy a small, production-shaped
 * processor (2 shards, retained and deletion-protected data, alarms to a created topic).
 */
interface CdcProcessorProps {
  // ── Kinesis stream ──────────────────────────────────────────────────────────────────────────────
  /** Open shards of the provisioned stream (1 MB/s or 1,000 records/s in each). @default 2 */
  readonly shardCount?: number;
  /** How long the stream keeps records; above 24 hours costs extra per shard-hour. @default 24 */
  readonly streamRetentionHours?: number;
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

  // ── Data lifecycle ──────────────────────────────────────────────────────────────────────────────
  /** What happens to the tables, stream and failure queues when they leave the stack. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** DynamoDB deletion protection on the three tables. @default true */
  readonly deletionProtection?: boolean;

  // ── Consumer function and its event source mapping ─────────────────────────────────────────────
  /** Memory of the consumer function (CPU grows with it). @default 1024 */
  readonly consumerMemorySizeMiB?: number;
  /** Timeout of one consumer invocation. @default 60 */
  readonly consumerTimeoutSeconds?: number;
  /** Records per invocation, 1..10000. @default 100 */
  readonly batchSize?: number;
  /** How long the mapping gathers records before invoking, 0..300. @default 0 */
  readonly maxBatchingWindowSeconds?: number;
  /** Concurrent batches per shard, 1..10; one partition key always stays in one of them. @default 1 */
  readonly parallelizationFactor?: number;
  /**
   * Retries of a failing batch before Lambda sends its description to the on-failure queue and moves on;
   * -1 = until the record expires. Must let the handler reach `config.processing.maxAttempts`, where it
   * parks the change itself and nothing is skipped. @default 10
   */
  readonly retryAttempts?: number;
  /** Records older than this go to the on-failure queue, 60..604800; -1 = never. @default -1 */
  readonly maxRecordAgeSeconds?: number;
  /**
   * Split a failing batch in two and retry each half. Off: the handler isolates failures per aggregate and
   * reports the exact failing record, which bisecting can only re-find at the cost of extra invocations.
   * @default false
   */
  readonly bisectBatchOnError?: boolean;
  /** Where the consumer starts on a shard without a checkpoint. @default 'TRIM_HORIZON' */
  readonly startingPosition?: StartingPosition;
  /** How long the on-failure queue (and its dead-letter queue) keeps batch descriptions, 1..14. @default 14 */
  readonly failureQueueRetentionDays?: number;
  /** Receives of a failure message before it moves to the failure queue's own dead-letter queue. @default 5 */
  readonly failureQueueMaxReceiveCount?: number;

  // ── Cluster manager ─────────────────────────────────────────────────────────────────────────────
  /** Minutes between cluster manager runs (EventBridge rate). @default 1 */
  readonly clusterManagerScheduleMinutes?: number;
  /** Timeout of one cluster manager run; shorter than the schedule so runs do not overlap. @default 50 */
  readonly clusterManagerTimeoutSeconds?: number;

  // ── Configuration (AppConfig) ───────────────────────────────────────────────────────────────────
  /** The configuration deployed with the stack, validated by the config schema. @default the schema's defaults */
  readonly config?: ConfigInput;
  /** Minutes over which a configuration deployment reaches every target. @default 0 */
  readonly configDeploymentDurationMinutes?: number;
  /** Minutes AppConfig watches a finished deployment before it is final. @default 1 */
  readonly configFinalBakeTimeMinutes?: number;

  // ── Observability ───────────────────────────────────────────────────────────────────────────────
  /** Topic the alarms notify (and send OK to). @default a topic created here, TLS only */
  readonly alarmTopic?: ITopic;
  /** Consumer iterator age (maximum) that raises the lag alarm. @default 60_000 */
  readonly iteratorAgeAlarmThresholdMs?: number;
  /** Consumer invocation errors per minute that count toward the errors alarm (3 of 5 minutes). @default 1 */
  readonly consumerErrorsAlarmThreshold?: number;
  /** Changes parked (poison or bad input) within 5 minutes that raise the parked alarm. @default 1 */
  readonly parkedAlarmThreshold?: number;
  /**
   * Minutes without a cluster manager heartbeat (no leader ran) before the alarm fires; at least twice the
   * schedule. @default 5, or twice `clusterManagerScheduleMinutes` if that is longer
   */
  readonly clusterManagerHeartbeatAlarmMinutes?: number;
  /** Retention of the functions' log groups. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/** Props with every default filled in and every value checked. */
interface ResolvedProps
  extends Required<Omit<CdcProcessorProps, 'streamEncryptionKey' | 'alarmTopic' | 'config'>> {
  readonly streamEncryptionKey: IKey | undefined;
  readonly alarmTopic: ITopic | undefined;
  readonly config: Config;
}

const DEFAULTS = {
  shardCount: 2,
  streamRetentionHours: 24,
  shardLevelMetrics: true,
  removalPolicy: RemovalPolicy.RETAIN,
  deletionProtection: true,
  consumerMemorySizeMiB: 1024,
  consumerTimeoutSeconds: 60,
  batchSize: 100,
  maxBatchingWindowSeconds: 0,
  parallelizationFactor: 1,
  retryAttempts: 10,
  maxRecordAgeSeconds: -1,
  bisectBatchOnError: false,
  startingPosition: 'TRIM_HORIZON',
  failureQueueRetentionDays: 14,
  failureQueueMaxReceiveCount: 5,
  clusterManagerScheduleMinutes: 1,
  clusterManagerTimeoutSeconds: 50,
  configDeploymentDurationMinutes: 0,
  configFinalBakeTimeMinutes: 1,
  iteratorAgeAlarmThresholdMs: 60_000,
  consumerErrorsAlarmThreshold: 1,
  parkedAlarmThreshold: 1,
  clusterManagerHeartbeatAlarmMinutes: 5,
  logRetention: RetentionDays.ONE_MONTH,
} as const satisfies Partial<CdcProcessorProps>;

function integer(prop: string, value: number, min: number, max: number, fix = ''): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new CdcProcessorPropsError(prop, value, `must be an integer in ${min}..${max}${fix}`);
  return value;
}

function parseConfigProp(input: ConfigInput | undefined): Config {
  try {
    return parseConfig(input ?? {});
  } catch (cause) {
    throw new CdcProcessorPropsError(
      'config',
      input,
      `is not a valid configuration (${cause instanceof Error ? cause.message : String(cause)}); fix it against core/config/schema.ts`,
    );
  }
}

/** Fills defaults and rejects values AWS would reject (or that would lose records), naming the value received. */
function resolveProps(props: CdcProcessorProps): ResolvedProps {
  const scheduleMinutes = props.clusterManagerScheduleMinutes ?? DEFAULTS.clusterManagerScheduleMinutes;
  const p = {
    ...DEFAULTS,
    clusterManagerHeartbeatAlarmMinutes: Math.max(
      DEFAULTS.clusterManagerHeartbeatAlarmMinutes,
      2 * scheduleMinutes,
    ),
    ...withoutUndefined(props),
  };
  const config = parseConfigProp(props.config);
  integer('shardCount', p.shardCount, 1, 10_000);
  integer('streamRetentionHours', p.streamRetentionHours, 24, 8760);
  integer('consumerMemorySizeMiB', p.consumerMemorySizeMiB, 128, 10_240);
  integer('consumerTimeoutSeconds', p.consumerTimeoutSeconds, 1, 900);
  integer('batchSize', p.batchSize, 1, 10_000);
  integer('maxBatchingWindowSeconds', p.maxBatchingWindowSeconds, 0, 300);
  integer('parallelizationFactor', p.parallelizationFactor, 1, 10);
  integer('retryAttempts', p.retryAttempts, -1, 10_000);
  if (p.retryAttempts !== -1 && p.retryAttempts < config.processing.maxAttempts)
    throw new CdcProcessorPropsError(
      'retryAttempts',
      p.retryAttempts,
      `must be -1 or at least config.processing.maxAttempts (${config.processing.maxAttempts}): with fewer, Lambda ` +
        'gives up on a failing batch before the handler parks the change, and the shard skips records instead ' +
        'of parking them; raise retryAttempts or lower maxAttempts',
    );
  const { minShards, maxShards, maxParallelizationFactor } = config.scaling;
  if (p.shardCount < minShards || p.shardCount > maxShards)
    throw new CdcProcessorPropsError(
      'shardCount',
      p.shardCount,
      `must lie within config.scaling.minShards..maxShards (${minShards}..${maxShards}), or the cluster ` +
        'manager reshards the stream right after the deploy; change one or the other',
    );
  if (p.parallelizationFactor > maxParallelizationFactor)
    throw new CdcProcessorPropsError(
      'parallelizationFactor',
      p.parallelizationFactor,
      `must not exceed config.scaling.maxParallelizationFactor (${maxParallelizationFactor}); change one or the other`,
    );
  if (p.maxRecordAgeSeconds !== -1)
    integer('maxRecordAgeSeconds', p.maxRecordAgeSeconds, 60, 604_800, ' or -1 (never)');
  if (p.startingPosition !== 'TRIM_HORIZON' && p.startingPosition !== 'LATEST')
    throw new CdcProcessorPropsError(
      'startingPosition',
      p.startingPosition,
      "must be 'TRIM_HORIZON' or 'LATEST'",
    );
  integer('failureQueueRetentionDays', p.failureQueueRetentionDays, 1, 14);
  integer('failureQueueMaxReceiveCount', p.failureQueueMaxReceiveCount, 1, 1000);
  integer('clusterManagerScheduleMinutes', p.clusterManagerScheduleMinutes, 1, 60);
  integer(
    'clusterManagerTimeoutSeconds',
    p.clusterManagerTimeoutSeconds,
    1,
    Math.min(900, p.clusterManagerScheduleMinutes * 60 - 1),
    ' (shorter than the schedule, so runs do not overlap)',
  );
  integer('configDeploymentDurationMinutes', p.configDeploymentDurationMinutes, 0, 1440);
  integer('configFinalBakeTimeMinutes', p.configFinalBakeTimeMinutes, 0, 1440);
  integer('iteratorAgeAlarmThresholdMs', p.iteratorAgeAlarmThresholdMs, 1, 7 * 86_400_000);
  integer('consumerErrorsAlarmThreshold', p.consumerErrorsAlarmThreshold, 1, 1_000_000);
  integer('parkedAlarmThreshold', p.parkedAlarmThreshold, 1, 1_000_000);
  integer(
    'clusterManagerHeartbeatAlarmMinutes',
    p.clusterManagerHeartbeatAlarmMinutes,
    Math.max(2, p.clusterManagerScheduleMinutes * 2),
    1440,
    ' and at least twice the schedule, so one late run does not page anyone',
  );
  if (p.removalPolicy === RemovalPolicy.DESTROY && p.deletionProtection)
    throw new CdcProcessorPropsError(
      'deletionProtection',
      p.deletionProtection,
      'must be false when removalPolicy is DESTROY, or CloudFormation cannot delete the tables; set both',
    );
  return {
    ...p,
    startingPosition: p.startingPosition as StartingPosition,
    logRetention: p.logRetention as RetentionDays,
    removalPolicy: p.removalPolicy as RemovalPolicy,
    streamEncryptionKey: props.streamEncryptionKey,
    alarmTopic: props.alarmTopic,
    config,
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export type { CdcProcessorProps, ResolvedProps, StartingPosition };
export { DEFAULTS, resolveProps };
