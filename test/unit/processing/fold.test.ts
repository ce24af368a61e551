import { describe, expect, it } from 'vitest';
import { foldChanges } from '../../../core/processing/fold.js';
import { groupByAggregate } from '../../../core/processing/group.js';
import {
  FAULT_INJECTION_COLUMN,
  mirrorProjection,
  type Projection,
  withFaultInjection,
} from '../../../core/processing/projection.js';
import type { DerivedUpdate } from '../../../core/state/derived-update.js';
import { UnstorableError } from '../../../core/state/errors.js';
import { orderChange, pending, storedItem as stored } from '../../helpers/changes.js';

describe('Function: foldChanges', () => {
  it('applies changes in order and ends at the last position and image', () => {
    const changes = [pending(orderChange(1, 10, 'create'), '1'), pending(orderChange(1, 20), '2')];
    const result = foldChanges({
      item: undefined,
      changes,
      projection: mirrorProjection,
    });
    expect(result.applied).toHaveLength(2);
    expect(result.duplicates).toHaveLength(0);
    expect(result.next).toEqual({
      table: 'public.orders',
      source: 'debezium:dbserver1',
      position: changes[1]!.change.position,
      deleted: false,
      state: { id: 1, status: 's20' },
      positions: new Map([['debezium:dbserver1', changes[1]!.change.position]]),
      writer: {
        source: 'debezium:dbserver1',
        ts: changes[1]!.change.ts,
        position: changes[1]!.change.position,
      },
    });
  });

  it('skips changes at or below the stored position as duplicates', () => {
    const reached = orderChange(1, 20).position;
    const changes = [
      pending(orderChange(1, 10), '1'),
      pending(orderChange(1, 20), '2'),
      pending(orderChange(1, 30), '3'),
    ];
    const result = foldChanges({
      item: stored(reached, { deleted: false, state: { id: 1 } }),
      changes,
      projection: mirrorProjection,
    });
    expect(result.duplicates.map((c) => c.origin.sequenceNumber)).toEqual(['1', '2']);
    expect(result.applied.map((c) => c.origin.sequenceNumber)).toEqual(['3']);
  });

  it('skips an in-batch change that is not newer than the one before it (redelivered or out of order)', () => {
    const changes = [
      pending(orderChange(1, 30), '1'),
      pending(orderChange(1, 20), '2'),
      pending(orderChange(1, 30), '3'),
    ];
    const result = foldChanges({
      item: undefined,
      changes,
      projection: mirrorProjection,
    });
    expect(result.applied.map((c) => c.origin.sequenceNumber)).toEqual(['1']);
    expect(result.duplicates.map((c) => c.origin.sequenceNumber)).toEqual(['2', '3']);
  });

  it('leaves a tombstone for a delete and keeps it against an older duplicate', () => {
    const del = foldChanges({
      item: undefined,
      changes: [pending(orderChange(1, 10, 'create'), '1'), pending(orderChange(1, 20, 'delete'), '2')],
      projection: mirrorProjection,
    });
    expect(del.next).toMatchObject({ deleted: true, state: null });
    const late = foldChanges({
      item: stored(del.next!.position, { deleted: true, state: null }),
      changes: [pending(orderChange(1, 10, 'create'), '3')],
      projection: mirrorProjection,
    });
    expect(late.applied).toHaveLength(0);
    expect(late.next).toBeUndefined();
  });

  it('stops at the first failing change and applies nothing after it', () => {
    const failing: Projection = {
      name: 'failing',
      needsPreviousState: false,
      apply: (previous, change) => {
        if (change.position === orderChange(1, 20).position) throw new Error('boom');
        return mirrorProjection.apply(previous, change);
      },
    };
    const changes = [
      pending(orderChange(1, 10), '1'),
      pending(orderChange(1, 20), '2'),
      pending(orderChange(1, 30), '3'),
    ];
    const result = foldChanges({ item: undefined, changes, projection: failing });
    expect(result.applied.map((c) => c.origin.sequenceNumber)).toEqual(['1']);
    expect(result.failure?.index).toBe(1);
    expect(result.failure?.error.message).toBe('boom');
    expect(result.rest.map((c) => c.origin.sequenceNumber)).toEqual(['3']);
    expect(result.next?.position).toBe(orderChange(1, 10).position);
  });

  it.each([
    ['too large', { id: 1, blob: 'x'.repeat(402_000) }, 'item', 'more than 401408'],
    [
      'too large in UTF-8 bytes though not in characters',
      { id: 1, blob: 'é'.repeat(201_000) },
      'item',
      'more than 401408',
    ],
    [
      'a list DynamoDB counts larger than its JSON',
      { id: 1, l: Array.from({ length: 150_000 }, () => 7) },
      'item',
      'DynamoDB counts',
    ],
    ['an empty column name', { id: 1, '': 'x' }, 'state[""]', 'empty name'],
  ])('stops at a change whose state DynamoDB would refuse for good: %s', (_, row, path, message) => {
    const result = foldChanges({
      item: undefined,
      changes: [pending(orderChange(1, 9), '0'), pending(orderChange(1, 10, 'update', row), '1')],
      projection: mirrorProjection,
    });

    expect(result.applied).toHaveLength(1);
    expect(result.failure?.index).toBe(1);
    expect(result.failure?.error).toBeInstanceOf(UnstorableError);
    expect(result.failure?.error).toMatchObject({ path });
    expect(result.failure?.error.message).toContain(message);
  });

  it('counts the derived fields and the fence the item keeps when it checks a state against the item limit', () => {
    // A state that fits alone: 200,000 bytes, less than the 401,408 a written state may take.
    const row = { id: 1, s: 'x'.repeat(200_000) };
    const item = stored(orderChange(1, 5).position, { deleted: false, state: { id: 1 } });
    const fold = (carried: Partial<typeof item>) =>
      foldChanges({
        item: { ...item, ...carried },
        changes: [pending(orderChange(1, 10, 'update', row), '1')],
        projection: mirrorProjection,
      });

    const alone = fold({ fence: 3 });
    const withDerived = fold({ derived: new Map([['note', 'y'.repeat(250_000)]]), fence: 3 });

    expect(alone.failure).toBeUndefined();
    expect(withDerived.failure?.error).toBeInstanceOf(UnstorableError);
    expect(withDerived.failure?.error.message).toMatch(/would take 4\d{5} bytes/);
  });

  it('leaves nothing of a failing change in the derived updates: neither a clash with earlier ones nor an unstorable state', () => {
    const ORDER = 'public.totals#1';
    const deriving: Projection = {
      name: 'deriving',
      needsPreviousState: false,
      apply: (previous, change) => {
        // The first change sets status to text, the second adds to it: they cannot merge in one write.
        const update: DerivedUpdate =
          change.after?.status === 'text'
            ? { aggregateId: ORDER, add: { lines: 1 }, set: { status: 'open' } }
            : { aggregateId: ORDER, add: { lines: 1, status: 1 } };
        return { ...mirrorProjection.apply(previous, change), derived: [update] };
      },
    };
    const fold = (second: Record<string, unknown>) =>
      foldChanges({
        item: undefined,
        changes: [
          pending(orderChange(1, 10, 'update', { id: 1, status: 'text' }), '1'),
          pending(orderChange(1, 11, 'update', second), '2'),
        ],
        projection: deriving,
      });

    const clash = fold({ id: 1, status: 'number' });
    const unstorable = fold({ id: 1, '': 'x' });

    for (const result of [clash, unstorable]) {
      expect(result.applied).toHaveLength(1);
      expect(result.failure?.index).toBe(1);
      expect(result.derived).toEqual([
        {
          aggregateId: ORDER,
          fields: new Map([
            ['lines', { kind: 'add', by: 1n }],
            ['status', { kind: 'set', value: 'open' }],
          ]),
        },
      ]);
    }
    expect(clash.failure?.error.message).toContain(
      'status is set to a non-integer and added to in one write',
    );
  });

  it('applies numbers DynamoDB cannot hold as numbers: they are stored as their exact text', () => {
    const result = foldChanges({
      item: undefined,
      changes: [pending(orderChange(1, 10, 'update', { id: 1, f: 1e300, g: [1, 1e-200] }), '1')],
      projection: mirrorProjection,
    });

    expect(result.failure).toBeUndefined();
    expect(result.next?.state).toEqual({ id: 1, f: 1e300, g: [1, 1e-200] });
  });

  it('passes previous state to a folding projection', () => {
    const counter: Projection = {
      name: 'counter',
      needsPreviousState: true,
      apply: (previous) => ({ deleted: false, state: { n: Number(previous?.state?.n ?? 0) + 1 } }),
    };
    const result = foldChanges({
      item: stored(orderChange(1, 5).position, { deleted: false, state: { n: 41 } }),
      changes: [pending(orderChange(1, 10), '1')],
      projection: counter,
    });
    expect(result.next?.state).toEqual({ n: 42 });
  });
});

