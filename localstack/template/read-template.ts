import type {
  AttributeDefinition,
  GlobalSecondaryIndex,
  KeySchemaElement,
  LocalSecondaryIndex,
} from '@aws-sdk/client-dynamodb';
import { ENV } from '../../core/constants.js';
import { type MappingSettings, mappingSettings } from '../../core/esm/settings.js';
import type { ResourceNames } from '../provision.js';
import { type CfnTemplate, getAttArnOf, refOf, resourcesOfType } from './cfn-template.js';
import { TemplateError } from './errors.js';

type TableRole = Exclude<keyof ResourceNames, 'streamName'>;

/**
 * Which table is which: the environment variable the functions read each table's name from. The template
 * sets them to `{ Ref: <table> }`, so the variable names (shared constants) identify the tables.
 */
const TABLE_ROLES: readonly (readonly [string, TableRole])[] = [
  [ENV.STATE_TABLE, 'stateTable'],
  [ENV.PARKED_TABLE, 'parkedTable'],
  [ENV.COORDINATION_TABLE, 'coordinationTable'],
];

/** One AWS::DynamoDB::Table as declared. */
interface TableDeclaration {
  readonly logicalId: string;
  /** The role the functions' environment gives it; undefined for a table no function names. */
  readonly role: TableRole | undefined;
  readonly attributeDefinitions: AttributeDefinition[];
  readonly keySchema: KeySchemaElement[];
  readonly globalSecondaryIndexes: GlobalSecondaryIndex[];
  readonly localSecondaryIndexes: LocalSecondaryIndex[];
  readonly billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED';
  readonly ttlAttribute: string | undefined;
}

interface StreamDeclaration {
  readonly logicalId: string;
  /** Undefined for an on-demand stream. */
  readonly shardCount: number | undefined;
  readonly mode: 'PROVISIONED' | 'ON_DEMAND';
  readonly retentionHours: number;
}

/** The event source mapping settings the local mapping cannot take from {@link MappingSettings}. */
interface MappingOptions {
  readonly reportBatchItemFailures: boolean;
  readonly bisectBatchOnFunctionError: boolean;
  /** Whether Lambda sends batches it gives up on to an on-failure destination. */
  readonly onFailureDestination: boolean;
}

interface ScheduleDeclaration {
  readonly logicalId: string;
  /** As declared, e.g. `rate(1 minute)`. */
  readonly expression: string;
  /** The period of a `rate(...)` expression; undefined for `cron(...)`. */
  readonly intervalMs: number | undefined;
  /** The function the rule invokes. */
  readonly functionLogicalId: string;
}

/** What the local runtime provisions and configures from the template. */
interface TemplateModel {
  readonly tables: readonly TableDeclaration[];
  readonly stream: StreamDeclaration;
  readonly consumerLogicalId: string;
  readonly mapping: MappingSettings;
  readonly mappingOptions: MappingOptions;
  /** The cluster manager's schedule; undefined if the template schedules no function. */
  readonly clusterManagerSchedule: ScheduleDeclaration | undefined;
}

function one<T>(items: readonly T[], what: string): T {
  if (items.length !== 1)
    throw new TemplateError(
      `the template declares ${items.length} ${what}; local provisioning expects exactly one. ` +
        'Synthesize the CdcProcessorStack (bin/app.ts) and provision from its template.',
    );
  return items[0]!;
}

/** What the template says about the consumer: its mapping settings and the environment that names its tables. */
interface ConsumerDeclaration {
  readonly consumerLogicalId: string;
  readonly mapping: MappingSettings;
  readonly mappingOptions: MappingOptions;
  readonly environment: Record<string, unknown>;
}

/**
 * The consumer of the stream: Lambda's event source mapping and its function, or, without one, the worker
 * fleet's task definition, whose container takes the same settings as `CDCP_WORKER_*` variables (the workers'
 * mapping reports batch item failures and parks what it gives up on, so it has no on-failure destination).
 */
