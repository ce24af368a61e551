import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  type TableDescription,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { type KinesisClient, ListShardsCommand, type Shard } from '@aws-sdk/client-kinesis';
import type { MappingSettings } from '../../core/esm/settings.js';
import { createStream, type ResourceNames, resourceNames, waitFor } from '../provision.js';
import type { CfnTemplate } from './cfn-template.js';
import { TemplateProvisioningError } from './errors.js';
import { type MappingOptions, readTemplate, type TableDeclaration, type TableRole } from './read-template.js';
import { type LoadedTemplate, type LoadTemplateOptions, loadTemplate } from './template-cache.js';

/** An on-demand stream starts with 4 shards in AWS; the local stream does the same. */
const ON_DEMAND_INITIAL_SHARDS = 4;

interface ProvisionFromTemplateOptions extends LoadTemplateOptions {
  /** Prefix of the local resource names (see `resourceNames`). @default 'cdcp-local' */
  readonly prefix?: string;
  /** Use this template instead of loading (synthesizing or reading the cached) one. */
  readonly template?: CfnTemplate;
  /** Create the stream with this many shards instead of the template's (a `--shards` flag). */
  readonly shardCount?: number;
}

interface ProvisionedTable {
  readonly logicalId: string;
  readonly role: TableRole | undefined;
  readonly tableName: string;
}

/** What `provisionFromTemplate` created and what the local runtime should run with. */
interface TemplateProvisioning {
  /** Local names by role, as `resourceNames(prefix)` gives them. */
  readonly names: ResourceNames;
  /** Every table created, with the template's logical id and its role. */
  readonly tables: readonly ProvisionedTable[];
  readonly streamArn: string;
  /** Open shards of the stream as created. */
  readonly shardCount: number;
  /** The consumer's event source mapping, from the template: pass to EventSourceMapping as `settings`. */
  readonly mapping: MappingSettings;
  readonly mappingOptions: MappingOptions;
  /** The cluster manager's schedule, e.g. `{ expression: 'rate(1 minute)', intervalMs: 60000 }`. */
  readonly clusterManagerSchedule:
    | { readonly expression: string; readonly intervalMs: number | undefined }
    | undefined;
  /** Where the template came from; undefined when the caller passed one. */
  readonly template: Omit<LoadedTemplate, 'template'> | undefined;
}

function createTableInput(tableName: string, table: TableDeclaration): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: table.billingMode,
    AttributeDefinitions: table.attributeDefinitions,
    KeySchema: table.keySchema,
    GlobalSecondaryIndexes:
      table.globalSecondaryIndexes.length > 0 ? table.globalSecondaryIndexes : undefined,
    LocalSecondaryIndexes: table.localSecondaryIndexes.length > 0 ? table.localSecondaryIndexes : undefined,
    ProvisionedThroughput:
      table.billingMode === 'PROVISIONED' ? { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } : undefined,
  };
}

