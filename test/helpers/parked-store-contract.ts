import { describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../core/events/change.js';
import { parseJsonExact, wasJsonNumber } from '../../core/events/exact-json.js';
import { REASON, type ReasonCode } from '../../core/events/reason-codes.js';
import {
  badInputKeys,
  changeKeys,
  type ParkedItem,
  type ParkedRecord,
  type ParkedStorePort,
  recordParkedItem,
} from '../../core/state/index.js';
import { orderChange } from './changes.js';

const AT = new Date(1_700_000_000_000);

function recordOf(data: string, sequenceNumber: number): ParkedRecord {
  return {
    data: Buffer.from(data).toString('base64'),
    partitionKey: 'public.orders#1',
    sequenceNumber: String(sequenceNumber),
    subSequenceNumber: 0,
    shardId: 'shardId-000000000000',
    approximateArrivalTimestamp: 1_700_000_000_000 + sequenceNumber,
    eventSourceArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/contract',
  };
}

/** A parked change of `change`, as the consumer parks one. */
function parkedChange(
  change: ChangeEvent,
  sequenceNumber: number,
  reason: ReasonCode = REASON.POISON,
): ParkedItem {
  const record = recordOf(JSON.stringify(change.after), sequenceNumber);
  return {
    ...changeKeys(change, record),
    reason,
    message: `${reason} at ${change.position}`,
    aggregateId: change.aggregateId,
    change,
    record,
    attempts: reason === REASON.POISON ? 3 : 0,
    parkedAt: AT.toISOString(),
  };
}

const sorted = (items: readonly ParkedItem[]) =>
  [...items].sort((a, b) => (a.pk === b.pk ? (a.sk < b.sk ? -1 : 1) : a.pk < b.pk ? -1 : 1));

/**
 * The behaviour every `ParkedStorePort` must have. Runs against the in-memory twin (unit) and DynamoDB Local
 * (integration). Each test gets an empty store (`scanAll` sees the whole store).
 */
function describeParkedStoreContract(name: string, makeStore: () => Promise<ParkedStorePort>): void {
  describe(`ParkedStorePort contract: ${name}`, () => {
    describe('Method: put and listAggregate', () => {
      it("lists one aggregate's changes whole and in source order, whatever order they were put in", async () => {
        const store = await makeStore();
        const changes = [orderChange(1, 12), orderChange(1, 9), orderChange(1, 110)].map((c, i) =>
          parkedChange(c, 100 - i, i === 0 ? REASON.POISON : REASON.QUARANTINED),
        );
        await store.put(changes);
        await store.put([parkedChange(orderChange(10, 5), 1), parkedChange(orderChange(2, 5), 2)]);

        const listed = await store.listAggregate('public.orders#1');

        expect(listed.map((p) => p.change?.position)).toEqual(
          [9, 12, 110].map((lsn) => orderChange(1, lsn).position),
        );
        expect(listed[1]).toEqual(changes[0]);
        expect(await store.listAggregate('public.orders#3')).toEqual([]);
      });

      it('parks a change once: a second put leaves the first reason and counts nothing', async () => {
        const store = await makeStore();
        const first = parkedChange(orderChange(1, 10), 1, REASON.NOT_JSON);

        const added = await store.put([first]);
        const again = await store.put([{ ...first, reason: REASON.RETRIES_EXHAUSTED, message: 'gave up' }]);

        expect([added, again]).toEqual([1, 0]);
        expect(await store.listAggregate('public.orders#1')).toEqual([first]);
      });

      it('keeps the first of two items with the same keys in one put', async () => {
        const store = await makeStore();
        const first = parkedChange(orderChange(1, 10), 1, REASON.POISON);
        const second = { ...first, reason: REASON.QUARANTINED, message: 'behind' };

        const added = await store.put([first, second]);

        expect(added).toBe(1);
        expect(await store.listAggregate('public.orders#1')).toEqual([first]);
      });

      it('relabels an item parked before, keeps its payload, and never recreates one deleted', async () => {
        const store = await makeStore();
        const [deferred, gone] = [
          parkedChange(orderChange(1, 10), 1, REASON.DEFERRED),
          parkedChange(orderChange(1, 11), 2),
        ];
        await store.put([deferred!, gone!]);
        await store.delete([gone!]);

        await store.relabel([
          { ...deferred!, reason: REASON.POISON, message: 'failed on resume', attempts: 1 },
          { ...gone!, reason: REASON.QUARANTINED },
        ]);

        expect(await store.listAggregate('public.orders#1')).toEqual([
          { ...deferred, reason: REASON.POISON, message: 'failed on resume', attempts: 1 },
        ]);
      });

      it('bounds a message that quotes input to 1 KB, so parking never fails on it', async () => {
        const store = await makeStore();
        const item = recordParkedItem(
          recordOf('{}', 3),
          REASON.MISSING_KEY,
          `column ${'k'.repeat(500_000)}`,
          AT,
        );

        await store.put([item]);
        const [listed] = await store.scanAll();
        await store.relabel([{ ...item, message: 'é'.repeat(600_000) }]);
        const [relabelled] = await store.scanAll();

        expect(Buffer.byteLength(listed!.message)).toBeLessThanOrEqual(1_024);
        expect(listed!.message).toMatch(/^column kkk.*… \(500007 bytes\)$/);
        expect(Buffer.byteLength(relabelled!.message)).toBeLessThanOrEqual(1_024);
      });

      it('orders sort keys by their UTF-8 bytes, as DynamoDB does', async () => {
        const store = await makeStore();
        const base = parkedChange(orderChange(1, 10), 1);
        // U+1F600 sorts after U+FFFD in UTF-8, though before it in UTF-16 code units.
        await store.put([
          { ...base, sk: '\u{1F600}' },
          { ...base, sk: '\uFFFD' },
          { ...base, sk: 'z' },
        ]);

        const listed = await store.listAggregate('public.orders#1');

        expect(listed.map((p) => p.sk)).toEqual(['z', '\uFFFD', '\u{1F600}']);
      });

      it('keeps payloads exact: any column name, exact numbers marked, long number strings, every character', async () => {
        const store = await makeStore();
        const after = parseJsonExact(
          '{"__proto__": {"x": 1}, "id": 1, "n": "123456789012345678901234567890", "t": "é\\u0000\\uD83D\\uDE00", ' +
            '"big": 9223372036854775807, "list": [1e400, 0.5]}',
        ) as Record<string, unknown>;
        const item = parkedChange(orderChange(1, 10, 'update', after), 1);

        await store.put([item]);
        const [listed] = await store.listAggregate('public.orders#1');

        expect(Object.getOwnPropertyNames(listed?.change?.after)).toEqual([
          '__proto__',
          'id',
          'n',
          't',
          'big',
          'list',
        ]);
        expect(listed).toEqual(item);
        expect(wasJsonNumber(listed!.change!.after!, 'big')).toBe(true);
        expect(wasJsonNumber(listed!.change!.after!, 'n')).toBe(false);
        expect(wasJsonNumber(listed!.change!.after!.list as object, '0')).toBe(true);
      });

      it('parks a payload above the item limit whole, and deletes all of it by its keys', async () => {
        const store = await makeStore();
        const blob = 'é'.repeat(150_000);
        const big = parkedChange(orderChange(1, 10, 'update', { id: 1, blob }), 1);
        const record = { ...big.record, data: Buffer.from('x'.repeat(1_048_576)).toString('base64') };
        await store.put([{ ...big, record }]);
        await store.put([{ ...big, record }]);

        const listed = await store.listAggregate('public.orders#1');
        const scanned = await store.scanAll();
        await store.delete([{ pk: big.pk, sk: big.sk }]);

        expect(listed).toHaveLength(1);
        expect(listed[0]?.change?.after?.blob).toBe(blob);
        expect(listed[0]?.record.data).toBe(record.data);
        expect(scanned).toHaveLength(1);
        expect(await store.scanAll()).toEqual([]);
      });

      it('keeps a payload above the item limit when the same keys are parked again, and deletes all its parts', async () => {
        const store = await makeStore();
        const item = parkedChange(orderChange(1, 10), 1);
        const sized = (bytes: number) => ({
          ...item,
          record: { ...item.record, data: Buffer.from('y'.repeat(bytes)).toString('base64') },
        });
        await store.put([sized(900_000)]);

        const added = await store.put([sized(400_000)]);
        const [listed] = await store.listAggregate('public.orders#1');
        await store.delete([item, item]);

        expect(added).toBe(0);
        expect(listed?.record.data).toBe(sized(900_000).record.data);
        expect(await store.scanAll()).toEqual([]);
      });

      it('takes an empty put and an empty delete as nothing to do', async () => {
        const store = await makeStore();

        expect(await store.put([])).toBe(0);
        await store.relabel([]);
        await store.delete([]);

        expect(await store.scanAll()).toEqual([]);
      });
    });

    describe('Method: scanAll', () => {
      it("returns every aggregate's changes and every bad-input record", async () => {
        const store = await makeStore();
        const bad = recordParkedItem(recordOf('{"truncated": ', 7), REASON.NOT_JSON, 'not JSON', AT);
        const changes = [parkedChange(orderChange(1, 10), 1), parkedChange(orderChange(2, 10), 2)];
        await store.put([bad, ...changes]);

        const all = await store.scanAll();

        expect(sorted(all)).toEqual(sorted([bad, ...changes]));
        expect(all.find((p) => p.reason === REASON.NOT_JSON)).toMatchObject({
          ...badInputKeys(bad.record),
          aggregateId: undefined,
          change: undefined,
          attempts: 0,
        });
      });
    });

    describe('Method: delete', () => {
      it('deletes only the keys given and ignores absent ones', async () => {
        const store = await makeStore();
        const [a, b] = [parkedChange(orderChange(1, 10), 1), parkedChange(orderChange(1, 11), 2)];
        await store.put([a!, b!]);

        await store.delete([a!, { pk: 'AGG#public.orders#9', sk: 'absent' }]);

        expect(await store.listAggregate('public.orders#1')).toEqual([b]);
      });
    });
  });
}

export { describeParkedStoreContract, parkedChange, recordOf };
