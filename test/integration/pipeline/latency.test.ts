import { afterAll, describe, expect, inject, it } from 'vitest';
import type { ChangeEvent } from '../../../core/events/change.js';
import { runPipeline } from '../../../localstack/run/pipeline.js';
import { WorkloadGenerator } from '../../../localstack/workload/generator.js';
import { type StateWrite, startStateWriteLog } from '../../helpers/dynamodb-write-log.js';
import { uniqueName } from '../../helpers/engines.js';

const EVENTS = 1_500;
const SEED = 21;
const AGGREGATES = 300;

/** The value at rank q·(n−1), rounded down (the rank rule of the reported quantiles). */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

/**
 * Source-to-applied latency of every change, from the generator's records and the state writes DynamoDB
 * accepted: a write applied the changes of its aggregate above the position it replaced, up to the position
 * the next write replaced (or the aggregate's last change, for its last write).
 */
function expectedLatencies(changes: readonly ChangeEvent[], writes: readonly StateWrite[]): number[] {
  const byAggregate = new Map<string, ChangeEvent[]>();
  for (const c of changes) byAggregate.set(c.aggregateId, [...(byAggregate.get(c.aggregateId) ?? []), c]);
  const writesOf = new Map<string, StateWrite[]>();
  for (const w of writes) writesOf.set(w.aggregateId, [...(writesOf.get(w.aggregateId) ?? []), w]);
  const latencies: number[] = [];
  for (const [aggregateId, ofAggregate] of byAggregate) {
    const ws = writesOf.get(aggregateId) ?? [];
    for (const [k, w] of ws.entries()) {
      const upTo = ws[k + 1]?.previousPosition ?? ofAggregate.at(-1)!.position;
      for (const c of ofAggregate)
        if ((w.previousPosition === undefined || c.position > w.previousPosition) && c.position <= upTo)
          latencies.push(w.atWallMs - c.ts!);
    }
  }
  return latencies;
}

describe('Source-to-applied latency of a local run', () => {
  const names: { stateTable?: string } = {};
  let log: Awaited<ReturnType<typeof startStateWriteLog>>;
  afterAll(() => log?.close());

  it('reports p50 and p99 within 5% of those computed from the generator records and the state writes', async () => {
    log = await startStateWriteLog(inject('dynamodbEndpoint'), () => names.stateTable);
    const stamps: number[] = [];

    const summary = await runPipeline({
      events: EVENTS,
      rate: 2_000,
      untilDrained: true,
      shards: 2,
      endpoints: {
        dynamodb: log.endpoint,
        kinesis: inject('kinesaliteEndpoint'),
        kind: 'embedded',
        kinesisEngine: 'kinesalite',
      },
      prefix: uniqueName('latency'),
      progress: false,
      seed: SEED,
      aggregates: AGGREGATES,
      commitClock: () => {
        const now = Date.now();
        stamps.push(now);
        return now;
      },
      onReady: ({ names: provisioned }) => {
        names.stateTable = provisioned.stateTable;
      },
    });

    expect(summary).toMatchObject({ verified: true, applied: EVENTS });
    // The same records again, from the same seed and the commit times the run stamped.
    let next = 0;
    const generator = new WorkloadGenerator({
      seed: SEED,
      aggregates: AGGREGATES,
      commitClock: () => stamps[next++]!,
    });
    const changes = Array.from({ length: EVENTS }, () => generator.next().change);
    const expected = expectedLatencies(changes, log.writes);
    expect(expected).toHaveLength(EVENTS);
    const reported = summary.latency.sourceToAppliedMs!;
    expect(reported.count).toBe(EVENTS);
    for (const [q, figure] of [
      [0.5, reported.p50Ms],
      [0.99, reported.p99Ms],
    ] as const) {
      const exact = quantile(expected, q);
      expect(
        Math.abs(figure - exact),
        `p${q * 100}: reported ${figure} ms, computed ${exact} ms`,
      ).toBeLessThanOrEqual(0.05 * exact);
    }
    expect(summary.latency.arrivalToAppliedMs!.count).toBe(EVENTS);
    expect(summary.latency.arrivalToAppliedMs!.p50Ms).toBeLessThanOrEqual(reported.p50Ms * 1.05 + 5);
    console.log(
      `latency of ${EVENTS} changes: reported p50 ${reported.p50Ms} ms, p99 ${reported.p99Ms} ms; computed p50 ${quantile(expected, 0.5)} ms, p99 ${quantile(expected, 0.99)} ms; arrival → applied p50 ${summary.latency.arrivalToAppliedMs!.p50Ms} ms`,
    );
  });
});