function readConsumer(template: CfnTemplate, streamLogicalId: string): ConsumerDeclaration {
  const mappings = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').filter(
    (m) => getAttArnOf(m.properties.EventSourceArn) === streamLogicalId,
  );
  if (mappings.length === 0) {
    const fleet = readWorkerFleet(template, streamLogicalId);
    if (fleet !== undefined) return fleet;
  }
  const mappingResource = one(mappings, `event source mappings on the stream ${streamLogicalId}`);
  const m = mappingResource.properties;
  const consumerLogicalId = refOf(m.FunctionName);
  if (consumerLogicalId === undefined)
    throw new TemplateError(
      `the event source mapping ${mappingResource.logicalId} names no function of the template`,
    );
  const fn = resourcesOfType(template, 'AWS::Lambda::Function').find(
    (f) => f.logicalId === consumerLogicalId,
  );
  return {
    consumerLogicalId,
    mapping: checkedMapping({
      batchSize: numberOr(m.BatchSize, 100),
      maximumBatchingWindowMs: numberOr(m.MaximumBatchingWindowInSeconds, 0) * 1000,
      parallelizationFactor: numberOr(m.ParallelizationFactor, 1),
      maximumRetryAttempts: numberOr(m.MaximumRetryAttempts, -1),
      maximumRecordAgeSeconds: numberOr(m.MaximumRecordAgeInSeconds, -1),
      startingPosition: m.StartingPosition ?? 'TRIM_HORIZON',
    }),
    mappingOptions: {
      reportBatchItemFailures: ((m.FunctionResponseTypes as string[] | undefined) ?? []).includes(
        'ReportBatchItemFailures',
      ),
      bisectBatchOnFunctionError: m.BisectBatchOnFunctionError === true,
      onFailureDestination:
        (m.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure
          ?.Destination !== undefined,
    },
    environment: fn === undefined ? {} : environmentOf(fn.properties),
  };
}

/** The worker fleet's task definition reading the stream, if the template has one. */
function readWorkerFleet(template: CfnTemplate, streamLogicalId: string): ConsumerDeclaration | undefined {
  for (const definition of resourcesOfType(template, 'AWS::ECS::TaskDefinition')) {
    const containers =
      (definition.properties.ContainerDefinitions as {
        Environment?: { Name: string; Value: unknown }[];
      }[]) ?? [];
    for (const container of containers) {
      const environment = Object.fromEntries((container.Environment ?? []).map((e) => [e.Name, e.Value]));
      if (refOf(environment[ENV.STREAM_NAME]) !== streamLogicalId) continue;
      return {
        consumerLogicalId: definition.logicalId,
        mapping: checkedMapping({
          batchSize: numberOr(environment[ENV.WORKER_BATCH_SIZE], 100),
          maximumBatchingWindowMs: numberOr(environment[ENV.WORKER_BATCHING_WINDOW_MS], 0),
          parallelizationFactor: numberOr(environment[ENV.WORKER_PARALLELIZATION_FACTOR], 1),
          maximumRetryAttempts: numberOr(environment[ENV.WORKER_MAX_RETRY_ATTEMPTS], -1),
          maximumRecordAgeSeconds: numberOr(environment[ENV.WORKER_MAX_RECORD_AGE_SECONDS], -1),
          startingPosition: environment[ENV.WORKER_STARTING_POSITION] ?? 'TRIM_HORIZON',
        }),
        mappingOptions: {
          reportBatchItemFailures: true,
          bisectBatchOnFunctionError: false,
          onFailureDestination: false,
        },
        environment,
      };
    }
  }
  return undefined;
}

/** The mapping settings, with a starting position the local mapping can take. */
function checkedMapping(settings: Omit<MappingSettings, 'startingPosition'> & { startingPosition: unknown }) {
  const { startingPosition } = settings;
  if (startingPosition !== 'TRIM_HORIZON' && startingPosition !== 'LATEST')
    throw new TemplateError(
      `the event source mapping starts at ${String(startingPosition)}; the local mapping supports TRIM_HORIZON and LATEST`,
    );
  return mappingSettings({ ...settings, startingPosition });
}

function environmentOf(properties: Record<string, unknown>): Record<string, unknown> {
  const environment = properties.Environment as { Variables?: Record<string, unknown> } | undefined;
  return environment?.Variables ?? {};
}

function numberOr(value: unknown, fallback: number): number {
  return value === undefined ? fallback : Number(value);
}

const RATE_UNITS_MS: Readonly<Record<string, number>> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** `rate(5 minutes)` → 300000; `cron(...)` → undefined. */
function rateIntervalMs(expression: string): number | undefined {
  const match = /^rate\((\d+)\s+([a-z]+)\)$/.exec(expression.trim());
  if (match === null) return undefined;
  const unit = RATE_UNITS_MS[match[2]!];
  if (unit === undefined) throw new TemplateError(`schedule ${expression} has an unknown unit ${match[2]}`);
  return Number(match[1]) * unit;
}

