import { describe, expect, it } from 'vitest';
import { OptionsError } from '../../../core/errors.js';
import { HeavyHitters, hashKeyOf } from '../../../core/scaling/index.js';

/** A Zipf-like stream: key i appears ⌊1000 / (i + 1)⌋ times, interleaved. */
function zipf(keys: number): string[] {
  const out: string[] = [];
  const counts = Array.from({ length: keys }, (_, i) => Math.floor(1000 / (i + 1)));
  for (let round = 0; round < 1000; round++)
    for (let i = 0; i < keys; i++) if (counts[i]! > round) out.push(`k${i}`);
  return out;
}

describe('Class: HeavyHitters', () => {
  describe('Method: offer / top', () => {
    it('counts exactly while fewer keys than counters have been seen', () => {
      const sketch = new HeavyHitters({ capacity: 8 });

      for (const key of ['a', 'b', 'a', 'c', 'a', 'b']) sketch.offer(key);

      expect(sketch.top(2)).toEqual([
        { key: 'a', count: 3, error: 0, hashKey: hashKeyOf('a') },
        { key: 'b', count: 2, error: 0, hashKey: hashKeyOf('b') },
      ]);
      expect(sketch.total).toBe(6);
    });

    it('keeps every key heavier than total ÷ capacity, each within the error bound', () => {
      const stream = zipf(500);
      const truth = new Map<string, number>();
      for (const k of stream) truth.set(k, (truth.get(k) ?? 0) + 1);
      const sketch = new HeavyHitters({ capacity: 50 });

      for (const k of stream) sketch.offer(k);

      const bound = sketch.maxError;
      const monitored = new Map(sketch.top().map((h) => [h.key, h]));
      for (const [key, count] of truth) {
        if (count > bound) expect(monitored.has(key)).toBe(true);
        const h = monitored.get(key);
        if (h !== undefined) {
          expect(h.count).toBeGreaterThanOrEqual(count);
          expect(h.count - h.error).toBeLessThanOrEqual(count);
          expect(h.count - count).toBeLessThanOrEqual(bound);
        }
      }
      expect(sketch.top(1)[0]!.key).toBe('k0');
    });

    it('weighs offers (records or bytes) and ignores empty ones', () => {
      const sketch = new HeavyHitters({ capacity: 2 });

      sketch.offer('a', 500);
      sketch.offer('b', 0);
      sketch.offer('c', 1);
      sketch.offer('d', 1);

      expect(sketch.top(1)).toEqual([expect.objectContaining({ key: 'a', count: 500 })]);
      expect(sketch.total).toBe(502);
      expect(sketch.certainAbove(100).map((h) => h.key)).toEqual(['a']);
    });
  });

  describe('Method: merge', () => {
    it('adds another sketch, and a heartbeat list, keeping the heavy keys of the combined stream', () => {
      const a = new HeavyHitters({ capacity: 4 });
      const b = new HeavyHitters({ capacity: 4 });
      for (let i = 0; i < 100; i++) a.offer('hot');
      for (let i = 0; i < 60; i++) b.offer('hot');
      for (let i = 0; i < 30; i++) b.offer(`cold-${i}`);

      a.merge(b);
      a.merge([{ key: 'hot', count: 40 }]);

      expect(a.top(1)[0]).toMatchObject({ key: 'hot' });
      expect(a.top(1)[0]!.count).toBeGreaterThanOrEqual(200);
      expect(a.total).toBe(230);
      expect(a.top().length).toBeLessThanOrEqual(4);
    });
  });

  describe('Method: drain', () => {
    it('returns the top keys as a heartbeat carries them and starts afresh', () => {
      const sketch = new HeavyHitters();
      sketch.offer('x', 3);
      sketch.offer('y', 1);

      expect(sketch.drain(1)).toEqual([{ key: 'x', count: 3 }]);
      expect([sketch.total, sketch.top()]).toEqual([0, []]);
    });
  });

  it('rejects a capacity that is not a whole number from 1 to 100,000', () => {
    expect(() => new HeavyHitters({ capacity: 0 })).toThrow(OptionsError);
    expect(() => new HeavyHitters({ capacity: 2.5 })).toThrow(
      'capacity must be a whole number from 1 to 100,000; received 2.5',
    );
  });
});
