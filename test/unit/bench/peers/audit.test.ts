import { describe, expect, it } from 'vitest';
import {
  auditAgainstModel,
  ExpectedEffects,
  type ObservedAggregate,
} from '../../../../bench/lib/peers/audit.js';
import type { ChangeEvent, ChangeOp, RowImage } from '../../../../core/events/change.js';
import { ExpectedModel } from '../../../../localstack/workload/model.js';

let lsn = 0;
function change(aggregateId: string, op: ChangeOp, after: RowImage | null): ChangeEvent {
  lsn++;
  return {
    format: 'debezium',
    table: 'public.orders',
    aggregateId,
    op,
    source: 'debezium:dbserver1',
    position: `pg:${String(lsn).padStart(20, '0')}`,
    before: null,
    after,
    ts: null,
    txId: null,
  };
}

/** A model and expected counts from a list of changes, as the workload feed builds them. */
function produced(changes: readonly ChangeEvent[]): { model: ExpectedModel; effects: ExpectedEffects } {
  const model = new ExpectedModel();
  const effects = new ExpectedEffects();
  for (const c of changes) {
    model.apply(c);
    effects.produced(c);
  }
  return { model, effects };
}

describe('Function: auditAgainstModel', () => {
  const history = [
    change('a', 'create', { id: 1, v: 1 }),
    change('a', 'update', { id: 1, v: 2 }),
    change('b', 'create', { id: 2, v: 1 }),
    change('b', 'delete', null),
    change('c', 'create', { id: 3, v: 1 }),
  ];

  it('finds every aggregate correct when the state is the model and each change took effect once', () => {
    const { model, effects } = produced(history);
    const observed = new Map<string, ObservedAggregate>([
      ['a', { live: true, state: { id: 1, v: 2 }, applied: 2 }],
      ['c', { live: true, state: { id: 3, v: 1 }, applied: 1 }],
    ]);

    const result = auditAgainstModel(model, effects, observed, true);

    expect(result).toMatchObject({ aggregates: 3, correct: 3, stale: 0, resurrected: 0, missing: 0 });
    expect(result).toMatchObject({ appliedTwice: 0, withoutEffect: 0, examples: [] });
  });

  it('tells a stale row, a resurrected aggregate and a missing one apart', () => {
    const { model, effects } = produced(history);
    const observed = new Map<string, ObservedAggregate>([
      ['a', { live: true, state: { id: 1, v: 1 } }],
      ['b', { live: true, state: { id: 2, v: 1 } }],
    ]);

    const result = auditAgainstModel(model, effects, observed, false);

    expect(result).toMatchObject({ correct: 0, stale: 1, resurrected: 1, missing: 1 });
    expect(result.examples).toHaveLength(3);
    expect(result.examples[0]).toContain('a: {"id":1,"v":1}, expected {"id":1,"v":2}');
  });

  it('counts changes applied more than once, and changes whose effect an out-of-order delete erased', () => {
    const { model, effects } = produced(history);
    const observed = new Map<string, ObservedAggregate>([
      // a's update delivered twice; b brought back by a late duplicate of its create; c deleted by nothing
      // it produced, so its one change has no effect.
      ['a', { live: true, state: { id: 1, v: 2 }, applied: 3 }],
      ['b', { live: true, state: { id: 2, v: 1 }, applied: 1 }],
      ['c', { live: false, state: null }],
    ]);

    const result = auditAgainstModel(model, effects, observed, true);

    expect(result.appliedTwice).toBe(2);
    expect(result.withoutEffect).toBe(1);
    expect(result).toMatchObject({ correct: 1, resurrected: 1, missing: 1 });
  });

  it('treats a tombstone and an absent item alike for a deleted aggregate', () => {
    const { model, effects } = produced(history.slice(2, 4));

    const tombstone = auditAgainstModel(model, effects, new Map([['b', { live: false, state: null }]]), true);
    const absent = auditAgainstModel(model, effects, new Map(), true);

    expect(tombstone).toMatchObject({ correct: 1, appliedTwice: 0, withoutEffect: 0 });
    expect(absent).toMatchObject({ correct: 1, appliedTwice: 0, withoutEffect: 0 });
  });
});

describe('Class: ExpectedEffects', () => {
  it('counts the changes since the last delete, and none for an aggregate never produced', () => {
    const { effects } = produced([
      change('a', 'create', { id: 1 }),
      change('a', 'delete', null),
      change('a', 'create', { id: 1 }),
      change('a', 'update', { id: 1 }),
    ]);

    expect(effects.expected('a')).toBe(2);
    expect(effects.expected('never')).toBe(0);
  });
});
