import { describe, expect, it } from 'vitest';
import { InMemoryCoordinationStore, LockClient, ManualClock } from '../../../core/coordination/index.js';
import {
  AggregateLocks,
  aggregateLockName,
  type LockWait,
} from '../../../core/processing/aggregate-locks.js';

function setup(waitMs = 1_000) {
  const clock = new ManualClock();
  const store = new InMemoryCoordinationStore();
  const client = (ownerId: string) =>
    new LockClient({
      store,
      clock,
      ownerId,
      leaseDurationMs: 10_000,
      autoHeartbeat: false,
      backoffBaseMs: 10,
      backoffMaxMs: 100,
    });
  const waits: LockWait[] = [];
  const locks = new AggregateLocks({
    locks: client('consumer-a'),
    waitMs,
    leaseDurationMs: 10_000,
    clock,
    onWait: (w) => waits.push(w),
  });
  return { clock, client, locks, waits };
}

describe('Class: AggregateLocks', () => {
  it('holds every aggregate once, gives each its fence, and releases them after', async () => {
    const t = setup();
    const seen: [string, number][] = [];

    const result = await t.clock.runUntil(
      t.locks.hold(['o#2', 'l#1', 'o#2'], async (fences) => {
        seen.push(...fences);
        return 'done';
      }),
    );
    const again = await t
      .client('consumer-b')
      .tryAcquireAll([aggregateLockName('l#1'), aggregateLockName('o#2')]);

    expect(result).toBe('done');
    expect(seen.sort()).toEqual([
      ['l#1', 1],
      ['o#2', 1],
    ]);
    expect(t.waits).toEqual([{ aggregates: 2, waitedMs: 0, granted: true }]);
    expect(again?.map((l) => l.fence)).toEqual([2, 2]);
  });

  it('releases the locks when the work fails', async () => {
    const t = setup();

    const failing = t.locks.hold(['o#1'], async () => {
      throw new Error('boom');
    });

    await expect(t.clock.runUntil(failing)).rejects.toThrow('boom');
    expect(await t.client('consumer-b').tryAcquire(aggregateLockName('o#1'))).toBeDefined();
  });

  it('waits for a held lock up to waitMs on its clock, then names it and reports the wait', async () => {
    const t = setup(500);
    await t.client('consumer-b').acquire(aggregateLockName('o#1'), { waitMs: 0 });

    const holding = t.locks.hold(['l#1', 'o#1'], async () => 'never');

    await expect(t.clock.runUntil(holding)).rejects.toThrow(
      /lock "aggregate:o#1" was not granted within 500 ms; it is held by "consumer-b"/,
    );
    expect(t.waits).toEqual([{ aggregates: 2, waitedMs: 500, granted: false }]);
  });

  it('names a long aggregate id by its digest, within the lock name limit', () => {
    const long = `public.t#${'k'.repeat(1_000)}`;

    expect(aggregateLockName('public.t#1')).toBe('aggregate:public.t#1');
    expect(aggregateLockName(long)).toMatch(/^aggregate-sha256:[0-9a-f]{64}$/);
    expect(aggregateLockName(long)).not.toBe(aggregateLockName(`${long}x`));
  });

  it('rejects a negative wait, naming the setting', () => {
    const t = setup();
    expect(
      () => new AggregateLocks({ locks: t.client('x'), waitMs: -1, leaseDurationMs: 1_000, clock: t.clock }),
    ).toThrow(/locks\.waitMs must be a finite number of milliseconds of at least 0; received -1/);
  });
});
