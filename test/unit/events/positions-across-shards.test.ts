/**
 * Positions decide which change wins (docs/architecture.md contracts 2 and 4): a change applies only when its
 * position is greater than the one stored for its aggregate. These scenarios deliver records the way Kinesis
 * can, across shards and with late duplicates, and fold the decoded changes with exactly that rule.
 */
import { describe, expect, it } from 'vitest';
import {
  type ChangeEvent,
  createDecodeContext,
  createDefaultRegistry,
  type RecordOrigin,
  type RowImage,
} from '../../../core/events/index.js';
import { bytesOf } from './fixtures.js';

interface Delivery {
  readonly record: unknown;
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/** The state each aggregate ends with (null for a tombstone), and how many changes applied. */
function fold(deliveries: readonly Delivery[]) {
  const registry = createDefaultRegistry();
  const context = createDecodeContext({ 'public.foo': { keyColumns: ['id'] } });
  const state = new Map<string, { position: string; row: RowImage | null }>();
  let applied = 0;
  for (const { record, shardId, sequenceNumber } of deliveries) {
    const origin: RecordOrigin = {
      shardId,
      sequenceNumber,
      subSequenceNumber: 0,
      partitionKey: '',
      approximateArrivalTimestamp: 0,
    };
    for (const change of registry.decode(bytesOf(record), origin, context).changes as ChangeEvent[]) {
      const current = state.get(change.aggregateId);
      if (current !== undefined && change.position <= current.position) continue;
      state.set(change.aggregateId, { position: change.position, row: change.after });
      applied++;
    }
  }
  return { rows: Object.fromEntries([...state].map(([id, { row }]) => [id, row])), applied };
}

/** Sequence numbers of three shards: shard B's happen to be smaller than A's, and C's larger. */
const shard = (index: number, prefix: string) => (n: number) => ({
  shardId: `shardId-00000000000${index}`,
  sequenceNumber: `${prefix}${n}`,
});
const A = shard(0, '4966445921321450604927202992');
const B = shard(1, '4966445921321450604927202991');
const C = shard(2, '4966445921321450604927202993');

const dms = (operation: string, data: object, time: string, beforeImage?: object) => ({
  data,
  ...(beforeImage === undefined ? {} : { 'before-image': beforeImage }),
  metadata: {
    'record-type': 'data',
    operation,
    'partition-key-type': 'primary-key',
    'schema-name': 'public',
    'table-name': 'foo',
    timestamp: `2024-07-29T00:58:${time}Z`,
  },
});

describe('DMS primary-key changes across shards', () => {
  const insert46 = dms('insert', { id: 46, name: 'Jane' }, '17.000001');
  const move46to45 = dms('update', { id: 45, name: 'Jane' }, '18.000001', { id: 46 });
  const reinsert46 = dms('insert', { id: 46, name: 'June' }, '19.000001');

  it("deletes the old key although its delete carries the other shard's smaller sequence number", () => {
    expect(
      fold([
        { record: insert46, ...A(500) },
        { record: move46to45, ...B(100) },
      ]).rows,
    ).toEqual({
      'public.foo#46': null,
      'public.foo#45': { id: 45, name: 'Jane' },
    });
  });

  it("keeps the old key deleted when its shard lags and delivers the key's older insert after the move", () => {
    expect(
      fold([
        { record: move46to45, ...B(100) },
        { record: insert46, ...A(500) },
      ]).rows,
    ).toEqual({
      'public.foo#46': null,
      'public.foo#45': { id: 45, name: 'Jane' },
    });
  });

  it('applies a later re-insert of the old key, whatever its sequence number', () => {
    const deliveries = [
      { record: insert46, ...A(500) },
      { record: move46to45, ...C(100) },
      { record: reinsert46, ...A(600) },
    ];

    expect(fold(deliveries).rows['public.foo#46']).toEqual({ id: 46, name: 'June' });
  });
});

describe('DynamoDB late duplicates', () => {
  const change = (temperature: number, micros: number, precision = 'MICROSECOND') => ({
    eventName: 'MODIFY',
    tableName: 'sensors',
    dynamodb: {
      ApproximateCreationDateTime: micros,
      ApproximateCreationDateTimePrecision: precision,
      Keys: { device: { S: 'd1' } },
      NewImage: { device: { S: 'd1' }, temperature: { N: String(temperature) } },
    },
  });

  it('skips a late duplicate of the newest change as well as of an older one', () => {
    const first = change(1, 1720742302233719);
    const second = change(2, 1720742302233720);
    const result = fold([
      { record: first, ...A(1) },
      { record: second, ...A(2) },
      { record: first, ...A(3) },
      { record: second, ...A(4) },
    ]);

    expect(result.rows).toEqual({ 'sensors#d1': { device: 'd1', temperature: 2 } });
    expect(result.applied).toBe(2);
  });

  it('applies two changes of one millisecond in shard order', () => {
    const result = fold([
      { record: change(1, 1720742302233, 'MILLISECOND'), ...A(1) },
      { record: change(2, 1720742302233, 'MILLISECOND'), ...A(2) },
    ]);

    expect(result.rows).toEqual({ 'sensors#d1': { device: 'd1', temperature: 2 } });
  });

  it('orders DynamoDB Streams records of one second by their own SequenceNumber, which a duplicate keeps', () => {
    const streams = (temperature: number, sequence: string) => ({
      eventName: 'MODIFY',
      eventSource: 'aws:dynamodb',
      eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/sensors/stream/2024-07-12T01:17:42.000',
      dynamodb: {
        ...change(temperature, 1720742302).dynamodb,
        ApproximateCreationDateTimePrecision: undefined,
        SequenceNumber: sequence,
      },
    });
    const first = streams(1, '111100000000000000001');
    const second = streams(2, '111100000000000000002');

    expect(
      fold([
        { record: first, ...A(1) },
        { record: second, ...A(2) },
        { record: first, ...A(3) },
      ]),
    ).toEqual({ rows: { 'sensors#d1': { device: 'd1', temperature: 2 } }, applied: 2 });
  });
});
