import { describe, expect, it } from 'vitest';
import { dmsPosition, postgresPosition } from '../../../core/events/position.js';
import { itemSize } from '../../../core/state/item-size.js';
import {
  compareStamps,
  fieldStampsAttribute,
  fieldStampsOf,
  type WriterStamp,
} from '../../../core/state/source-marks.js';
import { attributeChanges } from '../../../core/state/state-changes.js';
import { itemUpdateOf } from '../../../core/state/state-item.js';
import type { StateValue } from '../../../core/state/state-store-port.js';

const PG = postgresPosition(24023128, 24023119);
const DMS = dmsPosition(
  '2024-07-29T00:58:17.983670Z',
  '49664459213214506049272029928136046394554240732946759682',
);
const TS = 1_722_214_697_983;
const dbz: WriterStamp = { source: 'debezium:dbserver1', ts: TS, position: PG };
const dms: WriterStamp = { source: 'dms', ts: TS, position: DMS };

/** Bytes of the item a value writes, as DynamoDB counts them, without `drop`'s attributes. */
function sizeOf(value: StateValue, drop: readonly string[] = []): number {
  const changes = attributeChanges({ value }, { kind: 'revision', expected: undefined }, 0, 3600);
  const { set } = itemUpdateOf('public.foo#42', changes);
  const kept = Object.fromEntries(Object.entries(set).filter(([name]) => !drop.includes(name)));
  return itemSize({ aggregateId: { S: 'public.foo#42' }, ...kept, rev: { N: '12' } });
}

describe('Function: compareStamps', () => {
  it('orders by commit time, then source id, then position, by UTF-8 bytes', () => {
    const stamps: WriterStamp[] = [
      { source: 'dms', ts: 2, position: 'a' },
      { source: 'debezium:x', ts: 2, position: 'b' },
      { source: 'debezium:x', ts: 2, position: 'a' },
      { source: '\u{1F600}', ts: 1, position: 'a' },
      { source: '\uFFFD', ts: 1, position: 'a' },
    ];

    const sorted = [...stamps].sort(compareStamps);

    expect(sorted).toEqual([stamps[4], stamps[3], stamps[2], stamps[1], stamps[0]]);
  });
});

describe('Function: fieldStampsAttribute', () => {
  it('stores each distinct stamp once and round-trips fields and the delete', () => {
    const stamps = {
      fields: new Map([
        ['a', dbz],
        ['b', dms],
        ['c', dbz],
      ]),
      deleted: dms,
    };

    const attribute = fieldStampsAttribute(stamps);

    expect(attribute.M?.w?.L).toHaveLength(2);
    expect(fieldStampsOf(attribute)).toEqual(stamps);
  });
});

describe('Source maps in the item size (the figures docs/state.md quotes)', () => {
  it('adds 160 bytes for one Debezium source, 168 for DMS beside it, 318 for field stamps of four fields', () => {
    const row = { id: 42, name: 'John', age: 33, attributes: '{"foo": "bar"}' };
    const one: StateValue = {
      table: 'public.foo',
      source: dbz.source,
      position: PG,
      deleted: false,
      state: row,
      positions: new Map([[dbz.source, PG]]),
      writer: dbz,
    };
    const two: StateValue = {
      ...one,
      positions: new Map([
        [dbz.source, PG],
        [dms.source, DMS],
      ]),
    };
    const merged: StateValue = {
      ...two,
      fieldStamps: {
        fields: new Map([
          ['id', dbz],
          ['name', dms],
          ['age', dbz],
          ['attributes', dms],
        ]),
        deleted: undefined,
      },
    };

    const bare = sizeOf(one, ['positions', 'writer']);

    expect([bare, sizeOf(one) - bare, sizeOf(two) - sizeOf(one), sizeOf(merged) - sizeOf(two)]).toEqual([
      196, 160, 168, 318,
    ]);
  });
});
