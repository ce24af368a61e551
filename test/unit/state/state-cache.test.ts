import { describe, expect, it } from 'vitest';
import { parseJsonExact, wasJsonNumber } from '../../../core/events/exact-json.js';
import type { AggregateItem } from '../../../core/state/index.js';
import { estimatedHeapBytes } from '../../../core/state/item-copy.js';
import { StateCache } from '../../../core/state/state-cache.js';

const item = (id: string, state: Record<string, unknown> = { id, text: 'x'.repeat(100) }): AggregateItem => ({
  aggregateId: id,
  table: 'public.orders',
  position: '0001',
  positions: new Map([['debezium:db1', '0001']]),
  writer: { source: 'debezium:db1', ts: 0, position: '0001' },
  fieldStamps: undefined,
  deleted: false,
  state,
  revision: 1,
  quarantine: undefined,
  lastParkedKey: undefined,
  pendingFailure: undefined,
  ttlEpochSeconds: undefined,
});

/** A reader of a fixed set of items that records each request's ids. */
function recordingReader(items: readonly AggregateItem[]) {
  const requests: string[][] = [];
  return {
    requests,
    getMany: async (ids: readonly string[]) => {
      requests.push([...ids]);
      return new Map(items.filter((i) => ids.includes(i.aggregateId)).map((i) => [i.aggregateId, i]));
    },
  };
}

