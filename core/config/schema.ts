/**
 * The one configuration schema (docs/architecture.md §10). Everything tunable lives here with its default; the
 * JSON Schema generated from it (`json-schema.ts`) validates AppConfig deployments, and locally the same
 * schema validates the watched file.
 *
 * Every constraint is on one field, so that the JSON Schema says exactly what this schema accepts: where two
 * settings must agree they are expressed as a ratio (`heartbeatsPerLease`) or given ranges that cannot
 * cross (`scaleInUtilization` ≤ 0.25 ≤ half of `targetUtilization`). The rules that span two fields,
 * `scaling.minShards ≤ scaling.maxShards` and "source-priority needs a sourcePriority list", are listed in
 * {@link CROSS_FIELD_RULES}: `cdcp config validate`, every publisher and every instance check them;
 * AppConfig's JSON Schema validator cannot.
 */
import { z } from 'zod';

/** Decoders a table can be pinned to instead of detecting the format per record. */
const TABLE_FORMATS = ['debezium', 'debezium-unwrapped', 'dms', 'dynamodb'] as const;
/** Table priorities; shedding defers the priorities in `shedding.deferPriorities`. */
const PRIORITIES = ['high', 'normal', 'low'] as const;
/**
 * What happens when changes of two sources describe one aggregate (docs/architecture.md contract 9; see
 * docs/state.md, "Sources and conflict strategies"). Within one source, changes always apply in position
 * order and a change at or below its source's mark is a duplicate; positions of different sources never
 * compare. `source-position` is the former name of `single-source`, still accepted.
 */
const CONFLICT_STRATEGIES = [
  'single-source',
  'source-priority',
  'last-writer-wins',
  'field-merge',
  'custom',
  'source-position',
] as const;

const CONFLICT_STRATEGY_TEXT =
  'single-source: the first source of an aggregate owns it; a change of another source is parked as ' +
  'CONFLICTING_SOURCE. source-priority: a source earlier in sourcePriority overrides a later one. ' +
  'last-writer-wins: the change with the latest source commit time wins (then the greater source id, then ' +
  'position). field-merge: per-field last-writer-wins, converging whatever the delivery order. custom: the ' +
  "projection's resolveConflict decides. source-position: the former name of single-source.";

/** Source ids in priority order, highest first (`debezium:dbserver1`, `dms`; see docs/formats.md). */
const sourcePriority = () => z.array(z.string().min(1)).min(1).optional();
/** How the elected assigner divides shard leases among workers. */
const ASSIGNMENT_STRATEGIES = ['round-robin', 'least-loaded', 'adaptive', 'bounded-load'] as const;

/** Levels the functions' loggers run at (Powertools Logger's names), from the most to the least said. */
const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

const DEFAULT_MIN_SHARDS = 1;
const DEFAULT_MAX_SHARDS = 64;

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const ratio = (min: number, max: number) => z.number().min(min).max(max);

const TableSettingsSchema = z
  .object({
    keyColumns: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe(
        'Key columns of the table, used when a record carries no key. Absent: the record must carry one.',
      ),
    format: z
      .enum(TABLE_FORMATS)
      .optional()
      .describe(
        "Read this table's records as this format instead of detecting it per record. Absent: detect.",
      ),
    priority: z
      .enum(PRIORITIES)
      .default('normal')
      .describe(
        'While shedding is active, changes of tables whose priority is in shedding.deferPriorities are deferred.',
      ),
    paused: z
      .boolean()
      .default(false)
      .describe(
        "Projection off: the table's changes are parked as DEFERRED, in order per aggregate, instead of applied; " +
          'setting it back to false replays them in order.',
      ),
    conflictStrategy: z
      .enum(CONFLICT_STRATEGIES)
      .optional()
      .describe("This table's conflicts.strategy. Absent: conflicts.strategy."),
    sourcePriority: sourcePriority().describe(
      "This table's conflicts.sourcePriority: source ids, highest priority first. Absent: conflicts.sourcePriority.",
    ),
  })
  .strict();

