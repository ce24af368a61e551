import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ListTablesCommand,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../../core/constants.js';
import type { LocalClients } from '../../../localstack/clients.js';
import type { CfnTemplate } from '../../../localstack/template/cfn-template.js';
import { TemplateProvisioningError } from '../../../localstack/template/errors.js';
import { provisionFromTemplate } from '../../../localstack/template/provision-from-template.js';
import { loadTemplate } from '../../../localstack/template/template-cache.js';
import { testClients, uniqueName } from '../../helpers/engines.js';

type Resource = { Type: string; Properties: Record<string, unknown> };

function resources(template: CfnTemplate, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type) as [string, Resource][];
}

/** The local name each template table must get: by the environment variable the consumer reads it from. */
function expectedTableNames(template: CfnTemplate, prefix: string): Map<string, string> {
  const [, mapping] = resources(template, 'AWS::Lambda::EventSourceMapping')[0]!;
  const consumerId = (mapping.Properties.FunctionName as { Ref: string }).Ref;
  const variables = (
    template.Resources[consumerId]!.Properties!.Environment as { Variables: Record<string, unknown> }
  ).Variables;
  const suffixes: [string, string][] = [
    [ENV.STATE_TABLE, 'state'],
    [ENV.PARKED_TABLE, 'parked'],
    [ENV.COORDINATION_TABLE, 'coordination'],
  ];
  return new Map(
    suffixes.map(([variable, suffix]) => [
      (variables[variable] as { Ref: string }).Ref,
      `${prefix}-${suffix}`,
    ]),
  );
}

const byName = (a: { AttributeName?: string }, b: { AttributeName?: string }) =>
  (a.AttributeName ?? '').localeCompare(b.AttributeName ?? '');

/** The parts of a table description the template decides, in the template's shape. */
function shapeOf(table: TableDescription) {
  return {
    KeySchema: table.KeySchema,
    AttributeDefinitions: [...(table.AttributeDefinitions ?? [])].sort(byName),
    GlobalSecondaryIndexes: (table.GlobalSecondaryIndexes ?? []).map((i) => ({
      IndexName: i.IndexName,
      KeySchema: i.KeySchema,
      Projection: i.Projection,
    })),
    BillingMode: table.BillingModeSummary?.BillingMode ?? 'PROVISIONED',
  };
}

function declaredShapeOf(table: Resource) {
  const p = table.Properties;
  return {
    KeySchema: p.KeySchema,
    AttributeDefinitions: [...(p.AttributeDefinitions as { AttributeName: string }[])].sort(byName),
    GlobalSecondaryIndexes: ((p.GlobalSecondaryIndexes as Record<string, unknown>[] | undefined) ?? []).map(
      (i) => ({
        IndexName: i.IndexName,
        KeySchema: i.KeySchema,
        Projection: i.Projection,
      }),
    ),
    BillingMode: p.BillingMode,
  };
}

async function tablesWithPrefix(clients: LocalClients, prefix: string): Promise<string[]> {
  const names: string[] = [];
  let start: string | undefined;
  do {
    const out = await clients.dynamodb.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
    names.push(...(out.TableNames ?? []).filter((n) => n.startsWith(`${prefix}-`)));
    start = out.LastEvaluatedTableName;
  } while (start !== undefined);
  return names.sort();
}

async function openShardCount(clients: LocalClients, streamName: string): Promise<number> {
  const { Shards } = await clients.kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  return (Shards ?? []).filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined).length;
}

