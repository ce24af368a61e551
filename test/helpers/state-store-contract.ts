import { randomUUID } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { parseJsonExact, wasJsonNumber } from '../../core/events/exact-json.js';
import { UnstorableError } from '../../core/state/errors.js';
import type {
  AggregateItem,
  StateMutation,
  StateStorePort,
  StateValue,
  WriteGuard,
  WriteOutcome,
} from '../../core/state/index.js';
import { checkStorable, MAX_VALUE_ITEM_BYTES } from '../../core/state/state-item.js';
import { describeTransactContract } from './state-transaction-contract.js';

/** The clock and tombstone TTL every store under contract is built with. */
const CONTRACT_NOW_MS = 1_700_000_000_000;
const CONTRACT_TTL_SECONDS = 3600;
const TOMBSTONE_EXPIRES = CONTRACT_NOW_MS / 1000 + CONTRACT_TTL_SECONDS;

interface StateStoreSettings {
  readonly now: () => number;
  readonly tombstoneTtlSeconds: number;
}

const value = (position: string, state: StateValue['state'] = { id: 1, at: position }): StateValue => ({
  table: 'public.orders',
  position,
  deleted: state === null,
  state,
});
const quarantine = (position: string) => ({
  reason: 'POISON' as const,
  position,
  sequenceNumber: '1',
  error: 'Error: boom',
  at: '2023-11-14T22:13:20.000Z',
});
const pendingFailure = (position: string) => ({
  position,
  sequenceNumber: '1',
  attempts: 1,
  error: 'Error: boom',
});

function committed(outcome: WriteOutcome): AggregateItem | undefined {
  if (!outcome.committed)
    throw new Error(`expected the write to commit; current: ${JSON.stringify(outcome.current)}`);
  return outcome.previous;
}

function refused(outcome: WriteOutcome): AggregateItem | undefined {
  if (outcome.committed)
    throw new Error(`expected the write to lose; previous: ${JSON.stringify(outcome.previous)}`);
  return outcome.current;
}

/**
 * The behaviour every `StateStorePort` must have. Runs against the in-memory twin (unit) and DynamoDB Local
 * (integration), so the twin cannot drift from the real conditions.
 */