const ProcessingSchema = z
  .object({
    maxAttempts: int(1, 1000)
      .default(3)
      .describe('Deliveries of a failing change before it is parked and its aggregate quarantined.'),
    aggregateConcurrency: int(1, 512).default(32).describe('Aggregates of one batch applied concurrently.'),
    tombstoneTtlSeconds: z
      .number()
      .int()
      .min(60)
      .default(30 * 24 * 3600)
      .describe(
        "How long a delete's tombstone is kept; must exceed stream retention plus the longest redelivery.",
      ),
    maxRecordBytes: int(1024, 10_485_760)
      .default(1_048_576)
      .describe('Records above this size are parked as TOO_LARGE.'),
    faultInjection: z
      .boolean()
      .default(false)
      .describe(
        'Honour the fault-injection column __cdcp_fail (such a change fails in the projection every time). For ' +
          'tests and npm start -- --inject-poison; keep it off in production.',
      ),
  })
  .strict();

const ConflictsSchema = z
  .object({
    strategy: z.enum(CONFLICT_STRATEGIES).default('single-source').describe(CONFLICT_STRATEGY_TEXT),
    sourcePriority: sourcePriority().describe(
      'source-priority: source ids (debezium:<server name>, dms, dynamodb:<region>/<table>), highest ' +
        'priority first; a change of a source not listed is parked as CONFLICTING_SOURCE.',
    ),
  })
  .strict();

const LocksSchema = z
  .object({
    leaseDurationMs: int(1_000, 600_000)
      .default(20_000)
      .describe("How long a named lock outlives its holder's last heartbeat, on the observer's clock."),
    heartbeatsPerLease: int(2, 60)
      .default(4)
      .describe('Heartbeats a lock holder writes per lease duration (period = leaseDurationMs / this).'),
    waitMs: int(0, 600_000)
      .default(5_000)
      .describe(
        'How long a consumer waits for the aggregate locks of a projection that declares holdLocks before the ' +
          'aggregate fails and its changes are redelivered. Keep it well below the consumer timeout.',
      ),
    clockSkewAllowanceMs: int(0, 3_600_000)
      .optional()
      .describe(
        "Opt-in fast path: a lock whose holder's wall-clock write is older than the lease plus this is expired " +
          'at first sight. Absent: off, only observed silence expires a lock.',
      ),
  })
  .strict();

const InstancesSchema = z
  .object({
    failureDetectionMs: int(2_000, 600_000)
      .default(20_000)
      .describe(
        "An instance whose heartbeat counter has not moved for this long, on the observer's clock, is presumed " +
          'dead; shard leases renewed by its heartbeat expire with it.',
      ),
    heartbeatsPerWindow: int(2, 60)
      .default(4)
      .describe(
        'Heartbeats an instance writes per failure-detection window (interval = failureDetectionMs / this).',
      ),
  })
  .strict();

const LeasesSchema = z
  .object({
    assignment: z
      .enum(ASSIGNMENT_STRATEGIES)
      .default('least-loaded')
      .describe('How the elected assigner divides shard leases among workers.'),
    boundedLoadCapacityFactor: ratio(1, 4)
      .default(1.25)
      .describe('bounded-load: a worker takes at most this times the mean load.'),
    rebalanceIntervalMs: int(1_000, 3_600_000)
      .default(10_000)
      .describe('How often the assigner recomputes the assignment and moves leases by graceful hand-off.'),
    failureDetectionMs: int(2_000, 600_000)
      .default(4_500)
      .describe(
        "A worker whose membership heartbeat has not moved for this long, on the observer's clock, is presumed " +
          'dead and its shard leases are taken over; workers heartbeat every half of it at rest and every quarter ' +
          'while busy, and each heartbeat is one write that also returns the others (docs/cluster.md).',
      ),
    membershipGroups: int(1, 1_000)
      .default(1)
      .describe(
        'Membership items the worker fleet is spread over. One item returns every heartbeat to every worker; a ' +
          'fleet of hundreds needs several (about one per 32 workers) to stay within DynamoDB item and partition limits.',
      ),
  })
  .strict();

const SheddingSchema = z
  .object({
    active: z
      .boolean()
      .default(false)
      .describe(
        'Shedding now: changes of tables whose priority is in deferPriorities are parked as DEFERRED, in order ' +
          'per aggregate, and replayed in order when it is lifted. Set by the cluster manager or an operator.',
      ),
    auto: z.boolean().default(true).describe('The cluster manager may turn shedding on and off by itself.'),
    lagCriticalMs: int(60_000, 86_400_000)
      .default(300_000)
      .describe('Iterator age above which the manager sheds when scaling cannot act in time.'),
    lagRecoveredMs: int(1_000, 60_000)
      .default(30_000)
      .describe('Iterator age below which the manager lifts shedding (replaying what was deferred).'),
    deferPriorities: z
      .array(z.enum(['normal', 'low']))
      .min(1)
      .default(['low'])
      .describe('Table priorities deferred while shedding; high is never deferred.'),
  })
  .strict();

const ScalingSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('The cluster manager acts on its plan; false: it plans and audits but changes nothing.'),
    targetUtilization: ratio(0.5, 1)
      .default(0.7)
      .describe("Share of a shard's write limits (1,000 records/s, 1 MiB/s) a shard should run at."),
    scaleOutAfterSeconds: int(60, 900).default(300).describe('Over target for this long before scaling out.'),
    scaleOutIteratorAgeMs: int(1_000, 86_400_000)
      .default(60_000)
      .describe('Iterator age that scales out at once, whatever the utilisation.'),
    scaleInUtilization: ratio(0.01, 0.25)
      .default(0.2)
      .describe(
        'Under this share for scaleInAfterSeconds, merge cold adjacent shards (merged, they stay under target).',
      ),
    scaleInAfterSeconds: int(901, 86_400)
      .default(1_800)
      .describe('Quiet window before scaling in; longer than scaleOutAfterSeconds (hysteresis).'),
    cooldownSeconds: int(0, 86_400).default(900).describe('No resharding for this long after one.'),
    minShards: int(1, 10_000).default(DEFAULT_MIN_SHARDS).describe('Fewest open shards.'),
    maxShards: int(1, 10_000).default(DEFAULT_MAX_SHARDS).describe('Most open shards.'),
    maxParallelizationFactor: int(1, 10)
      .default(10)
      .describe(
        "Highest ParallelizationFactor the manager sets on the event source mapping (Lambda's limit is 10).",
      ),
    updateShardCountReserve: int(0, 9)
      .default(2)
      .describe(
        'Of the 10 UpdateShardCount calls Kinesis allows per rolling 24 h, keep this many for later.',
      ),
    hotKeyShardShare: ratio(0.1, 1)
      .default(0.8)
      .describe(
        "A partition key above this share of one shard's limits is reported as hot instead of split.",
      ),
  })
  .strict();

const LoggingSchema = z
  .object({
    level: z
      .enum(LOG_LEVELS)
      .optional()
      .describe(
        'Log level of the consumers and the cluster manager, applied at their next batch or run. DEBUG adds a ' +
          'line per batch with its counts; WARN keeps warnings and errors only (failing and poison changes, ' +
          'refused configurations). Absent: the level each logger was started with (LOG_LEVEL, else INFO).',
      ),
  })
  .strict();

const CacheSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        'Owner cache of a projection that reads the previous state: each consumer instance keeps the items of ' +
          'the aggregates it applies and reads only those it does not hold; writes stay conditional on the ' +
          'cached revision, so a stale entry costs a retry, never a wrong state. Projections that do not read ' +
          'the state never use it.',
      ),
    maxBytes: int(1_048_576, 17_179_869_184)
      .default(67_108_864)
      .describe(
        "Bound of one instance's cache, in estimated heap bytes of the items it holds; the least recently used " +
          "leave first. Keep it well under the consumer's memory (a Lambda function's memory size, a worker's task memory).",
      ),
  })
  .strict();

/** Rules spanning two fields: JSON Schema cannot express them, so AppConfig's validator does not check them. */
const SOURCE_PRIORITY_RULE =
  "where the strategy is source-priority, a sourcePriority list is needed (the table's, else conflicts.sourcePriority)";

const CROSS_FIELD_RULES = [
  { path: 'scaling.minShards', rule: 'scaling.minShards must not exceed scaling.maxShards' },
  { path: 'conflicts.sourcePriority', rule: SOURCE_PRIORITY_RULE },
  { path: 'tables.<table>.sourcePriority', rule: SOURCE_PRIORITY_RULE },
] as const;

const ConfigSchema = z
  .object({
    version: z
      .string()
      .min(1)
      .default('0')
      .describe(
        'Version label, set by the publisher (cdcp config set, the cluster manager) to the next version ' +
          'number; instances report the version they run.',
      ),
    publishedAt: z.iso
      .datetime()
      .optional()
      .describe(
        'When the publisher published this version; instances measure how long it took to reach them.',
      ),
    processing: ProcessingSchema.prefault({}),
    conflicts: ConflictsSchema.prefault({}),
    tables: z
      .record(z.string(), TableSettingsSchema)
      .default({})
      .describe('Per-table settings, keyed by <schema-or-db>.<table>.'),
    locks: LocksSchema.prefault({}),
    instances: InstancesSchema.prefault({}),
    leases: LeasesSchema.prefault({}),
    shedding: SheddingSchema.prefault({}),
    scaling: ScalingSchema.prefault({}),
    logging: LoggingSchema.prefault({}),
    cache: CacheSchema.prefault({}),
  })
  .strict()
  .superRefine((config, context) => {
    for (const issue of crossFieldIssues(config)) context.addIssue({ code: 'custom', ...issue });
  });

