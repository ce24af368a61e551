import { describe, expect, it, vi } from 'vitest';
import type { ChangeEvent } from '../../../core/events/change.js';
import { AggregateApplier, type AggregateOutcome } from '../../../core/processing/apply-aggregate.js';
import type { PendingChange } from '../../../core/processing/fold.js';
import {
  FAULT_INJECTION_COLUMN,
  mirrorProjection,
  withFaultInjection,
} from '../../../core/processing/projection.js';
import { type AggregateItem, changeKeys, StateStoreError } from '../../../core/state/index.js';
import { orderChange, pending } from '../../helpers/changes.js';
import { afterImagePayloads, loseNextWrites, stateTwins } from '../../helpers/state-twins.js';

const ID = 'public.orders#1';
const AT = '2026-01-01T00:00:00.000Z';

/** A change of aggregate 1 at LSN `lsn`, delivered as sequence number `lsn`. */
const change = (lsn: number, op: ChangeEvent['op'] = 'update') =>
  pending(orderChange(1, lsn, op), String(lsn));
/** A change whose row DynamoDB cannot store (an empty column name). */
const unstorable = (lsn: number) =>
  pending(orderChange(1, lsn, 'update', { id: 1, '': 'empty' }), String(lsn));
/** A change the projection refuses every time. */
const poison = (lsn: number) =>
  pending(orderChange(1, lsn, 'update', { id: 1, [FAULT_INJECTION_COLUMN]: 'boom' }), String(lsn));
const pos = (lsn: number) => orderChange(1, lsn).position;
/** The `poison` of an outcome that quarantined the aggregate at the poison change of LSN `lsn`. */
const poisonAt = (lsn: number) => ({
  sequenceNumber: String(lsn),
  txId: String(lsn),
  error: 'ProjectionError: injected fault: boom',
});
const skOf = (item: PendingChange) => changeKeys(item.change, afterImagePayloads.recordOf(item)).sk;
const value = (lsn: number) => ({
  table: 'public.orders',
  position: pos(lsn),
  deleted: false,
  state: { lsn },
});

function setup(
  options: {
    maxAttempts?: number;
    needsPreviousState?: boolean;
    deferrable?: boolean;
    transientAttempts?: number;
  } = {},
) {
  const twins = stateTwins();
  const deferral = { on: false };
  const projection = withFaultInjection({
    ...mirrorProjection,
    needsPreviousState: options.needsPreviousState ?? false,
  });
  const applier = new AggregateApplier({
    stateStore: twins.stateStore,
    parkedStore: twins.parkedStore,
    projection,
    maxAttempts: options.maxAttempts ?? 3,
    now: twins.now,
    clock: twins.clock,
    // One try unless told: most tests see what a failure does; the retries have tests of their own.
    transientAttempts: options.transientAttempts ?? 1,
    ...(options.deferrable === true
      ? { isDeferred: (table: string) => deferral.on && table === 'public.orders' }
      : {}),
  });
  return {
    ...twins,
    deferral,
    /** Applies `changes`; with `read`, as a caller that read the item (undefined: found none) would. */
    apply: (changes: readonly PendingChange[], ...read: [AggregateItem | undefined] | []) =>
      applier.apply(ID, changes, afterImagePayloads, read.length === 0 ? undefined : { item: read[0] }),
    /** The aggregate's parked changes as [reason, position, attempts]. */
    parked: async () =>
      (await twins.parkedTwin.listAggregate(ID)).map((p) => [p.reason, p.change?.position, p.attempts]),
    /** Makes the aggregate's next writes lose to another writer that touches the item first. */
    loseNextWrites: (times = 1) => loseNextWrites(twins, ID, times),
  };
}

const outcome = (partial: Partial<AggregateOutcome>): AggregateOutcome => ({
  applied: 0,
  duplicates: 0,
  parked: 0,
  unparked: 0,
  quarantined: false,
  writes: 0,
  failure: undefined,
  ...partial,
});

