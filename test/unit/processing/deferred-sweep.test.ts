import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../core/config/schema.js';
import { DeferredSweep } from '../../../core/processing/deferred-sweep.js';
import type { ReplayOutcome } from '../../../core/processing/replay.js';

const outcome = (target: string, replayed: number, remaining = 0, error?: string): ReplayOutcome => ({
  target,
  replayed,
  skipped: 0,
  remaining,
  lifted: remaining === 0 && error === undefined,
  error,
});

/** A replayer's sweep that records the deferral it was asked to judge by and returns what it is told to. */
function replayer(results: ReplayOutcome[][]) {
  const judged: boolean[] = [];
  return {
    judged,
    calls: () => judged.length,
    replayDeferred: async (isDeferred: (table: string) => boolean) => {
      judged.push(isDeferred('public.orders'));
      return results.shift() ?? [];
    },
  };
}

describe('Class: DeferredSweep', () => {
  const paused = parseConfig({ version: '2', tables: { 'public.orders': { paused: true } } });
  const resumed = parseConfig({ version: '3', tables: { 'public.orders': { paused: false } } });

  it('sweeps at the first call and again only when the config version changes', async () => {
    const r = replayer([[], [outcome('public.orders#1', 3), outcome('public.orders#2', 1)]]);
    const sweep = new DeferredSweep(r);

    expect(await sweep.sweepIfDue(paused)).toMatchObject({ version: '2', aggregates: 0 });
    expect(await sweep.sweepIfDue(paused)).toBeUndefined();
    expect(await sweep.sweepIfDue(resumed)).toEqual({
      version: '3',
      aggregates: 2,
      replayed: 4,
      remaining: 0,
      errors: [],
    });
    expect(await sweep.sweepIfDue(resumed)).toBeUndefined();
    // Judged by the version it was given: orders deferred under 2, not under 3.
    expect(r.judged).toEqual([true, false]);
  });

  it('sweeps the same version again while the last sweep left changes behind or failed', async () => {
    const r = replayer([
      [outcome('public.orders#1', 1, 2)],
      [outcome('public.orders#1', 0, 0, 'throttled')],
      [outcome('public.orders#1', 2)],
    ]);
    const sweep = new DeferredSweep(r);

    expect(await sweep.sweepIfDue(resumed)).toMatchObject({ remaining: 2, errors: [] });
    expect(await sweep.sweepIfDue(resumed)).toMatchObject({ errors: ['public.orders#1: throttled'] });
    expect(await sweep.sweepIfDue(resumed)).toMatchObject({ replayed: 2, remaining: 0 });
    expect(await sweep.sweepIfDue(resumed)).toBeUndefined();
    expect(r.calls()).toBe(3);
  });

  it('runs one sweep at a time: a call made during a sweep waits for it and finds nothing left to do', async () => {
    let release!: () => void;
    let running = 0;
    let most = 0;
    const sweep = new DeferredSweep({
      replayDeferred: async () => {
        running++;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        running--;
        return [outcome('public.orders#1', 1)];
      },
    });
    const first = sweep.sweepIfDue(resumed);
    const second = sweep.sweepIfDue(resumed);
    await Promise.resolve();
    release();
    expect(await first).toMatchObject({ replayed: 1 });
    expect(await second).toBeUndefined();
    expect(most).toBe(1);
  });

  it('a sweep that throws is reported to its caller and the next call sweeps again', async () => {
    let fail = true;
    const sweep = new DeferredSweep({
      replayDeferred: async () => {
        if (fail) throw new Error('parked store unreachable');
        return [];
      },
    });
    await expect(sweep.sweepIfDue(resumed)).rejects.toThrow('parked store unreachable');
    fail = false;
    expect(await sweep.sweepIfDue(resumed)).toMatchObject({ version: '3', aggregates: 0 });
  });
});