describe('Function: provisionFromTemplate', () => {
  let clients: LocalClients;
  let cacheDir: string;

  beforeAll(() => {
    clients = testClients();
    cacheDir = mkdtempSync(join(tmpdir(), 'cdcp-template-test-'));
  });

  afterAll(() => {
    clients.destroy();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('creates exactly the tables (keys, indexes, TTL) and the shard count the synthesized template declares', async () => {
    const prefix = uniqueName('tpl');
    const local = await provisionFromTemplate(clients, { prefix, cacheDir });
    const { template } = await loadTemplate({ cacheDir });
    const declaredTables = resources(template, 'AWS::DynamoDB::Table');
    const names = expectedTableNames(template, prefix);

    expect(declaredTables).toHaveLength(3);
    expect(await tablesWithPrefix(clients, prefix)).toEqual([...names.values()].sort());
    for (const [logicalId, declared] of declaredTables) {
      const tableName = names.get(logicalId)!;
      const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
      expect(shapeOf(Table!)).toEqual(declaredShapeOf(declared));
      const ttl = await clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
      expect(ttl.TimeToLiveDescription).toEqual({
        AttributeName: (declared.Properties.TimeToLiveSpecification as { AttributeName: string })
          .AttributeName,
        TimeToLiveStatus: 'ENABLED',
      });
    }
    expect(local.tables.map((t) => t.tableName).sort()).toEqual([...names.values()].sort());

    const [, stream] = resources(template, 'AWS::Kinesis::Stream')[0]!;
    expect(stream.Properties.ShardCount).toBe(2);
    expect(local.shardCount).toBe(2);
    expect(await openShardCount(clients, local.names.streamName)).toBe(2);

    const [, mapping] = resources(template, 'AWS::Lambda::EventSourceMapping')[0]!;
    expect(local.mapping).toEqual({
      batchSize: mapping.Properties.BatchSize,
      maximumBatchingWindowMs: (mapping.Properties.MaximumBatchingWindowInSeconds as number) * 1000,
      parallelizationFactor: mapping.Properties.ParallelizationFactor,
      maximumRetryAttempts: mapping.Properties.MaximumRetryAttempts,
      maximumRecordAgeSeconds: mapping.Properties.MaximumRecordAgeInSeconds,
      startingPosition: mapping.Properties.StartingPosition,
    });
    expect(local.mapping).toEqual({
      batchSize: 100,
      maximumBatchingWindowMs: 0,
      parallelizationFactor: 1,
      maximumRetryAttempts: 10,
      maximumRecordAgeSeconds: -1,
      startingPosition: 'TRIM_HORIZON',
    });
    expect(local.mappingOptions).toEqual({
      reportBatchItemFailures: true,
      bisectBatchOnFunctionError: false,
      onFailureDestination: true,
    });
    expect(local.clusterManagerSchedule).toEqual({ expression: 'rate(1 minute)', intervalMs: 60_000 });
  });

  it('serves the template from the cache while the sources are unchanged', async () => {
    const first = await loadTemplate({ cacheDir });
    const second = await loadTemplate({ cacheDir });
    expect(second.cached).toBe(true);
    expect(second.hash).toBe(first.hash);
    expect(second.path).toBe(join(cacheDir, `${first.hash}.json`));
    expect(second.template).toEqual(first.template);
  });

  it('follows a changed prop: shard count and mapping settings come from the new template', async () => {
    const changedCache = mkdtempSync(join(tmpdir(), 'cdcp-template-test-'));
    try {
      const prefix = uniqueName('tpl-props');
      const context = {
        cdcp: { shardCount: 3, batchSize: 250, parallelizationFactor: 4, maxBatchingWindowSeconds: 2 },
      };
      const local = await provisionFromTemplate(clients, { prefix, cacheDir: changedCache, context });
      expect(local.template?.cached).toBe(false);
      expect(local.template?.hash).not.toBe((await loadTemplate({ cacheDir })).hash);
      expect(local.shardCount).toBe(3);
      expect(await openShardCount(clients, local.names.streamName)).toBe(3);
      expect(local.mapping).toMatchObject({
        batchSize: 250,
        parallelizationFactor: 4,
        maximumBatchingWindowMs: 2000,
      });
    } finally {
      rmSync(changedCache, { recursive: true, force: true });
    }
  });

  it('creates the secondary indexes a template declares', async () => {
    const { template } = await loadTemplate({ cacheDir });
    const copy = structuredClone(template) as { Resources: Record<string, Resource> };
    const [parkedId] = [...expectedTableNames(template, 'x').entries()].find(
      ([, name]) => name === 'x-parked',
    )!;
    const parked = copy.Resources[parkedId]!.Properties;
    (parked.AttributeDefinitions as unknown[]).push(
      { AttributeName: 'reason', AttributeType: 'S' },
      { AttributeName: 'parkedAt', AttributeType: 'N' },
    );
    parked.GlobalSecondaryIndexes = [
      {
        IndexName: 'byReason',
        KeySchema: [
          { AttributeName: 'reason', KeyType: 'HASH' },
          { AttributeName: 'parkedAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ];
    const prefix = uniqueName('tpl-gsi');
    await provisionFromTemplate(clients, { prefix, template: copy });
    const { Table } = await clients.dynamodb.send(
      new DescribeTableCommand({ TableName: `${prefix}-parked` }),
    );
    expect(shapeOf(Table!)).toEqual(declaredShapeOf(copy.Resources[parkedId]!));
    expect(shapeOf(Table!).GlobalSecondaryIndexes).toHaveLength(1);
  });

  it('is idempotent, and refuses an existing table whose keys differ from the template', async () => {
    const { template } = await loadTemplate({ cacheDir });
    const prefix = uniqueName('tpl-again');
    await provisionFromTemplate(clients, { prefix, template });
    const again = await provisionFromTemplate(clients, { prefix, template });
    expect(again.shardCount).toBe(2);

    const copy = structuredClone(template) as { Resources: Record<string, Resource> };
    const [stateId] = [...expectedTableNames(template, 'x').entries()].find(
      ([, name]) => name === 'x-state',
    )!;
    copy.Resources[stateId]!.Properties.KeySchema = [{ AttributeName: 'id', KeyType: 'HASH' }];
    copy.Resources[stateId]!.Properties.AttributeDefinitions = [{ AttributeName: 'id', AttributeType: 'S' }];
    await expect(provisionFromTemplate(clients, { prefix, template: copy })).rejects.toThrow(
      TemplateProvisioningError,
    );
    await expect(provisionFromTemplate(clients, { prefix, template: copy })).rejects.toThrow(
      `table ${prefix}-state exists with keys and indexes "aggregateId:HASH " but the template declares "id:HASH "`,
    );
  });
});
