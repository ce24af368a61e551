import { describe, expect, it } from 'vitest';
import { mapWithConcurrency } from '../../../core/processing/concurrency.js';

/** A task per item that ends only when the test says so, recording what is in flight. */
function gated<T>() {
  const running = new Set<T>();
  const started: T[] = [];
  const release = new Map<T, () => void>();
  const fn = (item: T) =>
    new Promise<T>((resolve) => {
      running.add(item);
      started.push(item);
      release.set(item, () => {
        running.delete(item);
        resolve(item);
      });
    });
  return { running, started, fn, end: (item: T) => release.get(item)!() };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Function: mapWithConcurrency', () => {
  it('keeps at most `limit` in flight and the results in input order', async () => {
    const tasks = gated<number>();
    const done = mapWithConcurrency([1, 2, 3, 4], 2, tasks.fn);
    await tick();
    expect([...tasks.running]).toEqual([1, 2]);

    tasks.end(2);
    await tick();
    expect([...tasks.running]).toEqual([1, 3]);
    tasks.end(3);
    tasks.end(1);
    await tick();
    tasks.end(4);

    expect(await done).toEqual([1, 2, 3, 4]);
  });

  it('keeps the total weight in flight within the budget, in input order', async () => {
    const tasks = gated<string>();
    const weight = (item: string) => Number(item.slice(1));
    const done = mapWithConcurrency(['a3', 'b3', 'c5', 'd1'], { limit: 10, budget: 6, weight }, tasks.fn);
    await tick();
    expect([...tasks.running]).toEqual(['a3', 'b3']);

    tasks.end('a3');
    await tick();
    // c5 does not fit beside b3, and d1 does not overtake it.
    expect(tasks.started).toEqual(['a3', 'b3']);

    tasks.end('b3');
    await tick();
    expect([...tasks.running]).toEqual(['c5', 'd1']);
    tasks.end('c5');
    tasks.end('d1');

    expect(await done).toEqual(['a3', 'b3', 'c5', 'd1']);
  });

  it('always lets one item in, however heavy', async () => {
    const out = await mapWithConcurrency(
      [10, 20],
      { limit: 4, budget: 5, weight: (n) => n },
      async (n) => n * 2,
    );

    expect(out).toEqual([20, 40]);
  });

  it('rejects with the first failure, also one thrown synchronously, and starts nothing more', async () => {
    const started: number[] = [];
    const done = mapWithConcurrency([1, 2, 3], 1, (n) => {
      started.push(n);
      if (n === 2) throw new Error('boom');
      return Promise.resolve(n);
    });

    await expect(done).rejects.toThrow('boom');
    expect(started).toEqual([1, 2]);
  });

  it('resolves at once for no items', async () => {
    expect(await mapWithConcurrency([], 4, async (n: number) => n)).toEqual([]);
  });
});
