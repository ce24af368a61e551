import { describe, expect, it } from 'vitest';
import { backoffDelayMs, ManualClock, systemClock } from '../../../core/coordination/index.js';

describe('Class: ManualClock', () => {
  it('wakes sleepers in deadline order as time advances', async () => {
    const clock = new ManualClock({ startMs: 0 });
    const woke: string[] = [];
    void clock.sleep(300).then(() => woke.push(`b@${clock.now()}`));
    void clock.sleep(100).then(() => woke.push(`a@${clock.now()}`));

    await clock.advance(250);
    const early = [...woke];
    await clock.advance(100);

    expect(early).toEqual(['a@100']);
    expect(woke).toEqual(['a@100', 'b@300']);
    expect(clock.now()).toBe(350);
  });

  it('resolves a sleep with false when its signal aborts', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const slept = clock.sleep(1_000, controller.signal);

    controller.abort();

    expect(await slept).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it('moves the wall clock without moving the monotonic clock', () => {
    const clock = new ManualClock({ startMs: 5, wallStartMs: 1_000_000 });

    clock.shiftWall(-3_600_000);

    expect(clock.now()).toBe(5);
    expect(clock.wallNow()).toBe(1_000_000 - 3_600_000);
  });

  it('runUntil fails instead of hanging when nothing is scheduled', async () => {
    const clock = new ManualClock();

    await expect(clock.runUntil(new Promise(() => {}))).rejects.toThrow(/no sleep is scheduled/);
  });
});

describe('Object: systemClock', () => {
  it('returns false at once for an aborted signal', async () => {
    expect(await systemClock.sleep(10_000, AbortSignal.abort())).toBe(false);
  });
});

describe('Function: backoffDelayMs', () => {
  it('draws uniformly below an exponentially growing, capped ceiling', () => {
    const options = { baseMs: 10, maxMs: 100 };

    expect(backoffDelayMs(0, options, () => 0.999)).toBeCloseTo(9.99);
    expect(backoffDelayMs(3, options, () => 0.5)).toBe(40);
    expect(backoffDelayMs(20, options, () => 0.5)).toBe(50);
    expect(backoffDelayMs(5, options, () => 0)).toBe(0);
  });
});