function readTable(
  logicalId: string,
  p: Record<string, unknown>,
  role: TableRole | undefined,
): TableDeclaration {
  const ttl = p.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
  return {
    logicalId,
    role,
    attributeDefinitions: (p.AttributeDefinitions as AttributeDefinition[] | undefined) ?? [],
    keySchema: (p.KeySchema as KeySchemaElement[] | undefined) ?? [],
    globalSecondaryIndexes: (p.GlobalSecondaryIndexes as GlobalSecondaryIndex[] | undefined) ?? [],
    localSecondaryIndexes: (p.LocalSecondaryIndexes as LocalSecondaryIndex[] | undefined) ?? [],
    billingMode: p.BillingMode === 'PAY_PER_REQUEST' ? 'PAY_PER_REQUEST' : 'PROVISIONED',
    ttlAttribute: ttl?.Enabled === true ? ttl.AttributeName : undefined,
  };
}

/**
 * Reads what local provisioning needs from a synthesized template: every table (keys, indexes, TTL) and
 * which role each plays, the stream and its shard count, the consumer's event source mapping settings, and
 * the cluster manager's schedule. Pure: no I/O.
 *
 * @example
 * ```ts
 * const model = readTemplate((await loadTemplate()).template);
 * model.mapping.batchSize; // 100
 * ```
 */
function readTemplate(template: CfnTemplate): TemplateModel {
  const streamResource = one(resourcesOfType(template, 'AWS::Kinesis::Stream'), 'Kinesis streams');
  const mode = (streamResource.properties.StreamModeDetails as { StreamMode?: string } | undefined)
    ?.StreamMode;
  const stream: StreamDeclaration = {
    logicalId: streamResource.logicalId,
    mode: mode === 'ON_DEMAND' ? 'ON_DEMAND' : 'PROVISIONED',
    shardCount:
      streamResource.properties.ShardCount === undefined
        ? undefined
        : Number(streamResource.properties.ShardCount),
    retentionHours: numberOr(streamResource.properties.RetentionPeriodHours, 24),
  };

  const { consumerLogicalId, mapping, mappingOptions, environment } = readConsumer(
    template,
    stream.logicalId,
  );

  // Roles from the consumer's environment first (it names every table it writes), then the functions'.
  const functions = resourcesOfType(template, 'AWS::Lambda::Function');
  const environments = [
    { logicalId: consumerLogicalId, variables: environment },
    ...functions.map((fn) => ({ logicalId: fn.logicalId, variables: environmentOf(fn.properties) })),
  ];
  const roleOf = new Map<string, TableRole>();
  for (const fn of environments) {
    const variables = fn.variables;
    for (const [variable, role] of TABLE_ROLES) {
      const ref = refOf(variables[variable]);
      if (ref !== undefined && !roleOf.has(ref) && ![...roleOf.values()].includes(role))
        roleOf.set(ref, role);
    }
    const streamRef = refOf(variables[ENV.STREAM_NAME]);
    if (streamRef !== undefined && streamRef !== stream.logicalId)
      throw new TemplateError(
        `${fn.logicalId} reads ${ENV.STREAM_NAME} from ${streamRef}, not the stream ${stream.logicalId}`,
      );
  }
  const tables = resourcesOfType(template, 'AWS::DynamoDB::Table').map((t) =>
    readTable(t.logicalId, t.properties, roleOf.get(t.logicalId)),
  );
  for (const [variable, role] of TABLE_ROLES)
    if (!tables.some((t) => t.role === role))
      throw new TemplateError(
        `no function's ${variable} names a table of the template, so the ${role} is unknown; the stack sets ` +
          `${variable} to { Ref: <table> } on the consumer`,
      );

  const schedules = resourcesOfType(template, 'AWS::Events::Rule').flatMap((rule) => {
    const expression = rule.properties.ScheduleExpression;
    if (typeof expression !== 'string') return [];
    const targets = (rule.properties.Targets as { Arn?: unknown }[] | undefined) ?? [];
    return targets
      .map((t) => getAttArnOf(t.Arn))
      .filter((id): id is string => id !== undefined && functions.some((f) => f.logicalId === id))
      .map((functionLogicalId) => ({
        logicalId: rule.logicalId,
        expression,
        intervalMs: rateIntervalMs(expression),
        functionLogicalId,
      }));
  });
  if (schedules.length > 1)
    throw new TemplateError(
      `the template schedules ${schedules.length} functions (${schedules.map((s) => s.functionLogicalId).join(', ')}); ` +
        'local provisioning expects one, the cluster manager',
    );

  return {
    tables,
    stream,
    consumerLogicalId,
    mapping,
    mappingOptions,
    clusterManagerSchedule: schedules[0],
  };
}

export type {
  MappingOptions,
  ScheduleDeclaration,
  StreamDeclaration,
  TableDeclaration,
  TableRole,
  TemplateModel,
};
export { rateIntervalMs, readTemplate, TABLE_ROLES };