function describeStateStoreContract(
  name: string,
  makeStore: (settings: StateStoreSettings) => Promise<StateStorePort>,
  /** Puts an item as it is, as an earlier version of the store wrote it. */
  putRaw: (store: StateStorePort, item: Record<string, AttributeValue>) => Promise<void>,
): void {
  const fresh = async () => {
    const store = await makeStore({ now: () => CONTRACT_NOW_MS, tombstoneTtlSeconds: CONTRACT_TTL_SECONDS });
    const prefix = `contract.${randomUUID().slice(0, 8)}#`;
    /** Writes and reads back in one step. */
    const writeAndGet = async (id: string, mutation: StateMutation, guard: WriteGuard) => {
      committed(await store.write(id, mutation, guard));
      return (await store.get(id))!;
    };
    return { store, id: (n = 1) => `${prefix}${n}`, writeAndGet };
  };

  describe(`StateStorePort contract: ${name}`, () => {
    describe('Method: get and getMany', () => {
      it('reads nothing for an absent aggregate', async () => {
        const { store, id } = await fresh();

        expect(await store.get(id())).toBeUndefined();
        expect(await store.getMany([])).toEqual(new Map());
      });

      it('reads many aggregates past one request, once each, leaving out the absent ones', async () => {
        const { store, id } = await fresh();
        const present = Array.from({ length: 120 }, (_, i) => id(i));
        for (const aggregateId of present)
          await store.write(aggregateId, { value: value('0001') }, { kind: 'newer' });

        const found = await store.getMany([...present, id(500), present[0]!, id(501)]);

        expect([...found.keys()].sort()).toEqual([...present].sort());
        expect(found.get(id(7))).toMatchObject({ aggregateId: id(7), position: '0001', revision: 1 });
      });
    });

    describe("Method: write, guard 'newer'", () => {
      it('creates an absent aggregate at revision 1', async () => {
        const { store, id } = await fresh();

        const previous = committed(await store.write(id(), { value: value('0010') }, { kind: 'newer' }));

        expect(previous).toBeUndefined();
        expect(await store.get(id())).toEqual({
          aggregateId: id(),
          table: 'public.orders',
          position: '0010',
          deleted: false,
          state: { id: 1, at: '0010' },
          revision: 1,
          quarantine: undefined,
          lastParkedKey: undefined,
          pendingFailure: undefined,
          ttlEpochSeconds: undefined,
          // A value that names no source is of the unnamed one, as items were before sources.
          positions: new Map([['unnamed', '0010']]),
          writer: { source: 'unnamed', ts: 0, position: '0010' },
          fieldStamps: undefined,
        });
      });

      it('overwrites only from a strictly newer position, and a loser learns the item that won', async () => {
        const { store, id } = await fresh();
        await store.write(id(), { value: value('0020') }, { kind: 'newer' });

        const same = refused(await store.write(id(), { value: value('0020') }, { kind: 'newer' }));
        const older = refused(await store.write(id(), { value: value('0019') }, { kind: 'newer' }));
        const newer = committed(await store.write(id(), { value: value('0021') }, { kind: 'newer' }));

        expect(same).toMatchObject({ position: '0020', revision: 1 });
        expect(older).toMatchObject({ position: '0020', revision: 1 });
        expect(newer).toMatchObject({ position: '0020', revision: 1 });
        expect(await store.get(id())).toMatchObject({ position: '0021', revision: 2, state: { at: '0021' } });
      });

      it('compares positions as strings, by their UTF-8 bytes', async () => {
        const { store, id } = await fresh();
        await store.write(id(1), { value: value('9') }, { kind: 'newer' });
        await store.write(id(2), { value: value('\uFFFD') }, { kind: 'newer' });

        // '10' < '9' as strings; U+1F600 is above U+FFFD in UTF-8, though below it in UTF-16 code units.
        const shorter = refused(await store.write(id(1), { value: value('10') }, { kind: 'newer' }));
        const astral = committed(await store.write(id(2), { value: value('\u{1F600}') }, { kind: 'newer' }));

        expect(shorter?.position).toBe('9');
        expect(astral?.position).toBe('\uFFFD');
        expect((await store.get(id(2)))?.position).toBe('\u{1F600}');
      });

      it('never writes past a quarantine, however new the position', async () => {
        const { store, id } = await fresh();
        await store.write(
          id(),
          { quarantine: quarantine('0005') },
          { kind: 'revision', expected: undefined },
        );

        const current = refused(await store.write(id(), { value: value('9999') }, { kind: 'newer' }));

        expect(current).toMatchObject({ position: undefined, quarantine: { position: '0005' } });
      });

      it('refuses a blind write without a value as a mistake, not a lost race', async () => {
        const { store, id } = await fresh();

        await expect(store.write(id(), { pendingFailure: null }, { kind: 'newer' })).rejects.toThrow(
          TypeError,
        );
      });
    });

    describe('Sources (docs/architecture.md contract 9)', () => {
      const stamp = (source: string, ts: number, position: string) => ({ source, ts, position });
      const ofSource = (source: string, position: string, extra: Partial<StateValue> = {}): StateValue => ({
        ...value(position),
        source,
        positions: new Map([[source, position]]),
        writer: stamp(source, 1_700_000_000_000, position),
        ...extra,
      });

      it('keeps the positions of every source, the writer and the field stamps, any names included', async () => {
        const { id, writeAndGet } = await fresh();
        const fieldStamps = {
          fields: new Map([
            ['__proto__', stamp('dms', 5, 'tm:1')],
            ['id', stamp('debezium:db1', 7, 'pg:2')],
            ['at', stamp('dms', 5, 'tm:1')],
          ]),
          deleted: stamp('debezium:db1', 3, 'pg:1'),
        };
        const written = ofSource('debezium:db1', 'pg:2', {
          positions: new Map([
            ['debezium:db1', 'pg:2'],
            ['dms', 'tm:1'],
            ['dynamodb:eu-west-1/orders.v2', 'dd:9'],
          ]),
          fieldStamps,
        });

        const item = await writeAndGet(id(), { value: written }, { kind: 'revision', expected: undefined });

        expect(item.positions).toEqual(written.positions);
        expect(item.writer).toEqual(written.writer);
        expect(item.fieldStamps).toEqual(fieldStamps);
        expect([...item.fieldStamps!.fields.keys()]).toContain('__proto__');
        expect(Object.getPrototypeOf(item.fieldStamps!.fields)).toBe(Map.prototype);
      });

      it('removes the field stamps with a value that has none', async () => {
        const { id, writeAndGet } = await fresh();
        const merged = ofSource('dms', 'tm:1', {
          fieldStamps: { fields: new Map([['id', stamp('dms', 1, 'tm:1')]]), deleted: undefined },
        });
        const first = await writeAndGet(id(), { value: merged }, { kind: 'revision', expected: undefined });

        const after = await writeAndGet(
          id(),
          { value: ofSource('dms', 'tm:2') },
          { kind: 'revision', expected: first },
        );

        expect(first.fieldStamps?.fields.size).toBe(1);
        expect(after.fieldStamps).toBeUndefined();
      });

      it('writes blind only over the same source, and only while it is the one source', async () => {
        const { store, id } = await fresh();
        committed(await store.write(id(), { value: ofSource('debezium:db1', 'pg:5') }, { kind: 'newer' }));

        const other = refused(await store.write(id(), { value: ofSource('dms', 'tm:9') }, { kind: 'newer' }));
        const older = refused(
          await store.write(id(), { value: ofSource('debezium:db1', 'pg:4') }, { kind: 'newer' }),
        );
        committed(await store.write(id(), { value: ofSource('debezium:db1', 'pg:6') }, { kind: 'newer' }));
        const two = ofSource('debezium:db1', 'pg:7', {
          positions: new Map([
            ['debezium:db1', 'pg:7'],
            ['dms', 'tm:1'],
          ]),
        });
        const current = (await store.get(id()))!;
        committed(await store.write(id(), { value: two }, { kind: 'revision', expected: current }));
        const afterTwo = refused(
          await store.write(id(), { value: ofSource('debezium:db1', 'pg:8') }, { kind: 'newer' }),
        );

        expect(other?.positions).toEqual(new Map([['debezium:db1', 'pg:5']]));
        expect(older?.position).toBe('pg:5');
        expect(afterTwo?.positions.size).toBe(2);
      });

      it('lets the first source of the same format take the unnamed mark, or a later one a Kinesis-sequence mark', async () => {
        const { store, id } = await fresh();
        await store.write(id(1), { value: value('pg:5') }, { kind: 'newer' });
        await store.write(id(2), { value: value('pg:5') }, { kind: 'newer' });
        await store.write(id(3), { value: value('ks:5') }, { kind: 'newer' });

        refused(await store.write(id(1), { value: ofSource('debezium:db1', 'pg:5') }, { kind: 'newer' }));
        committed(await store.write(id(1), { value: ofSource('debezium:db1', 'pg:6') }, { kind: 'newer' }));
        // Another format is another source: its position does not compare with the mark.
        refused(await store.write(id(2), { value: ofSource('dynamodb:t', 'dd:9') }, { kind: 'newer' }));
        refused(await store.write(id(3), { value: ofSource('dms', 'dd:1') }, { kind: 'newer' }));
        committed(await store.write(id(3), { value: ofSource('dms', 'tm:1') }, { kind: 'newer' }));

        expect((await store.get(id(1)))?.positions).toEqual(new Map([['debezium:db1', 'pg:6']]));
        expect((await store.get(id(2)))?.positions).toEqual(new Map([['unnamed', 'pg:5']]));
        expect((await store.get(id(3)))?.positions).toEqual(new Map([['dms', 'tm:1']]));
      });

      it('reads an item written before sources as the position of its one source, and migrates it on write', async () => {
        const { store, id } = await fresh();
        const legacy = (n: number) => ({
          aggregateId: { S: id(n) },
          position: { S: 'pg:5' },
          sourceTable: { S: 'public.orders' },
          deleted: { BOOL: false },
          state: { M: { id: { N: '1' } } },
          rev: { N: '3' },
        });
        await putRaw(store, legacy(1));
        await putRaw(store, legacy(2));

        const read = (await store.get(id(1)))!;
        refused(await store.write(id(1), { value: ofSource('debezium:db1', 'pg:5') }, { kind: 'newer' }));
        committed(await store.write(id(1), { value: ofSource('debezium:db1', 'pg:6') }, { kind: 'newer' }));
        const taken = await store.getMany([id(1), id(2)]);

        expect(read).toMatchObject({ position: 'pg:5', revision: 3, state: { id: 1 }, writer: undefined });
        expect(read.positions).toEqual(new Map([['unnamed', 'pg:5']]));
        expect(taken.get(id(1))?.positions).toEqual(new Map([['debezium:db1', 'pg:6']]));
        expect(taken.get(id(2))?.positions).toEqual(new Map([['unnamed', 'pg:5']]));
      });

      it('counts the source maps in the item size: field stamps can make a state that fits unstorable', async () => {
        const { store, id } = await fresh();
        const row = Object.fromEntries(Array.from({ length: 4_000 }, (_, i) => [`c${i}`, 'x'.repeat(80)]));
        const stamps = new Map(Object.keys(row).map((c, i) => [c, stamp(`s${i}`, i, `pos:${i}`)]));

        committed(
          await store.write(id(1), { value: ofSource('dms', 'tm:1', { state: row }) }, { kind: 'newer' }),
        );
        const error = await store
          .write(
            id(2),
            {
              value: ofSource('dms', 'tm:1', {
                state: row,
                fieldStamps: { fields: stamps, deleted: undefined },
              }),
            },
            { kind: 'newer' },
          )
          .then(
            () => undefined,
            (e: unknown) => e,
          );

        expect(error).toBeInstanceOf(UnstorableError);
        expect(await store.get(id(2))).toBeUndefined();
      });
    });

    describe("Method: write, guard 'revision'", () => {
      it('creates an aggregate that is still absent, once', async () => {
        const { store, id } = await fresh();

        committed(
          await store.write(id(), { value: value('0001') }, { kind: 'revision', expected: undefined }),
        );
        const second = refused(
          await store.write(id(), { value: value('0002') }, { kind: 'revision', expected: undefined }),
        );

        expect(second).toMatchObject({ position: '0001', revision: 1 });
      });

      it('writes the revision read and refuses it after another writer, returning the winner', async () => {
        const { store, id } = await fresh();
        await store.write(id(), { value: value('0001') }, { kind: 'newer' });
        const read = (await store.get(id()))!;

        const previous = committed(
          await store.write(id(), { value: value('0002') }, { kind: 'revision', expected: read }),
        );
        const stale = refused(
          await store.write(id(), { value: value('0003') }, { kind: 'revision', expected: read }),
        );

        expect(previous).toEqual(read);
        expect(stale).toMatchObject({ position: '0002', revision: 2 });
      });

      it('keeps what a mutation leaves undefined and removes what it sets to null', async () => {
        const { id, writeAndGet } = await fresh();
        const created = await writeAndGet(
          id(),
          { value: value('0001'), pendingFailure: pendingFailure('0002'), lastParkedKey: 'k1' },
          { kind: 'revision', expected: undefined },
        );

        const quarantined = await writeAndGet(
          id(),
          { quarantine: quarantine('0002'), pendingFailure: null },
          { kind: 'revision', expected: created },
        );
        const lifted = await writeAndGet(
          id(),
          { quarantine: null },
          { kind: 'revision', expected: quarantined },
        );

        expect(created).toMatchObject({
          position: '0001',
          pendingFailure: pendingFailure('0002'),
          lastParkedKey: 'k1',
        });
        expect(quarantined).toMatchObject({
          position: '0001',
          state: { at: '0001' },
          quarantine: quarantine('0002'),
          pendingFailure: undefined,
          lastParkedKey: 'k1',
          revision: 2,
        });
        expect(lifted).toMatchObject({
          position: '0001',
          quarantine: undefined,
          lastParkedKey: 'k1',
          revision: 3,
        });
      });
    });

    describe("Method: write, guard 'lift-quarantine'", () => {
      it('lifts only while nothing was parked behind the quarantine since it was read', async () => {
        const { store, id, writeAndGet } = await fresh();
        const read = await writeAndGet(
          id(),
          { quarantine: quarantine('0002'), lastParkedKey: 'k2' },
          { kind: 'revision', expected: undefined },
        );

        const moved = refused(
          await store.write(
            id(),
            { quarantine: null },
            { kind: 'lift-quarantine', expected: { ...read, lastParkedKey: 'k1' } },
          ),
        );
        committed(await store.write(id(), { quarantine: null }, { kind: 'lift-quarantine', expected: read }));

        expect(moved).toMatchObject({ lastParkedKey: 'k2', revision: 1 });
        expect(await store.get(id())).toMatchObject({ quarantine: undefined, revision: 2 });
      });

      it("stores the mutation's lastParkedKey, not the one the guard compares", async () => {
        const { id, writeAndGet } = await fresh();
        const read = await writeAndGet(
          id(),
          { quarantine: quarantine('0002'), lastParkedKey: 'k2' },
          { kind: 'revision', expected: undefined },
        );

        const after = await writeAndGet(
          id(),
          { quarantine: quarantine('0003'), lastParkedKey: 'k3' },
          { kind: 'lift-quarantine', expected: read },
        );

        expect(after).toMatchObject({ lastParkedKey: 'k3', quarantine: { position: '0003' } });
      });

      it('refuses a lift without the lastParkedKey read as a mistake', async () => {
        const { store, id, writeAndGet } = await fresh();
        const read = await writeAndGet(
          id(),
          { quarantine: quarantine('1') },
          { kind: 'revision', expected: undefined },
        );

        await expect(
          store.write(id(), { quarantine: null }, { kind: 'lift-quarantine', expected: read }),
        ).rejects.toThrow(TypeError);
      });
    });

    describe('Tombstones (docs/architecture.md contract 4)', () => {
      it('gives a tombstone a time to live and takes it away when the aggregate is created again', async () => {
        const { id, writeAndGet } = await fresh();

        const tombstone = await writeAndGet(id(), { value: value('0002', null) }, { kind: 'newer' });
        const recreated = await writeAndGet(id(), { value: value('0003') }, { kind: 'newer' });

        expect(tombstone).toMatchObject({ deleted: true, state: null, ttlEpochSeconds: TOMBSTONE_EXPIRES });
        expect(recreated).toMatchObject({ deleted: false, ttlEpochSeconds: undefined });
      });

      it('never lets a tombstone that holds something back expire, and lets it expire again once lifted', async () => {
        const { id, writeAndGet } = await fresh();
        const tombstone = await writeAndGet(id(), { value: value('0002', null) }, { kind: 'newer' });

        const failing = await writeAndGet(
          id(),
          { pendingFailure: pendingFailure('0003') },
          { kind: 'revision', expected: tombstone },
        );
        const quarantined = await writeAndGet(
          id(),
          { pendingFailure: null, quarantine: quarantine('0003') },
          { kind: 'revision', expected: failing },
        );
        const parkedBehind = await writeAndGet(
          id(),
          { lastParkedKey: 'k4' },
          { kind: 'revision', expected: quarantined },
        );
        const lifted = await writeAndGet(
          id(),
          { quarantine: null },
          { kind: 'revision', expected: parkedBehind },
        );

        expect(failing.ttlEpochSeconds).toBeUndefined();
        expect(quarantined.ttlEpochSeconds).toBeUndefined();
        expect(parkedBehind.ttlEpochSeconds).toBeUndefined();
        expect(lifted).toMatchObject({ deleted: true, ttlEpochSeconds: TOMBSTONE_EXPIRES });
      });

      it('keeps the time to live of a tombstone a write leaves as it is', async () => {
        const { id, writeAndGet } = await fresh();
        const tombstone = await writeAndGet(id(), { value: value('0002', null) }, { kind: 'newer' });

        const touched = await writeAndGet(
          id(),
          { lastParkedKey: 'k' },
          { kind: 'revision', expected: tombstone },
        );

        expect(touched).toMatchObject({
          deleted: true,
          lastParkedKey: 'k',
          ttlEpochSeconds: TOMBSTONE_EXPIRES,
        });
      });
    });

    describe('State values (docs/architecture.md contract 6)', () => {
      it('round-trips any row exactly: a __proto__ column, numbers past 2^53, exponents, nesting, text', async () => {
        const { id, writeAndGet } = await fresh();
        const row = JSON.parse(
          '{"__proto__": {"polluted": true}, "constructor": "c", "id": 9007199254740993, "big": 1e20, ' +
            '"tiny": 1.5e-100, "huge": -1.25e125, "dec": "12345678901234567890.123456789", "f": 0.1, ' +
            '"empty": "", "nested": {"list": [1, "two", null, true, {"deep": []}], "map": {}}, ' +
            '"text": "é\\u0000\\uD83D\\uDE00 \\u2028", "none": null, "yes": false}',
        ) as Record<string, unknown>;

        const stored = await writeAndGet(id(), { value: value('0001', row) }, { kind: 'newer' });

        // DynamoDB keeps no key order, so the comparison does not either.
        expect(Object.getOwnPropertyNames(stored.state).sort()).toEqual(
          Object.getOwnPropertyNames(row).sort(),
        );
        expect(Object.getPrototypeOf(stored.state)).toBe(Object.prototype);
        expect(stored.state).toEqual(row);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      });

      it('round-trips numbers exactly: DynamoDB numbers up to 38 digits, the rest as exact text, marked', async () => {
        // Prepare
        const { id, writeAndGet } = await fresh();
        const row = parseJsonExact(
          '{"int64": 9223372036854775807, "d38": 12345678901234567890123456789012345678, ' +
            '"d39": 123456789012345678901234567890123456789, "far": 1e400, "list": [18446744073709551615, 1], ' +
            '"max": 1.7976931348623157e+308, "min": 5e-324, "e21": 1e21}',
        ) as Record<string, unknown>;

        // Act
        const stored = await writeAndGet(id(), { value: value('0001', row) }, { kind: 'newer' });

        // Assert
        expect(stored.state).toEqual(row);
        for (const name of ['int64', 'd38', 'd39', 'far'])
          expect(wasJsonNumber(stored.state!, name), name).toBe(true);
        expect(wasJsonNumber((stored.state as { list: object }).list, '0')).toBe(true);
        expect(stored.state?.max).toBe(Number.MAX_VALUE);
        expect(stored.state?.min).toBe(5e-324);
      });

      it('tells a writer that lost on an item with a __proto__ column which item won', async () => {
        const { store, id, writeAndGet } = await fresh();
        const row = JSON.parse('{"__proto__": {"S": "k1"}, "v": 1}') as Record<string, unknown>;
        await writeAndGet(id(), { value: value('0002', row) }, { kind: 'newer' });

        // A redelivered older change loses its condition.
        const current = refused(await store.write(id(), { value: value('0001', row) }, { kind: 'newer' }));

        expect(current?.position).toBe('0002');
        expect(Object.keys(current?.state ?? {})).toEqual(['__proto__', 'v']);
      });

      it('writes the exact-number paths with the state and removes them with it', async () => {
        const { id, writeAndGet } = await fresh();
        const huge = parseJsonExact('{"x": 1e400}') as Record<string, unknown>;

        await writeAndGet(id(), { value: value('0001', huge) }, { kind: 'newer' });
        const plain = await writeAndGet(id(), { value: value('0002', { x: 1 }) }, { kind: 'newer' });

        expect(plain.state).toEqual({ x: 1 });
      });
    });

    describe("A committed write's after()", () => {
      it('is the item a read returns then, whatever the write set or removed', async () => {
        // Prepare
        const { store, id } = await fresh();
        const row = parseJsonExact('{"__proto__": {"x": 1}, "n": 1e21, "far": 1e400, "list": [0.10, 2]}');
        const steps: [StateMutation, (item: AggregateItem | undefined) => WriteGuard][] = [
          [{ value: value('0001', row as Record<string, unknown>) }, () => ({ kind: 'newer' })],
          [{ pendingFailure: pendingFailure('0002') }, (item) => ({ kind: 'revision', expected: item })],
          [
            { quarantine: quarantine('0002'), pendingFailure: null, lastParkedKey: '0002#1#0' },
            (item) => ({ kind: 'revision', expected: item }),
          ],
          [
            { value: value('0003', null), quarantine: null },
            (item) => ({ kind: 'lift-quarantine', expected: item! }),
          ],
          [{ value: value('0004', { id: 2 }) }, () => ({ kind: 'newer' })],
        ];
        let item: AggregateItem | undefined;

        for (const [mutation, guard] of steps) {
          // Act
          const outcome = await store.write(id(), mutation, guard(item));

          // Assert
          if (!outcome.committed) throw new Error(`lost: ${JSON.stringify(mutation)}`);
          item = await store.get(id());
          const after = outcome.after();
          expect(after).toEqual(item);
          if (item?.state !== null && item?.state !== undefined) {
            expect(Object.getOwnPropertyNames(after.state).sort()).toEqual(
              Object.getOwnPropertyNames(item.state).sort(),
            );
            expect(wasJsonNumber(after.state!, 'far')).toBe(wasJsonNumber(item.state, 'far'));
          }
        }
        expect(item).toMatchObject({ position: '0004', revision: 5, deleted: false });
      });

      it("is the item a read returns then, with every source's position, the writer and the field stamps", async () => {
        // Prepare
        const { store, id } = await fresh();
        const stamp = (source: string, ts: number, position: string) => ({ source, ts, position });
        const positions = (...entries: [string, string][]) => new Map(entries);
        const steps: [StateMutation, (item: AggregateItem | undefined) => WriteGuard][] = [
          [
            {
              value: {
                ...value('pg:2'),
                source: 'debezium:db1',
                positions: positions(['debezium:db1', 'pg:2'], ['dms', 'tm:1'], ['__proto__', 'x:1']),
                writer: stamp('debezium:db1', 7, 'pg:2'),
                fieldStamps: {
                  fields: new Map([
                    ['__proto__', stamp('dms', 5, 'tm:1')],
                    ['id', stamp('debezium:db1', 7, 'pg:2')],
                  ]),
                  deleted: stamp('dms', 3, 'tm:0'),
                },
              },
            },
            () => ({ kind: 'revision', expected: undefined }),
          ],
          [{ pendingFailure: pendingFailure('tm:2') }, (item) => ({ kind: 'revision', expected: item })],
          [
            {
              value: {
                ...value('tm:2'),
                source: 'dms',
                positions: positions(['debezium:db1', 'pg:2'], ['dms', 'tm:2']),
                writer: stamp('dms', 9, 'tm:2'),
              },
              pendingFailure: null,
            },
            (item) => ({ kind: 'revision', expected: item }),
          ],
          [{ value: { ...value('tm:3'), source: 'dms' } }, (item) => ({ kind: 'revision', expected: item })],
        ];
        let item: AggregateItem | undefined;

        for (const [mutation, guard] of steps) {
          // Act
          const outcome = await store.write(id(), mutation, guard(item));

          // Assert
          if (!outcome.committed) throw new Error(`lost: ${JSON.stringify(mutation)}`);
          item = await store.get(id());
          const after = outcome.after();
          expect(after).toEqual(item);
          expect([...after.positions.keys()].sort()).toEqual([...item!.positions.keys()].sort());
          expect([...(after.fieldStamps?.fields.keys() ?? [])]).toEqual([
            ...(item!.fieldStamps?.fields.keys() ?? []),
          ]);
        }
        expect(item).toMatchObject({ position: 'tm:3', revision: 4, fieldStamps: undefined });
        expect(item?.positions).toEqual(positions(['dms', 'tm:3']));
      });
    });

    describe('What DynamoDB refuses (docs/architecture.md contract 6)', () => {
      const refusal = async (write: Promise<WriteOutcome>): Promise<UnstorableError> => {
        try {
          await write;
        } catch (error) {
          if (error instanceof UnstorableError) return error;
          throw error;
        }
        throw new Error('expected the write to be refused as unstorable');
      };

      it('refuses an empty column name for good, naming the path, and writes nothing', async () => {
        const { store, id } = await fresh();

        const error = await refusal(
          store.write(id(), { value: value('0001', { id: 4, '': 'empty' }) }, { kind: 'newer' }),
        );

        expect(error.path).toBe('state[""]');
        expect(await store.get(id())).toBeUndefined();
      });

      it('takes a state up to the item limit less the bookkeeping reserve, counted as DynamoDB counts it', async () => {
        const { store, id } = await fresh();
        // 150,000 single digits: 300 KB of JSON, 450 KB as DynamoDB counts numbers in a list.
        const digits = { list: Array.from({ length: 150_000 }, () => 7) };
        const fitting = { s: 'x'.repeat(390_000) };

        const error = await refusal(store.write(id(1), { value: value('0001', digits) }, { kind: 'newer' }));
        committed(await store.write(id(2), { value: value('0001', fitting) }, { kind: 'newer' }));

        expect(error.limit).toBe('400 KB per item');
        expect(error.message).toContain(`more than ${MAX_VALUE_ITEM_BYTES}`);
        expect((await store.get(id(2)))?.state).toEqual(fitting);
      });

      it('refuses a key over 2,048 bytes for good (a ValidationException of the engine)', async () => {
        const { store } = await fresh();

        const error = await refusal(
          store.write(`t#${'k'.repeat(2_100)}`, { value: value('0001') }, { kind: 'newer' }),
        );

        expect(error.path).toBe('item');
        expect(error.message).toContain('2048');
      });

      it('records a failure on an aggregate whose state is as large as it may be', async () => {
        const { store, id } = await fresh();
        const envelope = await writeAndGetLargest(store, id());

        const out = await store.write(
          id(),
          {
            pendingFailure: { ...pendingFailure('0002'), error: 'x'.repeat(300_000) },
            quarantine: { ...quarantine('0002'), error: 'é'.repeat(300_000) },
            lastParkedKey: `0002#${'9'.repeat(129)}#${'0'.repeat(10)}`,
          },
          { kind: 'revision', expected: envelope },
        );

        expect(out.committed).toBe(true);
        const stored = (await store.get(id()))!;
        expect(Buffer.byteLength(stored.quarantine!.error)).toBeLessThanOrEqual(1_024);
        expect(stored.pendingFailure!.error).toMatch(/… \(300000 bytes\)$/);
      });
    });
  });

  describeTransactContract(name, makeStore);
}

/** Writes the largest state the store takes (a string padded to the limit) and reads it back. */
async function writeAndGetLargest(store: StateStorePort, aggregateId: string): Promise<AggregateItem> {
  let low = 0;
  let high = MAX_VALUE_ITEM_BYTES;
  // The size check runs before the write: find its largest accepted string without writing.
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    try {
      checkStorable(aggregateId, value('0001', { s: 'x'.repeat(mid) }));
      low = mid;
    } catch {
      high = mid - 1;
    }
  }
  committed(
    await store.write(aggregateId, { value: value('0001', { s: 'x'.repeat(low) }) }, { kind: 'newer' }),
  );
  return (await store.get(aggregateId))!;
}

export type { StateStoreSettings };
export { CONTRACT_NOW_MS, CONTRACT_TTL_SECONDS, describeStateStoreContract };
