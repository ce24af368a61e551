import { describe, expect, it } from 'vitest';
import {
  type DerivedField,
  DerivedUpdateError,
  derivedWrites,
  mergeDerived,
} from '../../../core/state/index.js';
import { toAggregateItem } from '../../../core/state/state-item.js';

const SOURCE = 'public.order_lines#1';

function merged(...updates: Parameters<typeof mergeDerived>[2][]): Map<string, Map<string, DerivedField>> {
  const gathered = new Map<string, Map<string, DerivedField>>();
  for (const u of updates) mergeDerived(gathered, SOURCE, u);
  return gathered;
}

describe('Function: mergeDerived', () => {
  it('sums adds of one field, per aggregate, across changes', () => {
    const out = merged(
      [{ aggregateId: 'o#1', add: { total: 5, lines: 1 } }],
      [
        { aggregateId: 'o#1', add: { total: -2n } },
        { aggregateId: 'o#2', add: { total: 1 } },
      ],
    );

    expect(out.get('o#1')).toEqual(
      new Map([
        ['total', { kind: 'add', by: 3n }],
        ['lines', { kind: 'add', by: 1n }],
      ]),
    );
    expect(out.get('o#2')?.get('total')).toEqual({ kind: 'add', by: 1n });
  });

  it('lets a later set win, and adds onto a set integer', () => {
    const out = merged(
      [{ aggregateId: 'o#1', add: { total: 5 }, set: { status: 'open' } }],
      [{ aggregateId: 'o#1', set: { total: 10, status: 'paid' } }],
      [{ aggregateId: 'o#1', add: { total: 2 } }],
    );

    expect(out.get('o#1')).toEqual(
      new Map<string, DerivedField>([
        ['total', { kind: 'set', value: 12 }],
        ['status', { kind: 'set', value: 'paid' }],
      ]),
    );
  });

  it.each([
    [[{ aggregateId: 'o#1', add: { total: 1.5 } }], /add\.total must be an integer .*received 1\.5/],
    [[{ aggregateId: 'o#1', add: { total: Number.NaN } }], /add\.total must be an integer/],
    [
      [{ aggregateId: 'o#1', set: { at: new Date(0) } }],
      /set\.at must be a string, a finite number, a boolean or null, received object/,
    ],
    [[{ aggregateId: 'o#1', add: { '': 1 } }], /field name "" must be 1 to 255 characters/],
    [[{ aggregateId: '', add: { n: 1 } }], /names no aggregateId/],
    [[{ aggregateId: SOURCE, add: { n: 1 } }], /derives an update of itself/],
  ])('refuses a malformed update as DERIVED_INVALID: %j', (updates, message) => {
    const attempt = () => merged(updates as never);

    expect(attempt).toThrow(DerivedUpdateError);
    expect(attempt).toThrow(message);
  });

  it('refuses an add onto a field set to text in the same write', () => {
    expect(() =>
      merged([{ aggregateId: 'o#1', set: { total: 'n/a' } }], [{ aggregateId: 'o#1', add: { total: 1 } }]),
    ).toThrow(/total is set to a non-integer and added to in one write/);
  });

  it('reads only own properties: a __proto__ field is a field', () => {
    const update = JSON.parse('{"aggregateId":"o#1","add":{"__proto__":3}}');

    const out = merged([update]);

    expect(out.get('o#1')?.get('__proto__')).toEqual({ kind: 'add', by: 3n });
    expect(({} as Record<string, unknown>).kind).toBeUndefined();
  });
});

describe('Function: derivedWrites', () => {
  it('orders the writes by aggregate id, the order locks are taken in', () => {
    const out = derivedWrites(
      merged([
        { aggregateId: 'o#2', add: { n: 1 } },
        { aggregateId: 'o#1', add: { n: 1 } },
      ]),
    );

    expect(out.map((w) => w.aggregateId)).toEqual(['o#1', 'o#2']);
  });
});

describe('Function: toAggregateItem, derived fields', () => {
  it('reads d.<field> attributes as derived fields, sums beyond 2^53 as bigint', () => {
    const item = toAggregateItem({
      aggregateId: { S: 'o#1' },
      rev: { N: '0' },
      'd.total': { N: '123456789012345678901' },
      'd.lines': { N: '2' },
      'd.status': { S: 'open' },
      'd.flag': { BOOL: true },
      'd.none': { NULL: true },
      fence: { N: '4' },
    });

    expect(item?.derived).toEqual(
      new Map<string, unknown>([
        ['total', 123456789012345678901n],
        ['lines', 2],
        ['status', 'open'],
        ['flag', true],
        ['none', null],
      ]),
    );
    expect(item?.fence).toBe(4);
    expect(item?.position).toBeUndefined();
  });
});
