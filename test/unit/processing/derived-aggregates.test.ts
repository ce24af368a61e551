import { describe, expect, it, vi } from 'vitest';
import { InMemoryCoordinationStore, LockClient } from '../../../core/coordination/index.js';
import { postgresPosition } from '../../../core/events/position.js';
import { AggregateLocks, type LockWait } from '../../../core/processing/aggregate-locks.js';
import { AggregateApplier } from '../../../core/processing/apply-aggregate.js';
import type { PendingChange } from '../../../core/processing/fold.js';
import {
  FAULT_INJECTION_COLUMN,
  type Projection,
  withFaultInjection,
} from '../../../core/processing/projection.js';
import { ParkedReplayer } from '../../../core/processing/replay.js';
import type {
  StateMutation,
  StateStorePort,
  TransactOptions,
  TransactOutcome,
  WriteGuard,
} from '../../../core/state/index.js';
import { lineChange } from '../../helpers/changes.js';
import { lockedOrderLineTotals, orderLineTotals } from '../../helpers/projections/order-line-totals.js';
import { afterImagePayloads, stateTwins } from '../../helpers/state-twins.js';

const LINE = (n: number) => `public.order_lines#${n}`;
const ORDER = (n: number) => `public.orders#${n}`;

/** Answers `conflict` to the next `times` transactions, as DynamoDB does to one that met a concurrent one. */
class ConflictingStore implements StateStorePort {
  public conflicts = 0;
  public constructor(
    private readonly inner: StateStorePort,
    private times: number,
  ) {}
  public get: StateStorePort['get'] = (id) => this.inner.get(id);
  public getMany: StateStorePort['getMany'] = (ids) => this.inner.getMany(ids);
  public write: StateStorePort['write'] = (...a) => this.inner.write(...a);
  public async transact(
    id: string,
    mutation: StateMutation,
    guard: WriteGuard,
    options: TransactOptions,
  ): Promise<TransactOutcome> {
    if (this.times > 0) {
      this.times--;
      this.conflicts++;
      return { committed: false, reason: 'conflict' };
    }
    return this.inner.transact(id, mutation, guard, options);
  }
}

/** Derives `n += 1` on `count` orders from `from`: more derived aggregates than one transaction holds. */
const fanOut: Projection = {
  name: 'fan-out',
  needsPreviousState: true,
  apply: (_previous, change) => {
    const { from, count } = change.after as { from: number; count: number };
    return {
      deleted: false,
      state: change.after,
      derived: Array.from({ length: count }, (_, i) => ({ aggregateId: ORDER(from + i), add: { n: 1 } })),
    };
  },
};

/** A change of line 1 that fans out to orders `from` .. `from + count - 1`. */
function fanChange(lsn: number, from: number, count: number): PendingChange {
  const p = lineChange(1, lsn, 0, 0);
  return { ...p, change: { ...p.change, after: { id: 1, from, count } } };
}

function setup(options: { projection?: Projection; conflicts?: number; locks?: boolean } = {}) {
  const deferral = { on: false };
  const twins = stateTwins();
  const stateStore =
    options.conflicts === undefined
      ? twins.stateStore
      : new ConflictingStore(twins.stateStore, options.conflicts);
  const waits: LockWait[] = [];
  const lockClient = new LockClient({
    store: new InMemoryCoordinationStore(),
    clock: twins.clock,
    ownerId: 'consumer-a',
    leaseDurationMs: 10_000,
    autoHeartbeat: false,
  });
  const locks =
    options.locks === true
      ? new AggregateLocks({
          locks: lockClient,
          waitMs: 0,
          leaseDurationMs: 10_000,
          clock: twins.clock,
          onWait: (w) => waits.push(w),
        })
      : undefined;
  const applier = new AggregateApplier({
    stateStore,
    parkedStore: twins.parkedStore,
    projection: options.projection ?? orderLineTotals,
    maxAttempts: 3,
    now: twins.now,
    clock: twins.clock,
    transientAttempts: 1,
    isDeferred: (table) => deferral.on && table === 'public.order_lines',
    ...(locks === undefined ? {} : { locks }),
  });
  const total = async (order: number) => (await twins.stateTwin.get(ORDER(order)))?.derived?.get('total');
  return {
    ...twins,
    stateStore,
    deferral,
    /** The fault-injecting wrapper under `stateStore`. */
    faults: twins.stateStore,
    waits,
    lockClient,
    apply: (line: number, changes: readonly PendingChange[]) =>
      twins.clock.runUntil(applier.apply(LINE(line), changes, afterImagePayloads)),
    total,
  };
}

