import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, describe, expect, it } from 'vitest';
import { type ConfigInput, parseConfig } from '../../../core/config/schema.js';
import { conflictPolicies } from '../../../core/processing/conflict-policies.js';
import { mirrorProjection } from '../../../core/processing/projection.js';
import { ParkedReplayer } from '../../../core/processing/replay.js';
import { createProcessor, toStreamRecords } from '../../../functions/consumer/create-handler.js';
import { kinesisEvent, seq, type TestRecord } from '../../helpers/consumer.js';
import { testClients } from '../../helpers/engines.js';
import { freshStores } from '../../helpers/state-tables.js';
import { fixtureJson, fixtureLines } from '../../unit/events/fixtures.js';

/**
 * A cutover from AWS DMS to Debezium with both running, on DynamoDB Local, through the consumer as it runs.
 * DMS's records are the real capture of `public.foo` (a full load, an insert, an update, a primary-key change
 * and a delete). Debezium is started after the insert and captures the same commits: its records are the real
 * Debezium Postgres envelope of the connector docs, pointed at `public.foo` with the rows, commit times and
 * LSNs of those commits (DMS's `stream-position`). Both write to one stream, in the interleavings a lagging
 * DMS task gives.
 */

const clients = testClients();
afterAll(() => clients.destroy());

const DEBEZIUM = 'debezium:PostgreSQL_server';
const DMS = 'dms';

const dmsLines = fixtureLines(
  'aws-dms/dms-postgres-load-insert-update-pkchange-delete-sequence-commons-codec.jsonl',
) as Record<string, unknown>[];
const [, createTable, load42, insert46, update42, pkChange46to45, delete45] = dmsLines;

const envelope = (
  fixtureJson('debezium/debezium-postgres-docs-create-with-schema.json') as {
    payload: Record<string, unknown>;
  }
).payload;

/** A Postgres LSN as DMS prints it (`00000002/7C007328`) as the number Debezium sends. */
const lsnOf = (text: string) => Number.parseInt(text.replace('/', ''), 16);

/** The Debezium envelope of one commit of `public.foo`, built on the real one. */
function debezium(
  op: 'c' | 'u' | 'd',
  row: Record<string, unknown>,
  commitIso: string,
  lsnText: string,
  txId: number,
): Record<string, unknown> {
  const lsn = lsnOf(lsnText);
  const ts = Date.parse(commitIso);
  return {
    ...envelope,
    before: op === 'c' ? null : { id: row.id },
    after: op === 'd' ? null : row,
    source: {
      ...(envelope.source as Record<string, unknown>),
      ts_ms: ts,
      snapshot: 'false',
      schema: 'public',
      table: 'foo',
      txId,
      lsn,
      sequence: JSON.stringify([String(lsn), String(lsn)]),
    },
    op,
    ts_ms: ts + 7,
  };
}

const john = { age: 33, attributes: '{"foo": "bar"}', id: 42, name: 'John' };
const jane = { age: 31, attributes: '{"baz": "qux"}', id: 45, name: 'Jane' };
const dbzUpdate42 = debezium('u', john, '2024-07-29T00:58:44.886717Z', '00000002/7C007328', 1140);
const dbzDelete46 = debezium('d', { id: 46 }, '2024-07-29T00:59:07.678294Z', '00000002/7C0073F8', 1141);
const dbzCreate45 = debezium('c', jane, '2024-07-29T00:59:07.678294Z', '00000002/7C0073F8', 1141);
const dbzDelete45 = debezium('d', { id: 45 }, '2024-07-29T01:09:25.366257Z', '00000002/840001D8', 1144);

/** The stream as both producers fill it: batches in the order the consumer gets them. */
function deliveries(): TestRecord[][] {
  let n = 0;
  const record = (value: unknown, key: string): TestRecord => ({
    data: JSON.stringify(value),
    partitionKey: key,
    sequenceNumber: seq(++n),
  });
  const pkChange = record(pkChange46to45, 'public.foo#45');
  return [
    // DMS's full load and the insert Debezium started after.
    [record(createTable, 'public.foo'), record(load42, 'public.foo#42'), record(insert46, 'public.foo#46')],
    // The update of 42: Debezium first, DMS lagging.
    [record(dbzUpdate42, 'public.foo#42'), record(update42, 'public.foo#42')],
    // The primary-key change 46 → 45: DMS first this time.
    [pkChange, record(dbzDelete46, 'public.foo#46'), record(dbzCreate45, 'public.foo#45')],
    // The delete of 45, Debezium first; then the pk change redelivered.
    [record(dbzDelete45, 'public.foo#45'), record(delete45, 'public.foo#45'), pkChange],
  ];
}