describe('Function: withFaultInjection', () => {
  it('fails a change that carries the fault column, every time, and passes others through', () => {
    const projection = withFaultInjection(mirrorProjection);
    const poison = orderChange(1, 10, 'update', { id: 1, [FAULT_INJECTION_COLUMN]: 'bad' });
    expect(() => projection.apply(undefined, poison)).toThrow('injected fault: bad');
    expect(() => projection.apply(undefined, poison)).toThrow(/injected fault/);
    expect(projection.apply(undefined, orderChange(1, 11))).toEqual({
      deleted: false,
      state: { id: 1, status: 's11' },
    });
  });
});

describe('Function: groupByAggregate', () => {
  it('keeps batch order within an aggregate and first-appearance order across aggregates', () => {
    const items = [
      pending(orderChange(2, 1), '1'),
      pending(orderChange(1, 2), '2'),
      pending(orderChange(2, 3), '3'),
      pending(orderChange(1, 4), '4'),
    ];
    const groups = groupByAggregate(items);
    expect([...groups.keys()]).toEqual(['public.orders#2', 'public.orders#1']);
    expect(groups.get('public.orders#2')!.map((c) => c.origin.sequenceNumber)).toEqual(['1', '3']);
    expect(groups.get('public.orders#1')!.map((c) => c.origin.sequenceNumber)).toEqual(['2', '4']);
  });

  it("folds a change parked before changes named their source as the aggregate's one source", () => {
    const named = orderChange(1, 10);
    const { source: _dropped, ...legacy } = orderChange(1, 20);
    const item = stored(
      named.position,
      { deleted: false, state: { id: 1 } },
      new Map([[named.source, named.position]]),
    );

    const result = foldChanges({
      item,
      changes: [pending(legacy as typeof named, '2'), pending(orderChange(1, 15), '3')],
      projection: mirrorProjection,
    });

    expect(result.applied.map((c) => c.origin.sequenceNumber)).toEqual(['2']);
    expect(result.duplicates.map((c) => c.origin.sequenceNumber)).toEqual(['3']);
    expect(result.next?.positions).toEqual(new Map([[named.source, orderChange(1, 20).position]]));
  });
});
