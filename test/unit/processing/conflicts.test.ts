import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../core/config/schema.js';
import { conflictPolicies } from '../../../core/processing/conflict-policies.js';
import { ParkedDiscarder } from '../../../core/processing/discard.js';
import { ProjectionError } from '../../../core/processing/errors.js';
import { foldChanges } from '../../../core/processing/fold.js';
import {
  FAULT_INJECTION_COLUMN,
  mirrorProjection,
  type ProjectedState,
  type Projection,
  withFaultInjection,
} from '../../../core/processing/projection.js';
import { ParkedReplayer } from '../../../core/processing/replay.js';
import { AGGREGATE, DEBEZIUM, DMS, positionOf, sourced, sourcesSetup } from '../../helpers/sources.js';

const T = 1_700_000_000_000;

describe('Strategy: single-source', () => {
  it('parks a second source as CONFLICTING_SOURCE naming both, and goes on with the first', async () => {
    const { apply, item, parked } = sourcesSetup({ strategy: 'single-source' });

    await apply([sourced(DEBEZIUM, 1, T, { id: 1, v: 'a' })]);
    const second = await apply([
      sourced(DMS, 1, T + 5, { id: 1, v: 'dms' }),
      sourced(DEBEZIUM, 2, T + 9, { id: 1, v: 'b' }),
    ]);

    expect(second).toMatchObject({ applied: 1, parked: 1, quarantined: false });
    expect(await item()).toMatchObject({
      state: { id: 1, v: 'b' },
      positions: new Map([[DEBEZIUM, positionOf(DEBEZIUM, 2)]]),
      quarantine: undefined,
    });
    const [reason, source, message] = (await parked())[0] as [string, string, string];
    expect([reason, source]).toEqual(['CONFLICTING_SOURCE', DMS]);
    expect(message).toBe(
      `source dms conflicts on ${AGGREGATE}: its state comes from ${DEBEZIUM} and table public.orders takes one source (conflict strategy single-source); set its conflictStrategy to source-priority, last-writer-wins or field-merge to take both, then replay this change`,
    );
  });

  it('parks a redelivered conflicting change once; a blind write of another source loses, then reads', async () => {
    const { apply, parked } = sourcesSetup({ strategy: 'single-source' });
    const dms = sourced(DMS, 1, T, { id: 1, v: 'dms' });
    await apply([sourced(DEBEZIUM, 1, T, { id: 1 })]);

    const first = await apply([dms]);
    const again = await apply([dms]);

    // The mirror writes blind; that write loses its condition (another source), so the item is read and the
    // change parked: one write request, no state written.
    expect(first).toMatchObject({ parked: 1, writes: 1, applied: 0 });
    expect(again).toMatchObject({ parked: 0, writes: 1 });
    expect(await parked()).toHaveLength(1);
  });

  it('replays the parked change once the table takes both sources', async () => {
    const setup = sourcesSetup({ strategy: 'single-source' });
    await setup.apply([sourced(DEBEZIUM, 1, T, { id: 1, v: 'a' })]);
    await setup.apply([sourced(DMS, 1, T + 5, { id: 1, v: 'later' })]);
    const replayer = (strategy: 'single-source' | 'last-writer-wins') =>
      new ParkedReplayer({
        stateStore: setup.stateStore,
        parkedStore: setup.parkedStore,
        projection: mirrorProjection,
        conflictPolicy: () => ({ strategy }),
      });

    const refused = await replayer('single-source').replayAggregate(AGGREGATE);
    const taken = await replayer('last-writer-wins').replayAggregate(AGGREGATE);

    expect(refused).toMatchObject({ replayed: 0, remaining: 1 });
    expect(refused.error).toContain('conflict strategy single-source');
    expect(taken).toMatchObject({ replayed: 1, remaining: 0, error: undefined });
    expect((await setup.item())?.state).toEqual({ id: 1, v: 'later' });
    expect(await setup.parked()).toEqual([]);
  });

  it('relabels a second source parked behind a quarantine as conflicting when the replay lifts it', async () => {
    const setup = sourcesSetup({ strategy: 'single-source' }, withFaultInjection(mirrorProjection));
    const poison = sourced(DEBEZIUM, 2, T, { v: 'b', [FAULT_INJECTION_COLUMN]: 'boom' });
    await setup.apply([sourced(DEBEZIUM, 1, T, { v: 'a' })]);
    await setup.apply([poison]);
    const quarantined = await setup.apply([poison, sourced(DMS, 1, T, { v: 'dms' })]);
    const behind = await setup.parked();

    const outcome = await new ParkedReplayer({
      stateStore: setup.stateStore,
      parkedStore: setup.parkedStore,
      projection: mirrorProjection,
      conflictPolicy: () => ({ strategy: 'single-source' }),
    }).replayAggregate(AGGREGATE);

    expect(quarantined.quarantined).toBe(true);
    expect(behind.map(([reason, source]) => [reason, source])).toEqual([
      ['POISON', DEBEZIUM],
      ['QUARANTINED', DMS],
    ]);
    expect(outcome).toMatchObject({ replayed: 1, remaining: 1, lifted: true });
    expect((await setup.item())?.quarantine).toBeUndefined();
    expect((await setup.parked()).map(([reason, source]) => [reason, source])).toEqual([
      ['CONFLICTING_SOURCE', DMS],
    ]);
  });

  it('lifts a quarantine once its poison is discarded, whatever of a refused source stays parked', async () => {
    const setup = sourcesSetup({ strategy: 'single-source' }, withFaultInjection(mirrorProjection));
    const poison = sourced(DEBEZIUM, 2, T, { v: 'b', [FAULT_INJECTION_COLUMN]: 'boom' });
    await setup.apply([sourced(DEBEZIUM, 1, T, { v: 'a' }), sourced(DMS, 1, T, { v: 'dms' })]);
    await setup.apply([poison]);
    await setup.apply([poison]);
    const discarder = new ParkedDiscarder({ stateStore: setup.stateStore, parkedStore: setup.parkedStore });

    const outcome = await discarder.discard(
      await discarder.select({ aggregateId: AGGREGATE, reason: 'POISON' }),
    );

    expect(outcome.lifted).toEqual([AGGREGATE]);
    expect((await setup.item())?.quarantine).toBeUndefined();
    expect((await setup.parked()).map(([reason]) => reason)).toEqual(['CONFLICTING_SOURCE']);
  });

  it('keeps a second source parked through a deferral and its resume, applying the first', async () => {
    const setup = sourcesSetup({ strategy: 'single-source' });
    await setup.apply([sourced(DEBEZIUM, 1, T, { v: 'a' })]);
    setup.deferral.on = true;
    await setup.apply([sourced(DEBEZIUM, 2, T, { v: 'b' }), sourced(DMS, 1, T, { v: 'dms-1' })]);
    const deferred = await setup.parked();
    setup.deferral.on = false;

    const resumed = await setup.apply([
      sourced(DMS, 2, T, { v: 'dms-2' }),
      sourced(DEBEZIUM, 3, T, { v: 'c' }),
    ]);

    expect(deferred.map(([reason]) => reason)).toEqual(['DEFERRED', 'DEFERRED']);
    expect(resumed).toMatchObject({ applied: 2, unparked: 1, parked: 1 });
    expect(await setup.item()).toMatchObject({ state: { v: 'c' }, quarantine: undefined });
    expect((await setup.parked()).map(([reason, source]) => [reason, source])).toEqual([
      ['CONFLICTING_SOURCE', DMS],
      ['CONFLICTING_SOURCE', DMS],
    ]);
  });

  it('lets the first source take the position of an item written before sources', async () => {
    const { apply, item, stateTwin } = sourcesSetup({ strategy: 'single-source' });
    stateTwin.putRaw({
      aggregateId: { S: AGGREGATE },
      position: { S: positionOf(DEBEZIUM, 5) },
      sourceTable: { S: 'public.orders' },
      deleted: { BOOL: false },
      state: { M: { v: { S: 'old' } } },
      rev: { N: '4' },
    });

    const late = await apply([sourced(DEBEZIUM, 4, T, { v: 'older' })]);
    const next = await apply([sourced(DEBEZIUM, 6, T, { v: 'newer' })]);

    expect(late).toMatchObject({ applied: 0, duplicates: 1 });
    expect(next).toMatchObject({ applied: 1 });
    expect(await item()).toMatchObject({
      state: { v: 'newer' },
      positions: new Map([[DEBEZIUM, positionOf(DEBEZIUM, 6)]]),
    });
  });
});

