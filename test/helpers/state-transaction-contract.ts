import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { StateStorePort, StateValue, TransactOutcome } from '../../core/state/index.js';
import { type DerivedField, DerivedUpdateError, type DerivedWrite } from '../../core/state/index.js';
import type { StateStoreSettings } from './state-store-contract.js';

const NOW_MS = 1_700_000_000_000;

const value = (position: string): StateValue => ({
  table: 'public.order_lines',
  position,
  deleted: false,
  state: { id: 1, at: position },
});

/** A derived write of `fields`, adding numbers and setting everything else. */
function derived(
  aggregateId: string,
  fields: Record<string, number | bigint | string>,
  fence?: number,
): DerivedWrite {
  const map = new Map<string, DerivedField>(
    Object.entries(fields).map(([name, v]) => [
      name,
      typeof v === 'string' ? { kind: 'set', value: v } : { kind: 'add', by: BigInt(v) },
    ]),
  );
  return { aggregateId, fields: map, ...(fence === undefined ? {} : { fence }) };
}

function refusal(outcome: TransactOutcome): Exclude<TransactOutcome, { committed: true }> {
  if (outcome.committed) throw new Error('expected the transaction to be refused; it committed');
  return outcome;
}

/**
 * The behaviour of `StateStorePort.transact`: a source write and its derived updates commit whole or not at
 * all; duplicates and stale fences cancel everything. Part of the state store contract.
 */