/** `pk:HASH,sk:RANGE`, for comparing key schemas in messages. */
function keysText(keys: readonly { AttributeName?: string; KeyType?: string }[] | undefined): string {
  return (keys ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
}

function indexesText(
  indexes: readonly { IndexName?: string; KeySchema?: KeySchemaLike }[] | undefined,
): string {
  return (indexes ?? [])
    .map((i) => `${i.IndexName}(${keysText(i.KeySchema)})`)
    .sort()
    .join(' ');
}
type KeySchemaLike = readonly { AttributeName?: string; KeyType?: string }[];

/** A table that already existed (LocalStack, a reused engine) must have the template's keys and indexes. */
function checkExistingShape(tableName: string, declared: TableDeclaration, actual: TableDescription): void {
  const want = `${keysText(declared.keySchema)} ${indexesText(declared.globalSecondaryIndexes)}`;
  const have = `${keysText(actual.KeySchema)} ${indexesText(actual.GlobalSecondaryIndexes)}`;
  if (want !== have)
    throw new TemplateProvisioningError(
      `table ${tableName} exists with keys and indexes "${have}" but the template declares "${want}"; ` +
        'delete the table or use another prefix',
    );
}

async function createDeclaredTable(
  dynamodb: DynamoDBClient,
  tableName: string,
  table: TableDeclaration,
): Promise<void> {
  try {
    await dynamodb.send(new CreateTableCommand(createTableInput(tableName, table)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  let description: TableDescription | undefined;
  await waitFor(`table ${tableName}`, async () => {
    description = (await dynamodb.send(new DescribeTableCommand({ TableName: tableName }))).Table;
    return description?.TableStatus === 'ACTIVE';
  });
  checkExistingShape(tableName, table, description!);
  if (table.ttlAttribute === undefined) return;
  await dynamodb
    .send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
      }),
    )
    .catch((error: Error) => {
      // Enabling TTL on a table that has it already answers ValidationException.
      if (error.name !== 'ValidationException') throw error;
    });
}

async function openShards(kinesis: KinesisClient, streamName: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    const out = await kinesis.send(
      new ListShardsCommand(nextToken === undefined ? { StreamName: streamName } : { NextToken: nextToken }),
    );
    shards.push(...(out.Shards ?? []));
    nextToken = out.NextToken;
  } while (nextToken !== undefined);
  return shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined);
}

/**
 * Provisions a local run from the synthesized CDK template: creates exactly the tables it declares (keys,
 * indexes, TTL) under `resourceNames(prefix)` names, and the stream with its shard count, and returns the
 * consumer's event source mapping settings and the cluster manager's schedule. The template is synthesized
 * in-process and cached under `.cdcp/template/` while the app's sources are unchanged. Idempotent: existing
 * resources are kept if their shape matches the template, and refused with an explanation if not.
 *
 * @example
 * ```ts
 * const local = await provisionFromTemplate(clients, { prefix: 'cdcp-local' });
 * new EventSourceMapping({ ..., settings: local.mapping });
 * ```
 */
async function provisionFromTemplate(
  clients: { readonly dynamodb: DynamoDBClient; readonly kinesis: KinesisClient },
  options: ProvisionFromTemplateOptions = {},
): Promise<TemplateProvisioning> {
  const loaded = options.template === undefined ? await loadTemplate(options) : undefined;
  const model = readTemplate(options.template ?? loaded!.template);
  const prefix = options.prefix ?? 'cdcp-local';
  const names = resourceNames(prefix);

  const tables: ProvisionedTable[] = model.tables.map((t) => ({
    logicalId: t.logicalId,
    role: t.role,
    tableName: t.role === undefined ? `${prefix}-${t.logicalId.toLowerCase()}` : names[t.role],
  }));
  await Promise.all(
    model.tables.map((t, i) => createDeclaredTable(clients.dynamodb, tables[i]!.tableName, t)),
  );

  const shardCount =
    options.shardCount ??
    model.stream.shardCount ??
    (model.stream.mode === 'ON_DEMAND' ? ON_DEMAND_INITIAL_SHARDS : 1);
  const streamArn = await createStream(clients.kinesis, names.streamName, shardCount);
  const open = (await openShards(clients.kinesis, names.streamName)).length;
  if (open !== shardCount)
    throw new TemplateProvisioningError(
      `stream ${names.streamName} exists with ${open} open shards but ${shardCount} are wanted; delete it or use another prefix`,
    );

  const schedule = model.clusterManagerSchedule;
  return {
    names,
    tables,
    streamArn,
    shardCount,
    mapping: model.mapping,
    mappingOptions: model.mappingOptions,
    clusterManagerSchedule:
      schedule === undefined
        ? undefined
        : { expression: schedule.expression, intervalMs: schedule.intervalMs },
    template:
      loaded === undefined
        ? undefined
        : { hash: loaded.hash, path: loaded.path, cached: loaded.cached, durationMs: loaded.durationMs },
  };
}

export type { ProvisionedTable, ProvisionFromTemplateOptions, TemplateProvisioning };
export { provisionFromTemplate };