/**
 * Violations of {@link CROSS_FIELD_RULES} in a document (parsed or not: absent settings take their defaults,
 * settings that are not integers are left to their own checks). The zod schema runs it as a refinement, which
 * zod skips when other settings already failed; `validateConfig` runs it on the raw document too, so that a
 * document with several problems gets all of them listed.
 */
function crossFieldIssues(document: unknown): { path: string[]; input: unknown; message: string }[] {
  return [...shardCountIssues(document), ...sourcePriorityIssues(document)];
}

/** An own property of a value that may be anything; undefined for what is not an object. */
function settingOf(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, name)
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

/** Where the strategy is source-priority (conflicts', or a table's), some sourcePriority must apply. */
function sourcePriorityIssues(document: unknown): { path: string[]; input: unknown; message: string }[] {
  const conflicts = settingOf(document, 'conflicts');
  const globalStrategy = settingOf(conflicts, 'strategy');
  const globalList = settingOf(conflicts, 'sourcePriority');
  const issues: { path: string[]; input: unknown; message: string }[] = [];
  const message =
    'a sourcePriority list of source ids, highest priority first (for example ["debezium:dbserver1", "dms"])';
  const tables = settingOf(document, 'tables');
  const entries = typeof tables === 'object' && tables !== null ? Object.entries(tables) : [];
  for (const [table, settings] of entries) {
    const strategy = settingOf(settings, 'conflictStrategy') ?? globalStrategy;
    if (strategy === 'source-priority' && (settingOf(settings, 'sourcePriority') ?? globalList) === undefined)
      issues.push({ path: ['tables', table, 'sourcePriority'], input: undefined, message });
  }
  if (globalStrategy === 'source-priority' && globalList === undefined)
    issues.push({ path: ['conflicts', 'sourcePriority'], input: undefined, message });
  return issues;
}

function shardCountIssues(document: unknown): { path: string[]; input: unknown; message: string }[] {
  const scaling = (document as { scaling?: unknown } | null | undefined)?.scaling;
  if (scaling !== undefined && (typeof scaling !== 'object' || scaling === null)) return [];
  const { minShards = DEFAULT_MIN_SHARDS, maxShards = DEFAULT_MAX_SHARDS } = (scaling ?? {}) as {
    minShards?: unknown;
    maxShards?: unknown;
  };
  if (
    !Number.isInteger(minShards) ||
    !Number.isInteger(maxShards) ||
    (minShards as number) <= (maxShards as number)
  )
    return [];
  return [
    { path: ['scaling', 'minShards'], input: minShards, message: `at most scaling.maxShards (${maxShards})` },
  ];
}

type Config = z.infer<typeof ConfigSchema>;
type ConfigInput = z.input<typeof ConfigSchema>;
type TableSettings = z.infer<typeof TableSettingsSchema>;
type TablePriority = (typeof PRIORITIES)[number];
type ConflictStrategy = (typeof CONFLICT_STRATEGIES)[number];
type AssignmentStrategy = (typeof ASSIGNMENT_STRATEGIES)[number];
type LogLevel = (typeof LOG_LEVELS)[number];

/** The complete default configuration. */
function defaultConfig(): Config {
  return ConfigSchema.parse({});
}

/**
 * Parses and validates a configuration; throws a ZodError listing every violation. For messages people read,
 * use `validateConfig` (`violations.ts`), which names the path, the value received and what was expected.
 *
 * @example
 * ```ts
 * const config = parseConfig({ processing: { maxAttempts: 5 } });
 * ```
 */
function parseConfig(input: unknown): Config {
  return ConfigSchema.parse(input);
}

export type {
  AssignmentStrategy,
  Config,
  ConfigInput,
  ConflictStrategy,
  LogLevel,
  TablePriority,
  TableSettings,
};
export {
  ASSIGNMENT_STRATEGIES,
  CONFLICT_STRATEGIES,
  ConfigSchema,
  CROSS_FIELD_RULES,
  crossFieldIssues,
  defaultConfig,
  LOG_LEVELS,
  PRIORITIES,
  parseConfig,
  TABLE_FORMATS,
};
