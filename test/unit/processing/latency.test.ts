import { describe, expect, it } from 'vitest';
import type { PendingChange } from '../../../core/processing/fold.js';
import { BatchLatencies, LatencyRecorder, LatencySketch } from '../../../core/processing/latency.js';
import { orderChange } from '../../helpers/changes.js';

/** A pending change of `table` committed at `ts` that arrived in the stream at `arrival`. */
function pending(table: string, ts: number | null, arrival: number): PendingChange {
  const change = { ...orderChange(1, 10), table, ts };
  return {
    change,
    origin: {
      shardId: 'shardId-000000000000',
      sequenceNumber: '1',
      subSequenceNumber: 0,
      partitionKey: change.aggregateId,
      approximateArrivalTimestamp: arrival,
    },
  };
}

/** The value at rank q·(n−1), rounded down: the rank rule the sketch reports. */
function exactQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

describe('Class: BatchLatencies', () => {
  it('takes both latencies of each applied change per table, from the write time', () => {
    const latencies = new BatchLatencies();

    latencies.applied([pending('public.orders', 1_000, 1_500), pending('public.items', 1_800, 1_900)], 2_000);
    latencies.applied([pending('public.orders', null, 1_950)], 2_100);

    expect(Object.fromEntries(latencies.byTable)).toEqual({
      'public.orders': { sourceToAppliedMs: [1_000], arrivalToAppliedMs: [500, 150] },
      'public.items': { sourceToAppliedMs: [200], arrivalToAppliedMs: [100] },
    });
    expect(latencies.size).toBe(3);
  });

  it('never reports a latency below 0 when the clocks disagree', () => {
    const latencies = new BatchLatencies();

    latencies.applied([pending('public.orders', 2_500, 2_200)], 2_000);

    expect(latencies.byTable.get('public.orders')).toEqual({
      sourceToAppliedMs: [0],
      arrivalToAppliedMs: [0],
    });
  });
});

describe('Class: LatencySketch', () => {
  const values = Array.from({ length: 5_000 }, (_, i) => 3 + ((i * 7919) % 4_001) * 0.37);

  it('reports p50 and p99 within 1% of the exact quantiles, and the exact max', () => {
    const sketch = new LatencySketch();

    sketch.addAll(values);
    const summary = sketch.summary()!;

    expect(summary.count).toBe(values.length);
    expect(Math.abs(summary.p50Ms - exactQuantile(values, 0.5)) / exactQuantile(values, 0.5)).toBeLessThan(
      0.011,
    );
    expect(Math.abs(summary.p99Ms - exactQuantile(values, 0.99)) / exactQuantile(values, 0.99)).toBeLessThan(
      0.011,
    );
    expect(summary.maxMs).toBe(Math.round(Math.max(...values) * 10) / 10);
  });

  it('reports nothing when empty, and counts zeros', () => {
    const sketch = new LatencySketch();
    expect(sketch.summary()).toBeUndefined();

    sketch.addAll([0, 0, 0, 10]);

    expect(sketch.summary()).toMatchObject({ count: 4, p50Ms: 0, maxMs: 10 });
  });

  it('survives JSON and merges into the same figures as one sketch of everything', () => {
    const first = new LatencySketch();
    const second = new LatencySketch();
    const whole = new LatencySketch();
    first.addAll(values.slice(0, 2_000));
    second.addAll(values.slice(2_000));
    whole.addAll(values);

    const merged = LatencySketch.fromJSON(JSON.parse(JSON.stringify(first)));
    merged.merge(LatencySketch.fromJSON(JSON.parse(JSON.stringify(second))));

    expect(merged.summary()).toEqual(whole.summary());
  });
});

describe('Class: LatencyRecorder', () => {
  it('adds up batches into heartbeat figures and starts over on reset', () => {
    const recorder = new LatencyRecorder();
    const batch = new BatchLatencies();
    batch.applied([pending('public.orders', 1_000, 1_900), pending('public.items', null, 1_990)], 2_000);

    recorder.record(batch);

    expect(recorder.load()).toEqual({
      sourceToAppliedMs: {
        count: 1,
        p50Ms: expect.closeTo(1_000, -1),
        p99Ms: expect.closeTo(1_000, -1),
        maxMs: 1_000,
      },
      arrivalToAppliedMs: {
        count: 2,
        p50Ms: expect.closeTo(10, 0),
        p99Ms: expect.closeTo(10, 0),
        maxMs: 100,
      },
    });
    recorder.reset();
    expect(recorder.load()).toEqual({});
  });
});