describe('Items written before sources', () => {
  const legacy = (position: string) => ({
    aggregateId: { S: AGGREGATE },
    position: { S: position },
    sourceTable: { S: 'public.orders' },
    deleted: { BOOL: false },
    state: { M: { v: { S: 'old' } } },
    rev: { N: '4' },
  });

  it('parks under single-source a first change of another format than the one position, naming it', async () => {
    const { apply, item, parked, stateTwin } = sourcesSetup({ strategy: 'single-source' });
    stateTwin.putRaw(legacy(positionOf(DEBEZIUM, 5)));

    const outcome = await apply([sourced(DMS, 9, T, { v: 'dms' })]);

    expect(outcome).toMatchObject({ applied: 0, parked: 1 });
    expect((await item())?.state).toEqual({ v: 'old' });
    expect((await parked())[0]?.[2]).toBe(
      `source dms conflicts on ${AGGREGATE}: its state comes from the source of position ${positionOf(DEBEZIUM, 5)} (written before changes named their source) and table public.orders takes one source (conflict strategy single-source); set its conflictStrategy to source-priority, last-writer-wins or field-merge to take both, then replay this change`,
    );
  });

  it('lets a DMS change take a mark DMS wrote as a Kinesis sequence, before its positions carried time', async () => {
    const { apply, item, stateTwin } = sourcesSetup({ strategy: 'single-source' });
    stateTwin.putRaw(legacy(`ks:${'4'.repeat(129)}:0000000000`));

    const outcome = await apply([sourced(DMS, 1, T, { v: 'dms' })]);

    expect(outcome).toMatchObject({ applied: 1, parked: 0 });
    expect((await item())?.positions).toEqual(new Map([[DMS, positionOf(DMS, 1)]]));
  });

  it('keeps the mark of another format as its own source under last-writer-wins, and applies the change', async () => {
    const { apply, item, stateTwin } = sourcesSetup({ strategy: 'last-writer-wins' });
    stateTwin.putRaw(legacy(positionOf(DEBEZIUM, 5)));

    await apply([sourced(DMS, 1, T, { v: 'dms' })]);

    expect(await item()).toMatchObject({
      state: { v: 'dms' },
      positions: new Map([
        ['unnamed', positionOf(DEBEZIUM, 5)],
        [DMS, positionOf(DMS, 1)],
      ]),
    });
  });
});