describe('Class: AggregateApplier', () => {
  describe('constructor', () => {
    it.each([0, 1.5, Number.NaN])('rejects maxAttempts %s, naming the value', (maxAttempts) => {
      const { stateStore, parkedStore } = stateTwins();

      expect(
        () => new AggregateApplier({ stateStore, parkedStore, projection: mirrorProjection, maxAttempts }),
      ).toThrow(`maxAttempts must be a whole number of at least 1; received ${String(maxAttempts)}`);
    });
  });

  describe('a projection that does not read the state: one blind write', () => {
    it('applies a new aggregate with one write and no read', async () => {
      const t = setup();
      const get = vi.spyOn(t.stateStore, 'get');

      const result = await t.apply([change(10, 'create'), change(20)]);

      expect(result).toEqual(outcome({ applied: 2, writes: 1 }));
      expect(get).not.toHaveBeenCalled();
      expect(await t.stateTwin.get(ID)).toMatchObject({ position: pos(20), state: { id: 1, status: 's20' } });
    });

    it('counts only the changes above the stored position as applied', async () => {
      const t = setup();
      await t.stateTwin.write(ID, { value: value(20) }, { kind: 'newer' });

      const result = await t.apply([change(10), change(20), change(30)]);

      expect(result).toEqual(outcome({ applied: 1, duplicates: 2, writes: 1 }));
      expect(await t.stateTwin.get(ID)).toMatchObject({ position: pos(30), revision: 2 });
    });

    it('takes a lost blind write as the item that won, and decides again on it', async () => {
      const t = setup();
      await t.stateTwin.write(ID, { value: value(30) }, { kind: 'newer' });

      const result = await t.apply([change(10), change(20)]);

      expect(result).toEqual(outcome({ duplicates: 2, writes: 1 }));
      expect(await t.stateTwin.get(ID)).toMatchObject({ position: pos(30), revision: 1 });
    });

    it('parks behind the quarantine a blind write ran into', async () => {
      const t = setup({ maxAttempts: 1 });
      await t.apply([change(10), poison(11)]);

      const result = await t.apply([change(12)]);

      expect(result).toEqual(outcome({ parked: 1, writes: 2 }));
      expect(await t.parked()).toEqual([
        ['POISON', pos(11), 1],
        ['QUARANTINED', pos(12), 0],
      ]);
      expect((await t.stateTwin.get(ID))?.lastParkedKey).toBe(skOf(change(12)));
    });

    it('reads the item when the fold fails, to count the attempt on it', async () => {
      const t = setup();
      const get = vi.spyOn(t.stateStore, 'get');

      const result = await t.apply([change(10), poison(11), change(12)]);

      expect(get).toHaveBeenCalledTimes(1);
      expect(result).toMatchObject({ applied: 1, writes: 1, failure: { sequenceNumber: '11' } });
      expect(result.failure?.error.message).toBe('injected fault: boom');
      expect(await t.stateTwin.get(ID)).toMatchObject({
        position: pos(10),
        pendingFailure: {
          position: pos(11),
          sequenceNumber: '11',
          attempts: 1,
          error: 'ProjectionError: injected fault: boom',
        },
      });
    });

    it('writes nothing for an empty batch', async () => {
      const t = setup();

      expect(await t.apply([])).toEqual(outcome({}));
      expect(t.stateTwin.size).toBe(0);
    });
  });

  describe('a projection that reads the state', () => {
    it('reads the item once when the caller did not', async () => {
      const t = setup({ needsPreviousState: true });
      await t.stateTwin.write(ID, { value: value(10) }, { kind: 'newer' });
      const get = vi.spyOn(t.stateStore, 'get');

      const result = await t.apply([change(10), change(11)]);

      expect(get).toHaveBeenCalledTimes(1);
      expect(result).toEqual(outcome({ applied: 1, duplicates: 1, writes: 1 }));
      expect(await t.stateTwin.get(ID)).toMatchObject({ position: pos(11), revision: 2 });
    });
    it('creates an aggregate the caller found absent, without reading it', async () => {
      const t = setup({ needsPreviousState: true });
      const get = vi.spyOn(t.stateStore, 'get');

      const result = await t.apply([change(10, 'create')], undefined);

      expect(get).not.toHaveBeenCalled();
      expect(result).toEqual(outcome({ applied: 1, writes: 1 }));
      expect(await t.stateTwin.get(ID)).toMatchObject({ position: pos(10), revision: 1 });
    });

    it('uses the item the caller read instead of reading it', async () => {
      const t = setup({ needsPreviousState: true });
      await t.stateTwin.write(ID, { value: value(10) }, { kind: 'newer' });
      const read = await t.stateTwin.get(ID);
      const get = vi.spyOn(t.stateStore, 'get');

      const result = await t.apply([change(11)], read);

      expect(get).not.toHaveBeenCalled();
      expect(result).toEqual(outcome({ applied: 1, writes: 1 }));
    });
  });

  describe('lost races', () => {
    it('decides again with the item that won, counting every write', async () => {
      const t = setup({ needsPreviousState: true });
      await t.stateTwin.write(ID, { value: value(10) }, { kind: 'newer' });
      const read = await t.stateTwin.get(ID);
      t.stateStore.inject({
        kind: 'interleave',
        operations: ['write'],
        before: async () => {
          await t.stateTwin.write(ID, { value: value(15) }, { kind: 'newer' });
        },
      });

      const result = await t.apply([change(12), change(20)], read);

      expect(result).toEqual(outcome({ applied: 1, duplicates: 1, writes: 2 }));
      expect(await t.stateTwin.get(ID)).toMatchObject({ position: pos(20), revision: 3 });
    });

    it('reads the item again when the winner is gone (its tombstone expired)', async () => {
      const t = setup({ needsPreviousState: true });
      await t.stateTwin.write(ID, { value: { ...value(10), deleted: true, state: null } }, { kind: 'newer' });
      const read = await t.stateTwin.get(ID);
      t.stateStore.inject({
        kind: 'interleave',
        operations: ['write'],
        before: async () => {
          t.stateTwin.expire(read!.ttlEpochSeconds!);
        },
      });

      const result = await t.apply([change(20, 'create')], read);

      expect(result).toEqual(outcome({ applied: 1, writes: 2 }));
      expect(await t.stateTwin.get(ID)).toMatchObject({ position: pos(20), revision: 1, deleted: false });
    });

    it('gives up after eight lost races in a row, for the batch to be retried', async () => {
      const t = setup({ needsPreviousState: true });
      await t.stateTwin.write(ID, { value: value(10) }, { kind: 'newer' });
      t.loseNextWrites(8);

      await expect(t.apply([change(20)])).rejects.toThrow(
        `aggregate ${ID}: lost 8 write races in a row; retrying later`,
      );
      expect(await t.stateTwin.get(ID)).toMatchObject({ position: pos(10), revision: 9 });
    });
  });

  describe('attempts and quarantine (docs/architecture.md contract 5)', () => {
    it('counts the attempts of the failing change on the item, then parks it and quarantines', async () => {
      const t = setup({ maxAttempts: 3 });
      const batch = [change(10), poison(11), change(12)];

      const first = await t.apply(batch);
      const second = await t.apply(batch.slice(1));
      const third = await t.apply(batch.slice(1));

      expect(first).toMatchObject({ applied: 1, failure: { sequenceNumber: '11' } });
      expect(second).toMatchObject({ applied: 0, duplicates: 0, failure: { sequenceNumber: '11' } });
      expect(third).toEqual(outcome({ parked: 2, quarantined: true, poison: poisonAt(11), writes: 1 }));
      expect(await t.parked()).toEqual([
        ['POISON', pos(11), 3],
        ['QUARANTINED', pos(12), 0],
      ]);
      expect(await t.stateTwin.get(ID)).toMatchObject({
        position: pos(10),
        pendingFailure: undefined,
        quarantine: {
          reason: 'POISON',
          position: pos(11),
          sequenceNumber: '11',
          error: 'ProjectionError: injected fault: boom',
          at: AT,
        },
        lastParkedKey: skOf(change(12)),
      });
    });

    it('starts counting again when another change fails', async () => {
      const t = setup({ maxAttempts: 2 });
      await t.apply([poison(11)]);

      const other = await t.apply([change(11), poison(12)]);

      expect(other).toMatchObject({ applied: 1, failure: { sequenceNumber: '12' } });
      expect((await t.stateTwin.get(ID))?.pendingFailure).toMatchObject({ position: pos(12), attempts: 1 });
    });

    it('writes the changes before the poison and parks only the new changes after it', async () => {
      const t = setup({ maxAttempts: 1 });
      await t.stateTwin.write(ID, { value: value(20) }, { kind: 'newer' });

      const result = await t.apply([change(25), poison(30), change(15), change(35)]);

      expect(result).toEqual(
        outcome({ applied: 1, duplicates: 1, parked: 2, quarantined: true, poison: poisonAt(30), writes: 1 }),
      );
      expect(await t.parked()).toEqual([
        ['POISON', pos(30), 1],
        ['QUARANTINED', pos(35), 0],
      ]);
      expect(await t.stateTwin.get(ID)).toMatchObject({
        position: pos(25),
        quarantine: { position: pos(30) },
      });
    });

    it('quarantines an aggregate whose first change fails, with no position', async () => {
      const t = setup({ maxAttempts: 2 });

      await t.apply([poison(10)]);
      const result = await t.apply([poison(10)]);

      expect(result).toMatchObject({ parked: 1, quarantined: true });
      expect(await t.stateTwin.get(ID)).toMatchObject({
        position: undefined,
        state: null,
        quarantine: { position: pos(10) },
      });
    });

    it('parks again, idempotently, when the quarantining write loses a race', async () => {
      const t = setup({ maxAttempts: 1 });
      await t.apply([change(10)]);
      t.loseNextWrites();

      const result = await t.apply([poison(11), change(12)]);

      expect(result).toMatchObject({ parked: 2, quarantined: true, writes: 2 });
      expect(await t.parked()).toEqual([
        ['POISON', pos(11), 1],
        ['QUARANTINED', pos(12), 0],
      ]);
    });

    it('folds the first change of an aggregate onto no state, also after it failed once', async () => {
      const twins = stateTwins();
      const seen: unknown[] = [];
      let failures = 1;
      const applier = new AggregateApplier({
        stateStore: twins.stateStore,
        parkedStore: twins.parkedStore,
        projection: {
          name: 'records-previous',
          needsPreviousState: true,
          apply: (previous, c) => {
            seen.push(previous);
            if (failures-- > 0) throw new Error('transient');
            return mirrorProjection.apply(previous, c);
          },
        },
        maxAttempts: 3,
      });

      const first = await applier.apply(ID, [change(10, 'create')], afterImagePayloads);
      const second = await applier.apply(ID, [change(10, 'create')], afterImagePayloads);

      expect(first.failure?.error.message).toBe('transient');
      expect(second).toMatchObject({ applied: 1, failure: undefined });
      expect(seen).toEqual([undefined, undefined]);
    });

    it('counts the attempt again when its write loses a race', async () => {
      const t = setup({ maxAttempts: 3 });
      await t.apply([change(10)]);
      t.loseNextWrites();

      const result = await t.apply([poison(11)]);

      expect(result).toMatchObject({ writes: 2, failure: { sequenceNumber: '11' } });
      expect((await t.stateTwin.get(ID))?.pendingFailure?.attempts).toBe(1);
    });

    it('leaves the state untouched when parking fails, so the redelivery parks it', async () => {
      const t = setup({ maxAttempts: 1 });
      t.parkedStore.inject({ kind: 'throttle', operations: ['put'] });

      await expect(t.apply([change(10), poison(11)])).rejects.toBeInstanceOf(StateStoreError);
      expect((await t.stateTwin.get(ID))?.quarantine).toBeUndefined();
      expect(await t.apply([poison(11)])).toMatchObject({ parked: 1, quarantined: true });
    });
  });

  describe('what DynamoDB refuses for good (docs/architecture.md contract 6)', () => {
    it.each([false, true])(
      'parks a change whose state is unstorable at once, without counting attempts (reads the state: %s)',
      async (needsPreviousState) => {
        const t = setup({ needsPreviousState });

        const result = await t.apply([change(10), unstorable(11), change(12)]);

        expect(result).toMatchObject({ applied: 1, parked: 2, quarantined: true, failure: undefined });
        expect(await t.parked()).toEqual([
          ['UNSTORABLE', pos(11), 1],
          ['QUARANTINED', pos(12), 0],
        ]);
        const [parked] = await t.parkedTwin.listAggregate(ID);
        expect(parked?.message).toBe(
          'UnstorableError: state[""] has an empty name; DynamoDB refuses empty attribute names',
        );
        expect(await t.stateTwin.get(ID)).toMatchObject({
          position: pos(10),
          quarantine: { reason: 'POISON', position: pos(11) },
          pendingFailure: undefined,
        });
      },
    );

    it('blames the last change applied when DynamoDB refuses a write the check let through', async () => {
      const t = setup({ needsPreviousState: true });
      t.stateStore.inject({ kind: 'refuse', operations: ['write'] });

      const result = await t.apply([change(10), change(11), change(12)]);

      expect(result).toMatchObject({ applied: 2, parked: 1, quarantined: true, writes: 1 });
      expect(await t.parked()).toEqual([['UNSTORABLE', pos(12), 1]]);
      expect(await t.stateTwin.get(ID)).toMatchObject({
        position: pos(11),
        quarantine: { position: pos(12) },
      });
    });

    it('goes on blaming earlier changes while DynamoDB refuses the writes before them', async () => {
      const t = setup();
      // The blind write, then the write of all three, then of the first two: refused.
      t.stateStore.inject({ kind: 'refuse', operations: ['write'], times: 3 });

      const result = await t.apply([change(10), change(11), change(12)]);

      expect(result).toMatchObject({ applied: 1, parked: 2, quarantined: true });
      expect(await t.parked()).toEqual([
        ['UNSTORABLE', pos(11), 1],
        ['QUARANTINED', pos(12), 0],
      ]);
      expect((await t.stateTwin.get(ID))?.position).toBe(pos(10));
    });
  });

  describe('transient store failures', () => {
    it('tries again from a fresh read with backoff on the clock, then applies', async () => {
      const t = setup({ transientAttempts: 3 });
      t.stateStore.inject({ kind: 'throttle', operations: ['write'], times: 2 });
      const started = t.clock.now();

      const result = await t.clock.runUntil(t.apply([change(10)]));

      expect(result).toMatchObject({ applied: 1, writes: 1 });
      expect(t.stateStore.injected).toHaveLength(2);
      // Full jitter below 50 ms, then below 100 ms.
      expect(t.clock.now() - started).toBeLessThan(150);
      expect((await t.stateTwin.get(ID))?.position).toBe(pos(10));
    });

    it('gives up after its tries, leaving the failure to redelivery', async () => {
      const t = setup({ transientAttempts: 2 });
      t.stateStore.inject({ kind: 'timeout', operations: ['write'], times: 2 });

      await expect(t.clock.runUntil(t.apply([change(10)]))).rejects.toThrow(StateStoreError);
      expect(await t.stateTwin.get(ID)).toBeUndefined();
    });

    it('never tries again what DynamoDB refused for good', async () => {
      const t = setup({ transientAttempts: 3, needsPreviousState: true });
      t.stateStore.inject({ kind: 'refuse', operations: ['write'] });

      const result = await t.apply([change(10)]);

      expect(result).toMatchObject({ applied: 0, parked: 1, quarantined: true, writes: 1 });
      expect(t.stateStore.injected).toEqual([{ operation: 'write', kind: 'refuse' }]);
    });
  });

  describe('held back behind a quarantine', () => {
    it('parks later changes in order behind a poison quarantine; duplicates are not parked', async () => {
      const t = setup({ maxAttempts: 1 });
      await t.apply([change(20), poison(25)]);

      const result = await t.apply([change(15), change(30), change(31)]);

      expect(result).toEqual(outcome({ duplicates: 1, parked: 2, writes: 2 }));
      expect(await t.parked()).toEqual([
        ['POISON', pos(25), 1],
        ['QUARANTINED', pos(30), 0],
        ['QUARANTINED', pos(31), 0],
      ]);
      expect((await t.stateTwin.get(ID))?.lastParkedKey).toBe(skOf(change(31)));
    });

    it('keeps the item of a redelivered change already parked, and writes nothing', async () => {
      const t = setup({ maxAttempts: 1, needsPreviousState: true });
      await t.apply([change(20), poison(25), change(26)]);
      const before = await t.stateTwin.get(ID);

      const result = await t.apply([poison(25), change(26)]);

      expect(result).toEqual(outcome({}));
      expect(await t.parked()).toEqual([
        ['POISON', pos(25), 1],
        ['QUARANTINED', pos(26), 0],
      ]);
      expect(await t.stateTwin.get(ID)).toEqual(before);
    });

    it('takes a quarantine without a reason (written before deferral existed) as poison', async () => {
      const t = setup({ deferrable: true, needsPreviousState: true });
      const { reason: _, ...legacy } = {
        reason: 'POISON',
        position: pos(5),
        sequenceNumber: '5',
        error: 'e',
        at: AT,
      };
      await t.stateTwin.write(ID, { quarantine: legacy }, { kind: 'revision', expected: undefined });
      t.deferral.on = false;

      const result = await t.apply([change(6)]);

      expect(result).toMatchObject({ parked: 1 });
      expect(await t.parked()).toEqual([['QUARANTINED', pos(6), 0]]);
    });

    it('parks behind a poison quarantine even while its table is deferred', async () => {
      const t = setup({ maxAttempts: 1, deferrable: true });
      await t.apply([poison(5)]);
      t.deferral.on = true;

      await t.apply([change(6)]);

      const [, behind] = await t.parkedTwin.listAggregate(ID);
      expect(behind).toMatchObject({
        reason: 'QUARANTINED',
        message: `parked behind the quarantine of ${ID}`,
      });
      expect((await t.stateTwin.get(ID))?.quarantine?.reason).toBe('POISON');
    });

    it('parks again, idempotently, when its write loses a race', async () => {
      const t = setup({ maxAttempts: 1 });
      await t.apply([poison(5)]);
      const read = await t.stateTwin.get(ID);
      t.loseNextWrites();

      const result = await t.apply([change(6)], read);

      expect(result).toMatchObject({ parked: 1, writes: 2 });
      expect(await t.parked()).toEqual([
        ['POISON', pos(5), 1],
        ['QUARANTINED', pos(6), 0],
      ]);
    });
  });

  describe('deferral (a paused or shed table)', () => {
    it('starts a deferral at the first new change and parks the changes in order', async () => {
      const t = setup({ deferrable: true });
      await t.apply([change(10)]);
      t.deferral.on = true;

      const result = await t.apply([change(10), change(11), change(12)]);

      expect(result).toEqual(outcome({ duplicates: 1, parked: 2, deferred: 2, writes: 1 }));
      expect(await t.parked()).toEqual([
        ['DEFERRED', pos(11), 0],
        ['DEFERRED', pos(12), 0],
      ]);
      expect(await t.stateTwin.get(ID)).toMatchObject({
        position: pos(10),
        quarantine: {
          reason: 'DEFERRED',
          position: pos(11),
          sequenceNumber: '11',
          error: 'deferred while table public.orders is paused or shed',
          at: AT,
        },
        lastParkedKey: skOf(change(12)),
      });
    });

    it('keeps deferring later changes behind the deferral it started', async () => {
      const t = setup({ deferrable: true });
      t.deferral.on = true;
      await t.apply([change(11)]);

      const result = await t.apply([change(12)]);

      expect(result).toEqual(outcome({ parked: 1, deferred: 1, writes: 1 }));
      expect((await t.stateTwin.get(ID))?.quarantine?.position).toBe(pos(11));
      expect((await t.parked()).map(([reason]) => reason)).toEqual(['DEFERRED', 'DEFERRED']);
    });

    it('writes nothing for a deferred batch of duplicates', async () => {
      const t = setup({ deferrable: true });
      await t.apply([change(20)]);
      t.deferral.on = true;

      const result = await t.apply([change(10)]);

      expect(result).toEqual(outcome({ duplicates: 1 }));
      expect((await t.stateTwin.get(ID))?.quarantine).toBeUndefined();
    });

    it('resumes inline: the deferred changes first, then the batch, in one write that lifts the deferral', async () => {
      const t = setup({ deferrable: true });
      await t.apply([change(10)]);
      t.deferral.on = true;
      await t.apply([change(11), change(12)]);
      t.deferral.on = false;

      const result = await t.apply([change(13)]);

      // A projection that does not read the state learns of the deferral from its blind write: two writes.
      // The two deferred changes leave the parked store: counted as applied, and as unparked.
      expect(result).toEqual(outcome({ applied: 3, unparked: 2, writes: 2 }));
      expect(await t.parked()).toEqual([]);
      expect(await t.stateTwin.get(ID)).toMatchObject({
        position: pos(13),
        state: { status: 's13' },
        quarantine: undefined,
      });
    });

    it('resumes an aggregate deferred before any change applied', async () => {
      const t = setup({ deferrable: true });
      t.deferral.on = true;
      await t.apply([change(11, 'create')]);
      t.deferral.on = false;

      const result = await t.apply([change(11, 'create'), change(12)]);

      expect(result).toEqual(outcome({ applied: 2, duplicates: 1, unparked: 1, writes: 2 }));
      expect(await t.stateTwin.get(ID)).toMatchObject({ position: pos(12), quarantine: undefined });
    });

    it('lifts a deferral that has nothing parked behind it on the revision alone', async () => {
      const t = setup({ deferrable: true });
      const deferral = {
        reason: 'DEFERRED' as const,
        position: pos(5),
        sequenceNumber: '5',
        error: 'e',
        at: AT,
      };
      await t.stateTwin.write(ID, { quarantine: deferral }, { kind: 'revision', expected: undefined });

      const result = await t.apply([change(6)], await t.stateTwin.get(ID));

      expect(result).toEqual(outcome({ applied: 1, writes: 1 }));
      expect((await t.stateTwin.get(ID))?.quarantine).toBeUndefined();
    });

    it('folds a change parked while it resumed too, when that made its lift lose', async () => {
      const t = setup({ deferrable: true });
      t.deferral.on = true;
      await t.apply([change(11)]);
      t.deferral.on = false;
      // Another writer parks change 12 behind the deferral between this resume's read and its lift.
      const parkedMeanwhile = change(12);
      t.stateStore.inject({
        kind: 'interleave',
        operations: ['write'],
        before: async () => {
          t.deferral.on = true;
          const other = new AggregateApplier({
            stateStore: t.stateTwin,
            parkedStore: t.parkedTwin,
            projection: mirrorProjection,
            maxAttempts: 3,
            isDeferred: () => true,
          });
          await other.apply(ID, [parkedMeanwhile], afterImagePayloads);
          t.deferral.on = false;
        },
      });

      const result = await t.apply([change(13)], await t.stateTwin.get(ID));

      expect(result).toEqual(outcome({ applied: 3, unparked: 2, writes: 2 }));
      expect(await t.parked()).toEqual([]);
      expect(await t.stateTwin.get(ID)).toMatchObject({ position: pos(13), quarantine: undefined });
    });

    it('turns a deferred change that fails on resume into the poison, with what follows behind it', async () => {
      const t = setup({ deferrable: true });
      t.deferral.on = true;
      await t.apply([change(11), poison(12), change(13)]);
      t.deferral.on = false;

      const result = await t.apply([change(14)], await t.stateTwin.get(ID));

      // 12 and 13 were parked (and counted) when deferred: relabelled now, not parked again.
      expect(result).toEqual(
        outcome({ applied: 1, parked: 1, unparked: 1, quarantined: true, poison: poisonAt(12), writes: 1 }),
      );
      expect(await t.parked()).toEqual([
        ['POISON', pos(12), 1],
        ['QUARANTINED', pos(13), 0],
        ['QUARANTINED', pos(14), 0],
      ]);
      expect((await t.parkedTwin.listAggregate(ID))[0]?.message).toBe(
        'ProjectionError: injected fault: boom',
      );
      expect(await t.stateTwin.get(ID)).toMatchObject({
        position: pos(11),
        quarantine: { reason: 'POISON', position: pos(12), at: AT },
        lastParkedKey: skOf(change(14)),
      });
    });

    it('keeps the state as it was when the first deferred change fails on resume', async () => {
      const t = setup({ deferrable: true });
      await t.apply([change(10)]);
      t.deferral.on = true;
      await t.apply([poison(11), change(12)]);
      t.deferral.on = false;

      const result = await t.apply([change(9), change(13)], await t.stateTwin.get(ID));

      expect(result).toEqual(
        outcome({ parked: 1, duplicates: 1, quarantined: true, poison: poisonAt(11), writes: 1 }),
      );
      expect(await t.parked()).toEqual([
        ['POISON', pos(11), 1],
        ['QUARANTINED', pos(12), 0],
        ['QUARANTINED', pos(13), 0],
      ]);
      expect(await t.stateTwin.get(ID)).toMatchObject({
        position: pos(10),
        quarantine: { position: pos(11) },
      });
    });

    it("parks a batch change that fails on resume as the poison, leaving out the batch's duplicates", async () => {
      const t = setup({ deferrable: true });
      t.deferral.on = true;
      await t.apply([change(11)]);
      t.deferral.on = false;

      const result = await t.apply([poison(12), change(13), change(5)]);

      // The batch's change 5, which the state covers, is a duplicate (it used to be counted nowhere).
      expect(result).toEqual(
        outcome({
          applied: 1,
          parked: 2,
          unparked: 1,
          duplicates: 1,
          quarantined: true,
          poison: poisonAt(12),
          writes: 1,
        }),
      );
      expect(await t.parked()).toEqual([
        ['POISON', pos(12), 1],
        ['QUARANTINED', pos(13), 0],
      ]);
    });

    it('tries a failing resume again when its write loses a race', async () => {
      const t = setup({ deferrable: true });
      t.deferral.on = true;
      await t.apply([change(11)]);
      t.deferral.on = false;
      const read = await t.stateTwin.get(ID);
      t.loseNextWrites();

      const result = await t.apply([poison(12)], read);

      expect(result).toMatchObject({ applied: 1, parked: 1, quarantined: true, writes: 2 });
      expect(await t.parked()).toEqual([['POISON', pos(12), 1]]);
    });

    it('parks a redelivered deferred change that fails on resume once, as the poison', async () => {
      const t = setup({ deferrable: true });
      t.deferral.on = true;
      await t.apply([change(11), poison(12), change(13)]);
      t.deferral.on = false;

      const result = await t.apply([poison(12), change(14)], await t.stateTwin.get(ID));

      expect(result).toEqual(
        outcome({
          applied: 1,
          parked: 1,
          unparked: 1,
          duplicates: 1,
          quarantined: true,
          poison: poisonAt(12),
          writes: 1,
        }),
      );
      expect(await t.parked()).toEqual([
        ['POISON', pos(12), 1],
        ['QUARANTINED', pos(13), 0],
        ['QUARANTINED', pos(14), 0],
      ]);
    });
  });

  describe('parked items', () => {
    it("carry the payload source's record, keys in source order, and the clock's time", async () => {
      const t = setup({ maxAttempts: 1 });
      const failing = poison(11);
      await t.clock.advance(1_500);

      await t.apply([failing]);

      const [item] = await t.parkedTwin.listAggregate(ID);
      expect(item).toEqual({
        ...changeKeys(failing.change, afterImagePayloads.recordOf(failing)),
        reason: 'POISON',
        message: 'ProjectionError: injected fault: boom',
        aggregateId: ID,
        change: failing.change,
        record: afterImagePayloads.recordOf(failing),
        attempts: 1,
        parkedAt: '2026-01-01T00:00:01.500Z',
      });
    });
  });
});