function describeTransactContract(
  name: string,
  makeStore: (settings: StateStoreSettings) => Promise<StateStorePort>,
): void {
  const fresh = async () => {
    const store = await makeStore({ now: () => NOW_MS, tombstoneTtlSeconds: 3600 });
    const prefix = `tx.${randomUUID().slice(0, 8)}`;
    return { store, line: (n = 1) => `${prefix}.line#${n}`, order: (n = 1) => `${prefix}.order#${n}` };
  };

  describe(`StateStorePort contract: ${name}, Method: transact`, () => {
    it('writes the source and adds to and sets derived fields of absent aggregates, in one commit', async () => {
      const { store, line, order } = await fresh();

      const out = await store.transact(
        line(),
        { value: value('0001') },
        { kind: 'revision', expected: undefined },
        {
          derived: [derived(order(1), { total: 250, status: 'open' }), derived(order(2), { lines: 1 })],
        },
      );

      expect(out).toEqual({ committed: true });
      expect(await store.get(line())).toMatchObject({ position: '0001', revision: 1, state: { at: '0001' } });
      const created = await store.get(order(1));
      expect(created).toMatchObject({ aggregateId: order(1), position: undefined, revision: 0, state: null });
      expect(created?.derived).toEqual(
        new Map<string, unknown>([
          ['total', 250],
          ['status', 'open'],
        ]),
      );
      expect((await store.get(order(2)))?.derived).toEqual(new Map([['lines', 1]]));
    });

    it('adds exactly, past 2^53, and keeps derived fields through the owner’s own writes', async () => {
      const { store, line, order } = await fresh();
      const big = 2n ** 60n;
      await store.transact(
        line(1),
        { value: value('0001') },
        { kind: 'revision', expected: undefined },
        {
          derived: [derived(order(), { total: big })],
        },
      );
      const created = await store.get(order());
      // The owner read the item a derived update created (revision 0) and writes its own state onto it.
      const own = await store.write(
        order(),
        { value: { ...value('0005'), table: 'public.orders' } },
        { kind: 'revision', expected: created },
      );
      await store.transact(
        line(2),
        { value: value('0002') },
        { kind: 'revision', expected: undefined },
        {
          derived: [derived(order(), { total: -1 })],
        },
      );

      expect(own.committed).toBe(true);
      const item = await store.get(order());
      expect(item).toMatchObject({ position: '0005', revision: 1, table: 'public.orders' });
      expect(item?.derived?.get('total')).toBe(big - 1n);
    });

    it("keeps an aggregate's derived fields and fence in the after() of its own next write, as a read returns it", async () => {
      // Prepare: the order has derived fields (from a line) and a fence (from a locked write of its own).
      const { store, line, order } = await fresh();
      await store.transact(
        line(),
        { value: value('0001') },
        { kind: 'newer' },
        { derived: [derived(order(), { total: 2n ** 60n, status: 'open' }, 4)] },
      );
      await store.transact(order(), { value: value('0002') }, { kind: 'newer' }, { derived: [], fence: 5 });
      const read = await store.get(order());

      // Act
      const out = await store.write(order(), { value: value('0003') }, { kind: 'revision', expected: read });

      // Assert
      if (!out.committed) throw new Error('the write lost its guard');
      expect(out.after()).toEqual(await store.get(order()));
      expect(out.after()).toMatchObject({ position: '0003', revision: 2, fence: 5 });
      expect(out.after().derived?.get('total')).toBe(2n ** 60n);
    });

    it('applies nothing when the source guard fails: a duplicate of the change cancels its derived updates', async () => {
      const { store, line, order } = await fresh();
      const tx = () =>
        store.transact(
          line(),
          { value: value('0001') },
          { kind: 'revision', expected: undefined },
          {
            derived: [derived(order(), { total: 100 })],
          },
        );
      await tx();

      const duplicate = refusal(await tx());

      expect(duplicate).toMatchObject({ reason: 'condition', current: { position: '0001', revision: 1 } });
      expect((await store.get(order()))?.derived?.get('total')).toBe(100);
    });

    it('judges a blind source write by its own source’s mark: a duplicate of it, or a second source, cancels its derived updates', async () => {
      const { store, line, order } = await fresh();
      const ofSource = (source: string, position: string): StateValue => ({ ...value(position), source });
      await store.transact(
        line(),
        { value: ofSource('debezium:a', '0005') },
        { kind: 'newer' },
        { derived: [derived(order(), { total: 10 })] },
      );

      const duplicate = refusal(
        await store.transact(
          line(),
          { value: ofSource('debezium:a', '0005') },
          { kind: 'newer' },
          { derived: [derived(order(), { total: 10 })] },
        ),
      );
      // Higher as a string than debezium:a's mark, but another source's positions do not compare with it.
      const otherSource = refusal(
        await store.transact(
          line(),
          { value: ofSource('dms', '0009') },
          { kind: 'newer' },
          { derived: [derived(order(), { total: 100 })] },
        ),
      );
      const newer = await store.transact(
        line(),
        { value: ofSource('debezium:a', '0006') },
        { kind: 'newer' },
        { derived: [derived(order(), { total: 1 })] },
      );

      expect(duplicate).toMatchObject({ reason: 'condition', current: { position: '0005' } });
      expect(otherSource).toMatchObject({ reason: 'condition', current: { position: '0005' } });
      expect(newer).toEqual({ committed: true });
      expect(await store.get(line())).toMatchObject({
        position: '0006',
        positions: new Map([['debezium:a', '0006']]),
        writer: { source: 'debezium:a', position: '0006' },
      });
      expect((await store.get(order()))?.derived?.get('total')).toBe(11);
    });

    it('keeps the source marks, the field stamps, the fence and derived fields of one item side by side', async () => {
      const { store, line, order } = await fresh();
      await store.transact(
        line(),
        { value: value('0001') },
        { kind: 'revision', expected: undefined },
        { derived: [derived(order(), { total: 7, status: 'open' }, 3)] },
      );
      const created = await store.get(order());
      const stamp = { source: 'dms', ts: 1_700_000_000_001, position: 'tm:2' };
      const own = await store.transact(
        order(),
        {
          value: {
            table: 'public.orders',
            source: 'dms',
            position: 'tm:2',
            deleted: false,
            state: { id: 1 },
            positions: new Map([
              ['debezium:a', '0004'],
              ['dms', 'tm:2'],
            ]),
            writer: stamp,
            fieldStamps: { fields: new Map([['id', stamp]]), deleted: undefined },
          },
        },
        { kind: 'revision', expected: created },
        { derived: [], fence: 4 },
      );

      expect(own).toEqual({ committed: true });
      const item = await store.get(order());
      expect(item).toMatchObject({
        position: 'tm:2',
        revision: 1,
        fence: 4,
        writer: stamp,
        positions: new Map([
          ['debezium:a', '0004'],
          ['dms', 'tm:2'],
        ]),
        fieldStamps: { fields: new Map([['id', stamp]]) },
        state: { id: 1 },
      });
      expect(item?.derived).toEqual(
        new Map<string, unknown>([
          ['total', 7],
          ['status', 'open'],
        ]),
      );
    });

    it('stores the source fence, refuses a lower one as stale, and lets an equal one through', async () => {
      const { store, line, order } = await fresh();
      await store.transact(line(), { value: value('0001') }, { kind: 'newer' }, { derived: [], fence: 7 });

      const stale = refusal(
        await store.transact(
          line(),
          { value: value('0002') },
          { kind: 'newer' },
          {
            derived: [derived(order(), { total: 1 })],
            fence: 6,
          },
        ),
      );
      const equal = await store.transact(
        line(),
        { value: value('0003') },
        { kind: 'newer' },
        {
          derived: [derived(order(), { total: 5 })],
          fence: 7,
        },
      );

      expect(stale).toEqual({ committed: false, reason: 'stale-fence', aggregateId: line(), storedFence: 7 });
      expect(equal).toEqual({ committed: true });
      expect(await store.get(line())).toMatchObject({ position: '0003', fence: 7 });
      expect((await store.get(order()))?.derived?.get('total')).toBe(5);
    });

    it('refuses the whole transaction when a derived aggregate holds a higher fence', async () => {
      const { store, line, order } = await fresh();
      await store.transact(
        line(9),
        { value: value('0001') },
        { kind: 'newer' },
        {
          derived: [derived(order(), { total: 1 }, 12)],
        },
      );

      const stale = refusal(
        await store.transact(
          line(1),
          { value: value('0001') },
          { kind: 'newer' },
          {
            derived: [derived(order(2), { total: 1 }, 3), derived(order(), { total: 1 }, 11)],
            fence: 4,
          },
        ),
      );

      expect(stale).toEqual({
        committed: false,
        reason: 'stale-fence',
        aggregateId: order(),
        storedFence: 12,
      });
      expect(await store.get(line(1))).toBeUndefined();
      expect(await store.get(order(2))).toBeUndefined();
      expect(await store.get(order())).toMatchObject({ fence: 12 });
    });

    it('reports a lost guard without derived updates as a condition, with the item that won', async () => {
      const { store, line } = await fresh();
      await store.write(line(), { value: value('0009') }, { kind: 'newer' });

      const lost = refusal(
        await store.transact(line(), { value: value('0002') }, { kind: 'newer' }, { derived: [] }),
      );

      expect(lost).toMatchObject({ reason: 'condition', current: { position: '0009' } });
    });

    it('commits each of many concurrent transactions on one derived aggregate whole, or reports a conflict and writes nothing', async () => {
      const { store, line, order } = await fresh();

      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.transact(
            line(i),
            { value: value('0001') },
            { kind: 'revision', expected: undefined },
            {
              derived: [derived(order(), { total: 1 })],
            },
          ),
        ),
      );

      const committed = outcomes.filter((o) => o.committed).length;
      expect(outcomes.every((o) => o.committed || o.reason === 'conflict')).toBe(true);
      expect((await store.get(order()))?.derived?.get('total')).toBe(committed);
      const lines = await store.getMany(Array.from({ length: 20 }, (_, i) => line(i)));
      expect(lines.size).toBe(committed);
    });

    it('refuses more than 100 items, or one aggregate named twice, before writing anything', async () => {
      const { store, line, order } = await fresh();
      const many = Array.from({ length: 100 }, (_, i) => derived(order(i), { n: 1 }));

      const tooMany = store.transact(line(), { value: value('0001') }, { kind: 'newer' }, { derived: many });
      const twice = store.transact(
        line(),
        { value: value('0001') },
        { kind: 'newer' },
        {
          derived: [derived(order(), { n: 1 }), derived(order(), { n: 2 })],
        },
      );
      const itself = store.transact(
        line(),
        { value: value('0001') },
        { kind: 'newer' },
        {
          derived: [derived(line(), { n: 1 })],
        },
      );

      await expect(tooMany).rejects.toThrow(/take 101 items, more than the 100 of one DynamoDB transaction/);
      await expect(twice).rejects.toBeInstanceOf(DerivedUpdateError);
      await expect(itself).rejects.toMatchObject({ reason: 'DERIVED_INVALID' });
      expect(await store.get(line())).toBeUndefined();
    });
  });
}

export { describeTransactContract };