describe('Strategy: source-priority', () => {
  const policy = { strategy: 'source-priority', sourcePriority: [DEBEZIUM, DMS] } as const;

  it('lets the higher source override and keeps the lower one out, recording its position', async () => {
    const { apply, item } = sourcesSetup(policy);
    const lower = sourced(DMS, 2, T + 50, { v: 'dms-2' });

    const before = await apply([sourced(DMS, 1, T, { v: 'dms-1' })]);
    const over = await apply([sourced(DEBEZIUM, 1, T + 10, { v: 'dbz-1' }), lower]);
    const redelivered = await apply([lower]);

    expect(before.applied).toBe(1);
    expect(over).toMatchObject({ applied: 2, duplicates: 0 });
    expect(redelivered).toMatchObject({ applied: 0, duplicates: 1, writes: 0 });
    expect(await item()).toMatchObject({
      state: { v: 'dbz-1' },
      writer: { source: DEBEZIUM, ts: T + 10, position: positionOf(DEBEZIUM, 1) },
      positions: new Map([
        [DMS, positionOf(DMS, 2)],
        [DEBEZIUM, positionOf(DEBEZIUM, 1)],
      ]),
    });
  });

  it('parks a source missing from the list', async () => {
    const { apply, parked } = sourcesSetup(policy);
    await apply([sourced(DEBEZIUM, 1, T, { v: 'a' })]);

    await apply([sourced('dynamodb:eu-west-1/orders', 1, T, { v: 'x' })]);

    expect(await parked()).toEqual([
      [
        'CONFLICTING_SOURCE',
        'dynamodb:eu-west-1/orders',
        `source dynamodb:eu-west-1/orders conflicts on ${AGGREGATE}: it is not in the sourcePriority list of table public.orders (${DEBEZIUM}, ${DMS}); add it, then replay this change`,
      ],
    ]);
  });
});