describe('Class: StateCache', () => {
  describe('constructor', () => {
    it('refuses a bound that is not a whole number of bytes, naming the value received', () => {
      expect(() => new StateCache({ maxBytes: 0 })).toThrow(/maxBytes.*0/);
      expect(() => new StateCache({ maxBytes: 1.5 })).toThrow(/maxBytes.*1\.5/);
    });
  });

  describe('Method: remember and lookup', () => {
    it('serves what it was given, counting hits and misses', () => {
      // Prepare
      const cache = new StateCache({ maxBytes: 1_000_000 });
      cache.remember('a', item('a'), 'shard-1');

      // Act
      const hit = cache.lookup('a');
      const miss = cache.lookup('b');

      // Assert
      expect(hit).toEqual(item('a'));
      expect(miss).toBeUndefined();
      expect(cache.drainCounters()).toMatchObject({ hits: 1, misses: 1 });
      expect(cache.drainCounters()).toMatchObject({ hits: 0, misses: 0 });
    });

    it('hands out copies: changing what it handed out (or what it was given) changes nothing it holds', () => {
      // Prepare
      const cache = new StateCache({ maxBytes: 1_000_000 });
      const given = item(
        'a',
        parseJsonExact('{"n": 1, "big": 123456789012345678901234567890, "l": [1]}') as never,
      );
      cache.remember('a', given, undefined);
      (given.state as Record<string, unknown>).n = 2;

      // Act
      const first = cache.lookup('a')!;
      (first.state as { l: number[] }).l.push(2);
      const second = cache.lookup('a')!;

      // Assert
      expect(second.state).toEqual({ n: 1, big: '123456789012345678901234567890', l: [1] });
      expect(wasJsonNumber(second.state!, 'big')).toBe(true);
      expect(second.state).not.toBe(first.state);
    });

    it('hands out copies of the source marks and derived fields too, and counts them in the bound', () => {
      // Prepare
      const cache = new StateCache({ maxBytes: 1_000_000 });
      const stamp = { source: 'dms', ts: 5, position: 'tm:1' };
      const derived = new Map<string, bigint | string>([
        ['total', 5n],
        ['note', 'z'.repeat(1_000)],
      ]);
      const given: AggregateItem = {
        ...item('a', { v: 1 }),
        positions: new Map([
          ['dms', 'tm:1'],
          ['debezium:db1', 'pg:2'],
        ]),
        writer: stamp,
        fieldStamps: { fields: new Map([['v', stamp]]), deleted: undefined },
        derived,
        fence: 3,
      };
      cache.remember('a', given, undefined);
      derived.set('total', 6n);
      (given.positions as Map<string, string>).set('dms', 'tm:9');

      // Act
      const first = cache.lookup('a')!;
      (first.derived as Map<string, unknown>).set('total', 7n);
      (first.fieldStamps!.fields as Map<string, unknown>).delete('v');
      (first.writer as { ts: number }).ts = 99;
      const second = cache.lookup('a')!;

      // Assert
      expect(second.derived).toEqual(
        new Map<string, bigint | string>([
          ['total', 5n],
          ['note', 'z'.repeat(1_000)],
        ]),
      );
      expect(second.positions).toEqual(
        new Map([
          ['dms', 'tm:1'],
          ['debezium:db1', 'pg:2'],
        ]),
      );
      expect(second.writer).toEqual({ source: 'dms', ts: 5, position: 'tm:1' });
      expect(second.fieldStamps).toEqual({ fields: new Map([['v', stamp]]), deleted: undefined });
      expect(second.fence).toBe(3);
      expect(cache.bytes).toBeGreaterThan(2_000);
    });

    it('keeps a __proto__ column as the state own property, never as a prototype', () => {
      const cache = new StateCache({ maxBytes: 1_000_000 });
      cache.remember('a', item('a', JSON.parse('{"__proto__": {"x": 1}}') as never), undefined);

      const state = cache.lookup('a')!.state!;

      expect(Object.keys(state)).toEqual(['__proto__']);
      expect(Object.getPrototypeOf(state)).toBe(Object.prototype);
    });

    it('does not keep an item that holds something back, nor an absent one, and forgets what it had', () => {
      // Prepare
      const cache = new StateCache({ maxBytes: 1_000_000 });
      const quarantined: AggregateItem = {
        ...item('a'),
        quarantine: { reason: 'POISON', position: '2', sequenceNumber: '1', error: 'e', at: 't' },
      };
      const failing: AggregateItem = {
        ...item('b'),
        pendingFailure: { position: '2', sequenceNumber: '1', attempts: 1, error: 'e' },
      };
      cache.remember('a', item('a'), undefined);
      cache.remember('b', item('b'), undefined);
      cache.remember('c', item('c'), undefined);

      // Act
      cache.remember('a', quarantined, undefined);
      cache.remember('b', failing, undefined);
      cache.remember('c', undefined, undefined);

      // Assert
      expect(cache.size).toBe(0);
    });
  });

  describe('The byte bound', () => {
    it('never holds more than maxBytes, letting the least recently used go first', () => {
      // Prepare
      const entryBytes = estimatedHeapBytes(item('k000')) + 2 * 'k000'.length;
      const cache = new StateCache({ maxBytes: entryBytes * 10 });

      // Act
      for (let i = 0; i < 100; i++) {
        cache.remember(`k${String(i).padStart(3, '0')}`, item(`k${String(i).padStart(3, '0')}`), undefined);
        // k000 is used after every insert: it stays, the others go in insertion order.
        cache.lookup('k000');
        expect(cache.bytes).toBeLessThanOrEqual(cache.maxBytes);
      }

      // Assert
      expect(cache.size).toBe(10);
      expect(cache.lookup('k000')).toBeDefined();
      expect(cache.lookup('k099')).toBeDefined();
      // k000 and the 9 newest fit.
      expect(cache.lookup('k091')).toBeDefined();
      expect(cache.lookup('k090')).toBeUndefined();
      expect(cache.drainCounters().evictions).toBe(90);
    });

    it('counts bytes by the size of each item, so large states take more of the bound', () => {
      const cache = new StateCache({ maxBytes: 100_000 });

      cache.remember('small', item('small', { v: 1 }), undefined);
      const small = cache.bytes;
      cache.remember('large', item('large', { v: 'y'.repeat(20_000) }), undefined);

      expect(cache.bytes - small).toBeGreaterThan(40_000);
      expect(cache.bytes).toBeLessThanOrEqual(100_000);
    });

    it('does not keep an item larger than the bound', () => {
      const cache = new StateCache({ maxBytes: 1_000 });

      cache.remember('huge', item('huge', { v: 'z'.repeat(10_000) }), undefined);

      expect(cache.size).toBe(0);
      expect(cache.bytes).toBe(0);
    });

    it('starts empty under a new bound, and keeps its entries under the same one', () => {
      const cache = new StateCache({ maxBytes: 1_000_000 });
      cache.remember('a', item('a'), undefined);

      cache.resize(1_000_000);
      const kept = cache.size;
      cache.resize(2_000_000);

      expect(kept).toBe(1);
      expect(cache.size).toBe(0);
      expect(cache.maxBytes).toBe(2_000_000);
    });
  });

  describe('Method: dropShard', () => {
    it("forgets the shard's entries only", () => {
      const cache = new StateCache({ maxBytes: 1_000_000 });
      cache.remember('a', item('a'), 'shard-1');
      cache.remember('b', item('b'), 'shard-1');
      cache.remember('c', item('c'), 'shard-2');

      const dropped = cache.dropShard('shard-1');

      expect(dropped).toBe(2);
      expect(cache.lookup('a')).toBeUndefined();
      expect(cache.lookup('c')).toBeDefined();
    });

    it('takes an entry to the shard of its latest read or write', () => {
      const cache = new StateCache({ maxBytes: 1_000_000 });
      cache.remember('a', item('a'), 'shard-1');
      cache.remember('a', item('a'), 'shard-2');

      cache.dropShard('shard-1');

      expect(cache.lookup('a')).toBeDefined();
    });
  });

  describe('Method: warm', () => {
    it('reads the ids it does not hold, 100 per request, and keeps those found under the shard', async () => {
      // Prepare
      const cache = new StateCache({ maxBytes: 10_000_000 });
      const ids = Array.from({ length: 150 }, (_, i) => `k${i}`);
      const reader = recordingReader(ids.slice(0, 140).map((id) => item(id)));
      cache.remember('k0', item('k0'), 'other');

      // Act
      const read = await cache.warm('shard-9', [...ids, 'k1'], reader);

      // Assert
      expect(read).toBe(149);
      expect(reader.requests.map((r) => r.length)).toEqual([100, 49]);
      expect(cache.size).toBe(140);
      expect(cache.drainCounters()).toMatchObject({
        warmupReads: 149,
        warmupRequests: 2,
        hits: 0,
        misses: 0,
      });
      cache.dropShard('shard-9');
      expect(cache.size).toBe(1);
    });

    it('keeps what a batch left while the warm-up read was in flight', async () => {
      // Prepare
      const cache = new StateCache({ maxBytes: 1_000_000 });
      const newer = { ...item('a'), revision: 7 };
      const reader = {
        getMany: async () => {
          cache.remember('a', newer, 'shard-1');
          return new Map([['a', item('a')]]);
        },
      };

      // Act
      await cache.warm('shard-1', ['a'], reader);

      // Assert
      expect(cache.lookup('a')?.revision).toBe(7);
    });
  });
});