async function cutover(config: ConfigInput) {
  const { names, state, parked } = await freshStores(clients.dynamodb, 'cutover');
  const processor = createProcessor({
    dynamodb: clients.dynamodb,
    stateTable: names.stateTable,
    parkedTable: names.parkedTable,
    config: parseConfig(config),
    logger: new Logger({ logLevel: 'CRITICAL' }),
  });
  const stats = [];
  for (const batch of deliveries()) {
    const result = await processor.process(toStreamRecords(kinesisEvent(batch)));
    expect(result.batchItemFailures).toEqual([]);
    stats.push(result.stats);
  }
  const items = await state.getMany(['public.foo#42', 'public.foo#45', 'public.foo#46']);
  return { state, parked, stats, items };
}

describe('Sources: a DMS-to-Debezium cutover with both running (DynamoDB Local)', () => {
  it('source-priority: Debezium takes each aggregate it writes, DMS keeps the rest, duplicates of both skip', async () => {
    const { items, parked, stats } = await cutover({
      tables: { 'public.foo': { conflictStrategy: 'source-priority', sourcePriority: [DEBEZIUM, DMS] } },
    });

    expect(items.get('public.foo#42')).toMatchObject({
      deleted: false,
      state: john,
      writer: { source: DEBEZIUM, ts: Date.parse('2024-07-29T00:58:44.886Z') },
    });
    expect([...items.get('public.foo#42')!.positions.keys()].sort()).toEqual([DEBEZIUM, DMS]);
    expect(items.get('public.foo#46')).toMatchObject({ deleted: true, writer: { source: DEBEZIUM } });
    expect(items.get('public.foo#45')).toMatchObject({
      deleted: true,
      state: null,
      writer: { source: DEBEZIUM },
    });
    expect(await parked.scanAll()).toEqual([]);
    // The redelivered pk change is two duplicates; nothing was parked.
    expect(stats.at(-1)).toMatchObject({ duplicates: 2, parked: 0 });
  });

  it('single-source (the default): Debezium is parked on what DMS owns, then a switch and a replay cut over', async () => {
    const { state, parked, items } = await cutover({});
    const waiting = await parked.scanAll();

    expect(items.get('public.foo#42')).toMatchObject({ state: john, writer: { source: DMS } });
    expect(waiting.map((p) => [p.aggregateId, p.reason, p.change?.source]).sort()).toEqual([
      ['public.foo#42', 'CONFLICTING_SOURCE', DEBEZIUM],
      ['public.foo#45', 'CONFLICTING_SOURCE', DEBEZIUM],
      ['public.foo#45', 'CONFLICTING_SOURCE', DEBEZIUM],
      ['public.foo#46', 'CONFLICTING_SOURCE', DEBEZIUM],
    ]);
    expect(waiting[0]?.message).toContain(`its state comes from ${DMS}`);

    const switched = parseConfig({
      tables: { 'public.foo': { conflictStrategy: 'source-priority', sourcePriority: [DEBEZIUM, DMS] } },
    });
    const outcomes = await new ParkedReplayer({
      stateStore: state,
      parkedStore: parked,
      projection: mirrorProjection,
      conflictPolicy: conflictPolicies(switched, mirrorProjection),
    }).replayAll();

    expect(outcomes.every((o) => o.lifted && o.remaining === 0)).toBe(true);
    expect(await parked.scanAll()).toEqual([]);
    const after = await state.getMany(['public.foo#42', 'public.foo#45', 'public.foo#46']);
    expect(after.get('public.foo#42')).toMatchObject({ state: john, writer: { source: DEBEZIUM } });
    expect(after.get('public.foo#45')).toMatchObject({ deleted: true, writer: { source: DEBEZIUM } });
  });
});