describe('Strategy: last-writer-wins', () => {
  it('keeps the change with the latest commit time, whatever the order of arrival', async () => {
    const { apply, item } = sourcesSetup({ strategy: 'last-writer-wins' });

    await apply([sourced(DMS, 1, T + 20, { v: 'dms-late' })]);
    const older = await apply([sourced(DEBEZIUM, 1, T + 10, { v: 'dbz-early' })]);

    expect(older.applied).toBe(1);
    expect(await item()).toMatchObject({
      state: { v: 'dms-late' },
      positions: new Map([
        [DMS, positionOf(DMS, 1)],
        [DEBEZIUM, positionOf(DEBEZIUM, 1)],
      ]),
    });
  });

  it('breaks a tie of commit times by source id, then position; a change without a time loses', async () => {
    const tie = sourcesSetup({ strategy: 'last-writer-wins' });
    const untimed = sourcesSetup({ strategy: 'last-writer-wins' });

    await tie.apply([sourced(DMS, 1, T, { v: 'dms' }), sourced(DEBEZIUM, 1, T, { v: 'dbz' })]);
    await untimed.apply([sourced(DEBEZIUM, 1, 1, { v: 'timed' }), sourced(DMS, 1, null, { v: 'untimed' })]);

    // 'dms' sorts after 'debezium:dbserver1': at one commit time the DMS change wins, in any order.
    expect((await tie.item())?.state).toEqual({ v: 'dms' });
    expect((await untimed.item())?.state).toEqual({ v: 'timed' });
  });

  it('applies a source after its own earlier change whatever the times, as its positions order it', async () => {
    const { apply, item } = sourcesSetup({ strategy: 'last-writer-wins' });

    await apply([sourced(DEBEZIUM, 1, T, { v: 1 }), sourced(DEBEZIUM, 2, T, { v: 2 })]);

    expect((await item())?.state).toEqual({ v: 2 });
  });
});

