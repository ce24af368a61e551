import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RowImage } from '../../../core/events/change.js';
import type { ConflictPolicy } from '../../../core/processing/conflicts.js';
import type { PendingChange } from '../../../core/processing/fold.js';
import { compareStamps, type WriterStamp } from '../../../core/state/source-marks.js';
import { DEBEZIUM, DMS, sourced, sourcesSetup } from '../../helpers/sources.js';

/**
 * Two sources describe one aggregate; their changes arrive in a random interleaving (each source's own order
 * kept, as per-aggregate order within a source is), with random redeliveries of what was already delivered,
 * in random batches. Each strategy must end in the state its rule defines, whatever the order.
 */

const T = 1_700_000_000_000;
const FIELDS = ['a', 'b', 'c', 'd'] as const;
/** Fixed seed and a bounded number of cases, so CI runs the same cases every time. */
const RUNS = { seed: 20_261_203, numRuns: 150 } as const;

/** One change as generated: partial row (or a delete) and commit-time step. */
interface Spec {
  readonly row: RowImage | null;
  readonly tsStep: number;
}

const specArb: fc.Arbitrary<Spec> = fc.record({
  row: fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    {
      weight: 5,
      arbitrary: fc.subarray([...FIELDS], { minLength: 1 }).chain((names) =>
        fc.tuple(...names.map(() => fc.integer({ min: 0, max: 9 }))).map((values) => {
          const row: RowImage = {};
          names.forEach((n, i) => {
            row[n] = values[i];
          });
          return row;
        }),
      ),
    },
  ),
  // Commit times grow within a source (0: the same millisecond); the two sources share one clock, so ties
  // across sources happen.
  tsStep: fc.integer({ min: 0, max: 3 }),
});

interface Scenario {
  readonly debezium: readonly PendingChange[];
  readonly dms: readonly PendingChange[];
  /** The delivery: indexes into `all` (first deliveries in an interleaving, plus redeliveries), in batches. */
  readonly batches: readonly (readonly PendingChange[])[];
}

function changesOf(source: string, specs: readonly Spec[], start: number): PendingChange[] {
  let ts = T + start;
  return specs.map((spec, i) => {
    ts += spec.tsStep;
    return sourced(source, i + 1, ts, spec.row === null ? null : { ...spec.row });
  });
}

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    debezium: fc.array(specArb, { minLength: 1, maxLength: 6 }),
    dms: fc.array(specArb, { minLength: 0, maxLength: 6 }),
    dmsStart: fc.integer({ min: 0, max: 4 }),
    // Which source each first delivery takes from, in order; redeliveries and batch cuts after each step.
    picks: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
    redeliveries: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 6 }),
    cuts: fc.array(fc.boolean(), { minLength: 24, maxLength: 24 }),
  })
  .map(({ debezium, dms, dmsStart, picks, redeliveries, cuts }) => {
    const ofDebezium = changesOf(DEBEZIUM, debezium, 0);
    const ofDms = changesOf(DMS, dms, dmsStart);
    const order: PendingChange[] = [];
    let i = 0;
    let j = 0;
    let pick = 0;
    while (i < ofDebezium.length || j < ofDms.length) {
      const takeDebezium =
        j >= ofDms.length || (i < ofDebezium.length && (picks[pick++ % picks.length] ?? true));
      order.push(takeDebezium ? ofDebezium[i++]! : ofDms[j++]!);
    }
    // A redelivery re-sends a change already delivered, at a later point (never before its first delivery).
    for (const [at, which] of redeliveries) {
      const point = 1 + (at % order.length);
      order.splice(point, 0, order[which % point]!);
    }
    const batches: PendingChange[][] = [[]];
    order.forEach((c, k) => {
      batches.at(-1)!.push(c);
      if (cuts[k % cuts.length] === true) batches.push([]);
    });
    return { debezium: ofDebezium, dms: ofDms, batches: batches.filter((b) => b.length > 0) };
  });

