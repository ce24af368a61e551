/**
 * Every entry of the hostile corpus (test/fixtures/hostile) through the consumer handler on DynamoDB Local,
 * each record delivered once, in order: it must end exactly as its `expect` says, applied with its exact state
 * or parked with its reason, without a batch failure (docs/architecture.md contract 6).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { KinesisStreamEvent } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../core/config/schema.js';
import { lambdaContext } from '../../../core/esm/lambda-event.js';
import {
  createDefaultRegistry,
  decodeKinesisRecord,
  type RowImage,
  TableKeyMemory,
} from '../../../core/events/index.js';
import { ParkedStore, StateStore } from '../../../core/state/index.js';
import { createConsumerHandler } from '../../../functions/consumer/create-handler.js';
import { testClients } from '../../helpers/engines.js';
import {
  type HostileEntry,
  hostileCorpus,
  jsonDifferences,
  lambdaEventOf,
} from '../../helpers/hostile-corpus.js';
import { createStoreTable } from '../../helpers/state-tables.js';

const clients = testClients();
afterAll(() => clients.destroy());
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

/** The consumer handler over fresh state and parked tables, with the entry's key columns. */
async function consumerFor(entry: HostileEntry) {
  const [stateTable, parkedTable] = await Promise.all([
    createStoreTable(clients.dynamodb, 'state'),
    createStoreTable(clients.dynamodb, 'parked'),
  ]);
  const tables = Object.fromEntries(
    Object.entries(entry.keyColumns).map(([t, keyColumns]) => [t, { keyColumns }]),
  );
  const handler = createConsumerHandler({
    dynamodb: clients.dynamodb,
    stateTable,
    parkedTable,
    config: parseConfig({ tables }),
    logger: new Logger({ logLevel: 'CRITICAL' }),
    metrics: new Metrics({ namespace: 'test' }),
    // Each entry learns DMS keys of its own, as a fresh consumer would.
    tableKeys: new TableKeyMemory(),
  });
  return {
    deliver: (records: HostileEntry['records']) =>
      handler(lambdaEventOf(records) as KinesisStreamEvent, lambdaContext('hostile-corpus', 60_000)),
    state: new StateStore({ client: clients.dynamodb, tableName: stateTable, tombstoneTtlSeconds: 3600 }),
    parked: new ParkedStore({ client: clients.dynamodb, tableName: parkedTable }),
  };
}

/** The `after` of the change of `aggregateId` with the highest position, as the decoders give it. */
function lastAfter(entry: HostileEntry, aggregateId: string): RowImage | null {
  const registry = createDefaultRegistry();
  const changes = entry.records
    .flatMap((r) => decodeKinesisRecord(registry, r, entry.context).outcomes)
    .flatMap((o) => o.decoded?.changes ?? [])
    .filter((c) => c.aggregateId === aggregateId)
    .sort((a, b) => (a.position < b.position ? -1 : 1));
  return changes.at(-1)?.after ?? null;
}

describe('Hostile corpus: through the consumer on DynamoDB Local', () => {
  for (const entry of hostileCorpus())
    it(`${entry.category}: ${entry.name}`, async () => {
      // Prepare
      const consumer = await consumerFor(entry);

      // Act: each record delivered once, in order.
      for (const record of entry.records)
        expect((await consumer.deliver([record])).batchItemFailures).toEqual([]);

      // Assert
      const { applied = {}, parked: reason } = entry.expect;
      for (const [aggregateId, expected] of Object.entries(applied)) {
        const item = await consumer.state.get(aggregateId);
        expect(item?.quarantine, aggregateId).toBeUndefined();
        if (expected === null) expect(item, aggregateId).toMatchObject({ deleted: true, state: null });
        else {
          // DynamoDB keeps no key order: compared key by key, values and number marks exact.
          const row = expected === '$after' ? lastAfter(entry, aggregateId) : expected;
          expect(jsonDifferences(item?.state, row), aggregateId).toEqual([]);
        }
      }
      const parkedItems = await consumer.parked.scanAll();
      if (reason === undefined) expect(parkedItems).toEqual([]);
      else {
        expect(parkedItems.length).toBeGreaterThan(0);
        expect(new Set(parkedItems.map((p) => p.reason))).toEqual(new Set([reason]));
        for (const p of parkedItems) expect(Buffer.byteLength(p.message)).toBeLessThanOrEqual(1_024);
        // What is parked never applied: no aggregate but the applied ones holds a state.
        for (const p of parkedItems)
          if (p.aggregateId !== undefined && !Object.hasOwn(applied, p.aggregateId))
            expect(await consumer.state.get(p.aggregateId), p.aggregateId).toMatchObject({
              position: undefined,
              quarantine: { reason: 'POISON' },
            });
      }
    });
});