describe('Strategy: field-merge', () => {
  const policy = { strategy: 'field-merge' } as const;

  it('merges the fields of partial images per field, by commit time', async () => {
    const { apply, item } = sourcesSetup(policy);

    await apply([sourced(DEBEZIUM, 1, T + 10, { id: 1, price: 10, name: 'a' })]);
    await apply([sourced(DMS, 1, T + 5, { id: 1, price: 9, stock: 3 })]);
    await apply([sourced(DMS, 2, T + 20, { stock: 4 })]);

    const stored = await item();
    expect(stored?.state).toEqual({ id: 1, price: 10, name: 'a', stock: 4 });
    expect(stored?.fieldStamps?.fields.get('price')).toEqual({
      source: DEBEZIUM,
      ts: T + 10,
      position: positionOf(DEBEZIUM, 1),
    });
  });

  it('hides what was set before a delete, keeps what was set after it, and takes a later create back', async () => {
    const { apply, item } = sourcesSetup(policy);

    await apply([sourced(DEBEZIUM, 1, T + 10, { id: 1, a: 1 }), sourced(DMS, 1, T + 30, { b: 2 })]);
    await apply([sourced(DEBEZIUM, 2, T + 20, null)]);
    const afterDelete = await item();
    await apply([sourced(DMS, 2, T + 15, { c: 3 }), sourced(DMS, 3, T + 40, null)]);
    const deleted = await item();
    await apply([sourced(DEBEZIUM, 3, T + 50, { id: 1, a: 5 }, 'create')]);

    expect(afterDelete).toMatchObject({ deleted: false, state: { b: 2 } });
    expect(deleted).toMatchObject({ deleted: true, state: null });
    expect(deleted?.ttlEpochSeconds).toBeDefined();
    expect(await item()).toMatchObject({ deleted: false, state: { id: 1, a: 5 } });
  });

  it('keeps a __proto__ column and exact numbers as data', async () => {
    const { apply, item } = sourcesSetup(policy);
    const row = JSON.parse('{"__proto__": {"x": 1}, "id": 1}') as Record<string, unknown>;

    await apply([sourced(DEBEZIUM, 1, T, row)]);
    await apply([sourced(DMS, 1, T + 1, { big: 12345678901234567890n.toString() })]);

    const state = (await item())?.state as Record<string, unknown>;
    expect(Object.hasOwn(state, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(state)).toBe(Object.prototype);
    expect(state.big).toBe('12345678901234567890');
  });
});

describe('Strategy: custom', () => {
  const resolving = (decide: Projection['resolveConflict']): Projection => ({
    ...mirrorProjection,
    resolveConflict: decide,
  });

  it("asks the projection's resolver about another source's change, with the writer and the marks", async () => {
    const seen: unknown[] = [];
    const projection = resolving((input) => {
      seen.push({ source: input.change.source, writer: input.writer.source, marks: input.positions.size });
      return input.change.after?.keep === true
        ? 'apply'
        : input.change.after?.park
          ? { park: 'not now' }
          : 'skip';
    });
    const { apply, item, parked } = sourcesSetup(
      { strategy: 'custom', resolve: projection.resolveConflict },
      projection,
    );

    await apply([sourced(DEBEZIUM, 1, T, { v: 'a' }), sourced(DEBEZIUM, 2, T, { v: 'b' })]);
    await apply([sourced(DMS, 1, T, { v: 'skip' }), sourced(DMS, 2, T, { v: 'park', park: true })]);
    await apply([sourced(DMS, 3, T, { v: 'keep', keep: true })]);

    expect(seen).toEqual([
      { source: DMS, writer: DEBEZIUM, marks: 1 },
      { source: DMS, writer: DEBEZIUM, marks: 2 },
      { source: DMS, writer: DEBEZIUM, marks: 2 },
    ]);
    expect((await item())?.state).toEqual({ v: 'keep', keep: true });
    expect(await parked()).toEqual([
      ['CONFLICTING_SOURCE', DMS, `source dms conflicts on ${AGGREGATE}: not now`],
    ]);
  });

  it('counts an answer that is none of apply, skip or { park } as a failing change', async () => {
    const projection = resolving(() => 'maybe' as never);
    const { apply } = sourcesSetup({ strategy: 'custom', resolve: projection.resolveConflict }, projection);
    await apply([sourced(DEBEZIUM, 1, T, { v: 'a' })]);

    const outcome = await apply([sourced(DMS, 1, T, { v: 'b' })]);

    expect(outcome.failure?.error).toBeInstanceOf(ProjectionError);
    expect(outcome.failure?.error.message).toBe(
      `resolveConflict must return 'apply', 'skip' or { park: 'reason' }, received "maybe"`,
    );
  });
});

describe('Function: conflictPolicies', () => {
  it("takes a table's strategy and list over the global ones, and source-position as single-source", () => {
    const policyOf = conflictPolicies(
      parseConfig({
        conflicts: { strategy: 'source-position' },
        tables: { 'public.orders': { conflictStrategy: 'source-priority', sourcePriority: [DMS, DEBEZIUM] } },
      }),
      mirrorProjection,
    );

    expect(policyOf('public.orders')).toEqual({
      strategy: 'source-priority',
      sourcePriority: [DMS, DEBEZIUM],
    });
    expect(policyOf('public.other')).toEqual({ strategy: 'single-source', sourcePriority: [] });
  });

  it('refuses custom without a resolver and field-merge with a folding projection, naming the table', () => {
    const folding: Projection = { ...mirrorProjection, name: 'totals', needsPreviousState: true };

    expect(() =>
      conflictPolicies(
        parseConfig({ tables: { 'public.orders': { conflictStrategy: 'custom' } } }),
        mirrorProjection,
      ),
    ).toThrow(
      'tables["public.orders"] uses conflict strategy custom, but projection mirror exports no resolveConflict function; export resolveConflict(input) from the projection or choose another strategy',
    );
    expect(() => conflictPolicies(parseConfig({ conflicts: { strategy: 'field-merge' } }), folding)).toThrow(
      'conflicts.strategy uses conflict strategy field-merge, but projection totals reads the previous state',
    );
  });
});

describe('Derived updates under the conflict strategies', () => {
  const TOTAL = 'public.totals#1';
  const amountOf = (s: ProjectedState | undefined) => (s?.state ? Number(s.state.amount ?? 0) : 0);
  /** Adds the change of the row's amount to TOTAL: a delta of the state the change is applied onto. */
  const totals: Projection = {
    name: 'totals',
    needsPreviousState: true,
    apply: (previous, change) => {
      const next = mirrorProjection.apply(previous, change);
      const by = amountOf(next) - amountOf(previous);
      return by === 0 ? next : { ...next, derived: [{ aggregateId: TOTAL, add: { total: by } }] };
    },
  };

  it('last-writer-wins: the fold returns the derived updates of what it applied and the changes it kept out', () => {
    const fold = foldChanges({
      item: undefined,
      changes: [sourced(DMS, 1, T + 20, { amount: 5 }), sourced(DEBEZIUM, 1, T + 10, { amount: 7 })],
      projection: totals,
      policy: { strategy: 'last-writer-wins' },
    });

    expect(fold.applied.map((c) => c.change.source)).toEqual([DMS]);
    expect(fold.superseded.map((c) => c.change.source)).toEqual([DEBEZIUM]);
    expect(fold.derived).toEqual([
      { aggregateId: TOTAL, fields: new Map([['total', { kind: 'add', by: 5n }]]) },
    ]);
  });

  it('last-writer-wins: a derived total follows the state, whatever arrives late or twice', async () => {
    const { apply, item, stateTwin } = sourcesSetup({ strategy: 'last-writer-wins' }, totals);
    const first = sourced(DMS, 1, T + 20, { amount: 5 });

    await apply([first]);
    await apply([sourced(DEBEZIUM, 1, T + 10, { amount: 7 })]);
    await apply([sourced(DEBEZIUM, 2, T + 30, { amount: 9 }), first]);

    expect((await item())?.state).toEqual({ amount: 9 });
    expect((await stateTwin.get(TOTAL))?.derived?.get('total')).toBe(9);
  });

  it('source-priority: a commit both sources carry adds once; a lower source kept out adds nothing', async () => {
    const { apply, item, stateTwin } = sourcesSetup(
      { strategy: 'source-priority', sourcePriority: [DEBEZIUM, DMS] },
      totals,
    );

    await apply([sourced(DMS, 1, T, { amount: 5 })]);
    await apply([sourced(DEBEZIUM, 1, T, { amount: 5 })]);
    await apply([sourced(DMS, 2, T + 1, { amount: 8 })]);
    await apply([sourced(DEBEZIUM, 2, T + 2, { amount: 6 })]);

    expect((await item())?.state).toEqual({ amount: 6 });
    expect((await stateTwin.get(TOTAL))?.derived?.get('total')).toBe(6);
  });

  it('single-source: a second source parked writes none of its derived updates', async () => {
    const { apply, parked, stateTwin } = sourcesSetup({ strategy: 'single-source' }, totals);

    await apply([sourced(DEBEZIUM, 1, T, { amount: 5 }), sourced(DMS, 1, T + 1, { amount: 50 })]);

    expect((await stateTwin.get(TOTAL))?.derived?.get('total')).toBe(5);
    expect((await parked()).map(([reason]) => reason)).toEqual(['CONFLICTING_SOURCE']);
  });

  it('field-merge: refuses a projection that folds when built, and parks a change that derives as DERIVED_INVALID', async () => {
    const counted: Projection = {
      name: 'counted',
      needsPreviousState: false,
      apply: (previous, change) => ({
        ...mirrorProjection.apply(previous, change),
        derived: [{ aggregateId: TOTAL, add: { rows: 1 } }],
      }),
    };
    const { apply, item, parked, stateTwin } = sourcesSetup({ strategy: 'field-merge' }, counted);

    await apply([sourced(DEBEZIUM, 1, T, { amount: 5 })]);

    expect(() => conflictPolicies(parseConfig({ conflicts: { strategy: 'field-merge' } }), totals)).toThrow(
      'conflicts.strategy uses conflict strategy field-merge, but projection totals reads the previous state',
    );
    expect(await parked()).toEqual([
      [
        'DERIVED_INVALID',
        DEBEZIUM,
        `DerivedUpdateError: ${AGGREGATE}: table public.orders has conflict strategy field-merge, which cannot carry derived updates (each change is projected alone); set its conflictStrategy to last-writer-wins or source-priority, then replay this change`,
      ],
    ]);
    expect((await item())?.quarantine?.reason).toBe('POISON');
    expect(await stateTwin.get(TOTAL)).toBeUndefined();
  });
});