const stampOf = (c: PendingChange): WriterStamp => ({
  source: c.change.source,
  ts: c.change.ts ?? 0,
  position: c.change.position,
});
const latest = (changes: readonly PendingChange[]) =>
  [...changes].sort((x, y) => compareStamps(stampOf(x), stampOf(y))).at(-1)!;
const imageOf = (c: PendingChange) =>
  c.change.after === null ? { deleted: true, state: null } : { deleted: false, state: c.change.after };

/** Every source's last position: what `positions` must hold once everything was delivered. */
function lastPositions(...sources: (readonly PendingChange[])[]): Map<string, string> {
  return new Map(
    sources.filter((s) => s.length > 0).map((s) => [s[0]!.change.source, s.at(-1)!.change.position]),
  );
}

/** The LWW map's state: per field the latest write, hidden when older than the latest delete. */
function mergedModel(all: readonly PendingChange[]): { deleted: boolean; state: RowImage | null } {
  const deletes = all.filter((c) => c.change.after === null);
  const lastDelete = deletes.length === 0 ? undefined : stampOf(latest(deletes));
  const state: RowImage = {};
  for (const field of FIELDS) {
    const writers = all.filter((c) => c.change.after !== null && Object.hasOwn(c.change.after, field));
    if (writers.length === 0) continue;
    const winner = latest(writers);
    if (lastDelete === undefined || compareStamps(stampOf(winner), lastDelete) > 0)
      state[field] = winner.change.after![field];
  }
  const deleted = Object.keys(state).length === 0 && lastDelete !== undefined;
  return { deleted, state: deleted ? null : state };
}

async function deliver(policy: ConflictPolicy, scenario: Scenario) {
  const setup = sourcesSetup(policy);
  for (const batch of scenario.batches) {
    const outcome = await setup.apply(batch);
    expect(outcome.failure).toBeUndefined();
  }
  return { item: await setup.item(), parked: await setup.parked() };
}

describe('Property: two sources in any interleaving, with duplicates and redeliveries', () => {
  it('field-merge: every order ends in the same state, the join of all the changes', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        const { item, parked } = await deliver({ strategy: 'field-merge' }, scenario);
        const model = mergedModel([...scenario.debezium, ...scenario.dms]);

        expect(parked).toEqual([]);
        expect({ deleted: item?.deleted, state: item?.state }).toEqual(model);
        expect(item?.positions).toEqual(lastPositions(scenario.debezium, scenario.dms));
      }),
      RUNS,
    );
  });

  it('last-writer-wins: the state of the change with the latest commit time (then source, position)', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        const { item } = await deliver({ strategy: 'last-writer-wins' }, scenario);
        const winner = latest([...scenario.debezium, ...scenario.dms]);

        expect({ deleted: item?.deleted, state: item?.state }).toEqual(imageOf(winner));
        expect(item?.writer).toEqual(stampOf(winner));
        expect(item?.positions).toEqual(lastPositions(scenario.debezium, scenario.dms));
      }),
      RUNS,
    );
  });

  it('source-priority: the last change of the highest source that wrote it', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        const { item } = await deliver(
          { strategy: 'source-priority', sourcePriority: [DEBEZIUM, DMS] },
          scenario,
        );

        expect({ deleted: item?.deleted, state: item?.state }).toEqual(imageOf(scenario.debezium.at(-1)!));
        expect(item?.positions).toEqual(lastPositions(scenario.debezium, scenario.dms));
      }),
      RUNS,
    );
  });

  it('single-source: the first source delivered keeps the aggregate; every change of the second is parked', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        const { item, parked } = await deliver({ strategy: 'single-source' }, scenario);
        const firstSource = scenario.batches[0]![0]!.change.source;
        const [owner, other] =
          firstSource === DEBEZIUM ? [scenario.debezium, scenario.dms] : [scenario.dms, scenario.debezium];

        expect({ deleted: item?.deleted, state: item?.state }).toEqual(imageOf(owner.at(-1)!));
        expect(item?.positions).toEqual(lastPositions(owner));
        expect(parked.map(([reason, source]) => [reason, source])).toEqual(
          other.map(() => ['CONFLICTING_SOURCE', other[0]!.change.source]),
        );
      }),
      RUNS,
    );
  });
});