describe('Derived aggregates', () => {
  it('writes a line and its order total in one transaction, and counts it once', async () => {
    const t = setup();
    const transact = vi.spyOn(t.stateStore, 'transact');

    const out = await t.apply(1, [lineChange(1, 10, 7, 250, 'create'), lineChange(1, 11, 7, 300)]);

    expect(out).toMatchObject({ applied: 2, duplicates: 0, writes: 1, quarantined: false });
    expect(transact).toHaveBeenCalledTimes(1);
    expect(await t.total(7)).toBe(300);
    expect((await t.stateTwin.get(ORDER(7)))?.derived?.get('lines')).toBe(1);
    expect(await t.stateTwin.get(LINE(1))).toMatchObject({ state: { quantity: 300 }, revision: 1 });
  });

  it('applies a redelivered batch as duplicates, leaving the totals as they were', async () => {
    const t = setup();
    const batch = [lineChange(1, 10, 7, 250, 'create'), lineChange(2, 12, 7, 40, 'create')];
    await t.apply(1, [batch[0]!]);
    await t.apply(2, [batch[1]!]);

    const again = await t.apply(1, [batch[0]!]);

    expect(again).toMatchObject({ applied: 0, duplicates: 1, writes: 0 });
    expect(await t.total(7)).toBe(290);
  });

  it('reads the state first when a projection that does not ask for it derives updates', async () => {
    const t = setup({ projection: { ...orderLineTotals, needsPreviousState: false } });
    await t.apply(1, [lineChange(1, 10, 7, 100, 'create')]);
    const get = vi.spyOn(t.stateStore, 'get');

    // The same change again and a new one: only a known position tells the first is a duplicate.
    const out = await t.apply(1, [lineChange(1, 10, 7, 100, 'create'), lineChange(1, 11, 7, 150)]);

    expect(get).toHaveBeenCalled();
    expect(out).toMatchObject({ applied: 1, duplicates: 1 });
    expect(await t.total(7)).toBe(150);
  });

  it('folds again onto the winner when the source write loses, and derives from the winner', async () => {
    const t = setup();
    await t.apply(1, [lineChange(1, 10, 7, 100, 'create')]);
    t.faults.inject({
      kind: 'interleave',
      operations: ['transact'],
      before: async () => {
        // Another consumer applies the line's next change first (with its derived update).
        const item = await t.stateTwin.get(LINE(1));
        await t.stateTwin.transact(
          LINE(1),
          {
            value: {
              table: 'public.order_lines',
              position: postgresPosition(11, 10),
              deleted: false,
              state: { id: 1, order_id: 7, quantity: 120 },
            },
          },
          { kind: 'revision', expected: item },
          { derived: [{ aggregateId: ORDER(7), fields: new Map([['total', { kind: 'add', by: 20n }]]) }] },
        );
      },
    });

    const out = await t.apply(1, [lineChange(1, 11, 7, 120), lineChange(1, 12, 7, 125)]);

    expect(out).toMatchObject({ applied: 1, duplicates: 1, writes: 2 });
    expect(await t.total(7)).toBe(125);
  });

  it('tries a conflicting transaction again with backoff, and applies it once', async () => {
    const t = setup({ conflicts: 3 });

    const out = await t.apply(1, [lineChange(1, 10, 7, 100, 'create')]);

    expect(out).toMatchObject({ applied: 1, quarantined: false });
    expect(t.clock.now()).toBeGreaterThan(0);
    expect(await t.total(7)).toBe(100);
  });

  it('parks the change as DERIVED_CONFLICT after the bounded tries, and applies nothing of it', async () => {
    const t = setup({ conflicts: 5 });

    const out = await t.apply(1, [lineChange(1, 10, 7, 100, 'create'), lineChange(1, 11, 7, 130)]);

    expect(out).toMatchObject({ applied: 1, quarantined: true, parked: 1 });
    const parked = await t.parkedTwin.listAggregate(LINE(1));
    expect(parked.map((p) => [p.reason, p.change?.position])).toEqual([
      ['DERIVED_CONFLICT', postgresPosition(11, 10)],
    ]);
    expect(parked[0]?.message).toMatch(
      /cancelled by concurrent transactions 5 times \(TransactionConflict\)/,
    );
    // The change before it was written on its own, with its own derived update, once the conflicts ended.
    expect(await t.total(7)).toBe(100);
  });

  it('parks a change whose derived update is malformed at once, as DERIVED_INVALID', async () => {
    const t = setup();

    const out = await t.apply(1, [lineChange(1, 10, 7, 100, 'create'), lineChange(1, 11, 7, 1.5)]);

    expect(out).toMatchObject({ applied: 1, quarantined: true });
    const [parked] = await t.parkedTwin.listAggregate(LINE(1));
    expect(parked).toMatchObject({ reason: 'DERIVED_INVALID', attempts: 1 });
    expect(parked?.message).toMatch(/add\.total must be an integer/);
    expect(await t.total(7)).toBe(100);
  });

  it('splits a batch whose derived aggregates overflow one transaction, and refuses one change that alone does', async () => {
    const t = setup({ projection: fanOut });
    const change = fanChange;
    const transact = vi.spyOn(t.stateStore, 'transact');

    const out = await t.apply(1, [change(10, 0, 60), change(11, 60, 60), change(12, 0, 10)]);
    const alone = await t.apply(1, [change(13, 200, 100)]);

    expect(out).toMatchObject({ applied: 3, duplicates: 0, writes: 2, quarantined: false });
    expect(transact.mock.calls.map(([, , , o]) => o.derived.length)).toEqual([60, 70]);
    expect((await t.stateTwin.get(ORDER(0)))?.derived?.get('n')).toBe(2);
    expect((await t.stateTwin.get(ORDER(119)))?.derived?.get('n')).toBe(1);
    expect(alone).toMatchObject({ applied: 0, quarantined: true });
    expect((await t.parkedTwin.listAggregate(LINE(1)))[0]).toMatchObject({ reason: 'DERIVED_INVALID' });
    expect((await t.parkedTwin.listAggregate(LINE(1)))[0]?.message).toMatch(
      /100 aggregates, more than the 99/,
    );
  });

  it('writes the derived updates of the changes before a failing one with its attempt counted', async () => {
    const t = setup({ projection: withFaultInjection(orderLineTotals) });
    const failing = lineChange(1, 11, 7, 9);
    const poisoned = {
      ...failing,
      change: { ...failing.change, after: { ...failing.change.after, [FAULT_INJECTION_COLUMN]: 'x' } },
    };

    const out = await t.apply(1, [lineChange(1, 10, 7, 5, 'create'), poisoned]);

    expect(out).toMatchObject({ applied: 1, quarantined: false, failure: { sequenceNumber: '11' } });
    expect(await t.total(7)).toBe(5);
    expect(await t.stateTwin.get(LINE(1))).toMatchObject({ pendingFailure: { attempts: 1 } });
  });

  it('applies the derived updates of deferred changes when their table is resumed', async () => {
    const t = setup();
    t.deferral.on = true;
    await t.apply(1, [lineChange(1, 10, 7, 5, 'create'), lineChange(1, 11, 7, 6)]);
    expect(await t.total(7)).toBeUndefined();
    t.deferral.on = false;

    const out = await t.apply(1, [lineChange(1, 12, 7, 8)]);

    expect(out).toMatchObject({ applied: 3, unparked: 2 });
    expect(await t.total(7)).toBe(8);
    expect(await t.parkedTwin.listAggregate(LINE(1))).toEqual([]);
    expect((await t.stateTwin.get(LINE(1)))?.quarantine).toBeUndefined();
  });

  it('writes the derived updates of the deferred changes before one that fails on resume', async () => {
    const t = setup({ projection: withFaultInjection(orderLineTotals) });
    const failing = lineChange(1, 11, 7, 9);
    const poisoned = {
      ...failing,
      change: { ...failing.change, after: { ...failing.change.after, [FAULT_INJECTION_COLUMN]: 'x' } },
    };
    t.deferral.on = true;
    await t.apply(1, [lineChange(1, 10, 7, 5, 'create'), poisoned]);
    t.deferral.on = false;

    const out = await t.apply(1, [lineChange(1, 12, 7, 8)]);

    expect(out).toMatchObject({ applied: 1, quarantined: true });
    expect(await t.total(7)).toBe(5);
    expect((await t.parkedTwin.listAggregate(LINE(1))).map((p) => p.reason)).toEqual([
      'POISON',
      'QUARANTINED',
    ]);
  });

  it('resumes in several transactions when the deferred changes derive more than one holds', async () => {
    const t = setup({ projection: fanOut });
    t.deferral.on = true;
    await t.apply(1, [fanChange(10, 0, 60), fanChange(11, 60, 60)]);
    t.deferral.on = false;

    const out = await t.apply(1, [fanChange(12, 120, 10)]);

    expect(out).toMatchObject({ applied: 3, duplicates: 0, unparked: 2, quarantined: false });
    expect((await t.stateTwin.get(ORDER(0)))?.derived?.get('n')).toBe(1);
    expect((await t.stateTwin.get(ORDER(129)))?.derived?.get('n')).toBe(1);
    expect(await t.parkedTwin.listAggregate(LINE(1))).toEqual([]);
    expect((await t.stateTwin.get(LINE(1)))?.quarantine).toBeUndefined();
  });

  it('replays parked changes that derive more than one transaction holds in several, then lifts the quarantine', async () => {
    const t = setup({ projection: fanOut });
    t.deferral.on = true;
    await t.apply(1, [fanChange(10, 0, 60), fanChange(11, 60, 60)]);
    const replayer = new ParkedReplayer({
      stateStore: t.stateTwin,
      parkedStore: t.parkedTwin,
      projection: fanOut,
      now: t.now,
    });

    const outcome = await replayer.replayAggregate(LINE(1));

    expect(outcome).toMatchObject({ replayed: 2, skipped: 0, lifted: true, remaining: 0 });
    expect((await t.stateTwin.get(ORDER(0)))?.derived?.get('n')).toBe(1);
    expect((await t.stateTwin.get(ORDER(119)))?.derived?.get('n')).toBe(1);
    expect(await t.parkedTwin.listAggregate(LINE(1))).toEqual([]);
    expect((await t.stateTwin.get(LINE(1)))?.quarantine).toBeUndefined();
  });

  it('applies the derived updates of a parked change when it is replayed', async () => {
    const t = setup({ conflicts: 5 });
    await t.apply(1, [lineChange(1, 10, 7, 100, 'create')]);
    const replayer = new ParkedReplayer({
      stateStore: t.stateTwin,
      parkedStore: t.parkedTwin,
      projection: orderLineTotals,
      now: t.now,
    });

    const outcome = await replayer.replayAggregate(LINE(1));

    expect(outcome).toMatchObject({ replayed: 1, lifted: true });
    expect(await t.total(7)).toBe(100);
    expect(await t.stateTwin.get(LINE(1))).toMatchObject({ quarantine: undefined, state: { quantity: 100 } });
  });
});

describe('Aggregate locks', () => {
  it('holds the line and its order while applying, writes their fences, and releases them', async () => {
    const t = setup({ projection: lockedOrderLineTotals, locks: true });

    const out = await t.apply(1, [lineChange(1, 10, 7, 100, 'create')]);

    expect(out).toMatchObject({ applied: 1 });
    expect(t.waits).toEqual([{ aggregates: 2, waitedMs: 0, granted: true }]);
    const line = await t.stateTwin.get(LINE(1));
    const order = await t.stateTwin.get(ORDER(7));
    expect(line?.fence).toBeGreaterThanOrEqual(1);
    expect(order?.fence).toBeGreaterThanOrEqual(1);
    expect(order?.derived?.get('total')).toBe(100);
    // Released: they can be taken again at once.
    const again = await t.lockClient.tryAcquireAll([
      'aggregate:public.order_lines#1',
      'aggregate:public.orders#7',
    ]);
    expect(again?.map((l) => l.fence)).toEqual([line!.fence! + 1, order!.fence! + 1]);
  });

  it('fails the aggregate when the fold under the locks derives an aggregate it did not lock', async () => {
    let calls = 0;
    // A projection whose derived target changes from one fold to the next (it must follow from the change).
    const drifting: Projection = {
      ...lockedOrderLineTotals,
      apply: (previous, change) => ({
        ...orderLineTotals.apply(previous, change),
        derived: [{ aggregateId: ORDER(calls++), add: { total: 1 } }],
      }),
    };
    const t = setup({ projection: drifting, locks: true });

    const applying = t.apply(1, [lineChange(1, 10, 7, 100, 'create')]);

    await expect(applying).rejects.toThrow(
      /derives an update of public\.orders#1, which it did not lock .*; retrying later/,
    );
    expect(await t.stateTwin.get(LINE(1))).toBeUndefined();
  });

  it('fails the aggregate without writing when a later holder stored a higher fence', async () => {
    const t = setup({ projection: lockedOrderLineTotals, locks: true });
    // A later holder of the order's lock wrote with fence 1,000 while this one was stalled.
    await t.stateTwin.transact(
      LINE(99),
      { value: { table: 'public.order_lines', position: '1', deleted: false, state: {} } },
      { kind: 'newer' },
      {
        derived: [
          { aggregateId: ORDER(7), fields: new Map([['total', { kind: 'add', by: 5n }]]), fence: 1_000 },
        ],
      },
    );

    const applying = t.apply(1, [lineChange(1, 10, 7, 100, 'create')]);

    await expect(applying).rejects.toThrow(/lock on public\.orders#7 was taken over \(fence 1000 stored/);
    expect(await t.stateTwin.get(LINE(1))).toBeUndefined();
    expect(await t.total(7)).toBe(5);
  });

  it('gives up after the wait when another owner holds one of the locks, reporting the wait', async () => {
    const t = setup({ projection: lockedOrderLineTotals, locks: true });
    // Another task holds the order's lock through the same client (as a concurrent aggregate would).
    const held = await t.lockClient.tryAcquire('aggregate:public.orders#7', { leaseDurationMs: 10_000 });
    expect(held).toBeDefined();

    const applying = t.apply(1, [lineChange(1, 10, 7, 100, 'create')]);

    await expect(applying).rejects.toThrow(/was not granted within 0 ms/);
    expect(t.waits).toEqual([{ aggregates: 2, waitedMs: 0, granted: false }]);
    expect(await t.stateTwin.get(LINE(1))).toBeUndefined();
  });
});
