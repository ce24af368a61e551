import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { STATE_TABLE } from '../constants.js';
import type { AggregateItem, PendingFailure, Quarantine } from './aggregate-item.js';
import { derivedAttributeValue, derivedOf } from './derived-update.js';
import { UnstorableError } from './errors.js';
import { itemSize, MAX_ITEM_BYTES } from './item-size.js';
import {
  fieldStampsAttribute,
  fieldStampsOf,
  positionsAttribute,
  positionsOf,
  stampAttribute,
  stampOf,
} from './source-marks.js';
import { stateFromAttribute, stateToAttribute } from './state-attribute.js';
import type { AttributeChanges, RemovableAttribute, SetAttributes } from './state-changes.js';
import { marksOfValue, type StateValue } from './state-store-port.js';

const A = STATE_TABLE.attributes;

/**
 * Bytes kept free in every item for what is recorded about it later (a quarantine, a pending failure, the
 * last parked key: their errors are bounded to 1 KB each), so that recording a failure of an aggregate whose
 * state is near the limit never makes the item too large.
 */
const BOOKKEEPING_RESERVE_BYTES = 8_192;
/** The most a written state, with its position and the item's key, may take. */
const MAX_VALUE_ITEM_BYTES = MAX_ITEM_BYTES - BOOKKEEPING_RESERVE_BYTES;

/** The item attribute each logical attribute of `attributeChanges` is stored in. */
const ATTRIBUTE_NAMES: Readonly<Record<keyof SetAttributes | RemovableAttribute, string>> = {
  updatedAt: A.updatedAt,
  position: A.position,
  deleted: A.deleted,
  table: A.table,
  state: A.state,
  pendingFailure: A.pendingFailure,
  quarantine: A.quarantine,
  lastParkedKey: A.lastParkedKey,
  ttlEpochSeconds: A.ttl,
  positions: A.positions,
  writer: A.writer,
  fieldStamps: A.fieldStamps,
};

/** The attributes of what a value records of its sources (positions, writer, field stamps). */
function sourceAttributes(
  changes: Pick<SetAttributes, 'positions' | 'writer' | 'fieldStamps'>,
): Record<string, AttributeValue> {
  const set: Record<string, AttributeValue> = {};
  if (changes.positions !== undefined) set[A.positions] = positionsAttribute(changes.positions);
  if (changes.writer !== undefined) set[A.writer] = stampAttribute(changes.writer);
  if (changes.fieldStamps !== undefined) set[A.fieldStamps] = fieldStampsAttribute(changes.fieldStamps);
  return set;
}

/** Attributes `itemUpdateOf` builds by hand rather than with `marshall`. */
const BUILT_APART: ReadonlySet<string> = new Set(['state', 'positions', 'writer', 'fieldStamps']);

/** What one write does to the item, in DynamoDB attributes: the values set and the names removed. */
interface ItemUpdate {
  readonly set: Readonly<Record<string, AttributeValue>>;
  readonly remove: readonly string[];
}

function marshalled(value: unknown): AttributeValue {
  return marshall({ v: value }, { removeUndefinedValues: true }).v!;
}

/**
 * Throws {@link UnstorableError} when the item of a state write (its key, the state and its position) would
 * leave less than the bookkeeping reserve of DynamoDB's 400 KB, counted as DynamoDB counts it.
 */
function checkValueItem(aggregateId: string, attributes: Readonly<Record<string, AttributeValue>>): void {
  const bytes = itemSize({
    [STATE_TABLE.partitionKey]: { S: aggregateId },
    ...attributes,
    [A.revision]: { N: '999999999' },
    [A.updatedAt]: { S: '2000-01-01T00:00:00.000Z' },
  });
  if (bytes > MAX_VALUE_ITEM_BYTES)
    throw new UnstorableError(
      `item of ${aggregateId.length > 80 ? `${aggregateId.slice(0, 80)}…` : aggregateId} would take ${bytes} bytes as DynamoDB counts them (names and values; numbers by pairs of digits, 1 byte per list or map element), more than ${MAX_VALUE_ITEM_BYTES} (the 409,600-byte item limit less ${BOOKKEEPING_RESERVE_BYTES} kept for bookkeeping)`,
      { path: 'item', limit: '400 KB per item', aggregateId },
    );
}

/** The attributes of a projected state, its exact-number paths included (removed when there is none). */
function stateAttributes(value: Pick<StateValue, 'state'>): {
  set: Record<string, AttributeValue>;
  remove: string[];
} {
  if (value.state === null) return { set: {}, remove: [A.state, A.exactNumbers] };
  const stored = stateToAttribute(value.state);
  return stored.exactNumbers === undefined
    ? { set: { [A.state]: stored.attribute }, remove: [A.exactNumbers] }
    : { set: { [A.state]: stored.attribute, [A.exactNumbers]: stored.exactNumbers }, remove: [] };
}

/**
 * The attributes an item keeps through its owner's writes, which count towards its size: the fields other
 * aggregates derive onto it (`d.<field>`) and the fence of the last lock holder that wrote it.
 */
function carriedAttributes(carried: Pick<AggregateItem, 'derived' | 'fence'> | undefined) {
  const set: Record<string, AttributeValue> = {};
  for (const [name, value] of carried?.derived ?? [])
    set[`${STATE_TABLE.derivedPrefix}${name}`] =
      typeof value === 'bigint' ? { N: value.toString() } : derivedAttributeValue(value);
  if (carried?.fence !== undefined) set[A.fence] = { N: String(carried.fence) };
  return set;
}

/**
 * Throws {@link UnstorableError} when DynamoDB would refuse the state of `value` for good: a value it cannot
 * hold, or an item over the size limit (less the bookkeeping reserve), its per-source positions, writer and
 * field stamps counted, and what the stored item keeps through the write (`carried`: its derived fields and
 * lock fence). The consumer checks each change's state with it before writing, so that the change that makes
 * the state unstorable is the one parked.
 *
 * @example
 * ```ts
 * checkStorable('public.t#1', { table: 'public.t', position, deleted: false, state: row }, item);
 * ```
 */
function checkStorable(
  aggregateId: string,
  value: StateValue,
  carried?: Pick<AggregateItem, 'derived' | 'fence'>,
): void {
  const { set } = stateAttributes(value);
  checkValueItem(aggregateId, {
    ...carriedAttributes(carried),
    ...set,
    ...sourceAttributes({ ...marksOfValue(value), fieldStamps: value.fieldStamps }),
    [A.position]: { S: value.position },
    [A.table]: { S: value.table },
    [A.deleted]: { BOOL: value.deleted },
  });
}

/**
 * The DynamoDB attributes a write sets and removes. A write of a state is checked against DynamoDB's limits
 * first ({@link checkStorable}); the other attributes are small and bounded.
 */
function itemUpdateOf(aggregateId: string, changes: AttributeChanges): ItemUpdate {
  const set: Record<string, AttributeValue> = {};
  const remove: string[] = [];
  for (const [name, value] of Object.entries(changes.set) as [keyof SetAttributes, unknown][]) {
    if (value === undefined) continue;
    if (!BUILT_APART.has(name)) set[ATTRIBUTE_NAMES[name]] = marshalled(value);
  }
  Object.assign(set, sourceAttributes(changes.set));
  if (changes.set.state !== undefined || changes.remove.includes('state')) {
    const state = stateAttributes({ state: changes.set.state ?? null });
    Object.assign(set, state.set);
    remove.push(...state.remove);
  }
  for (const name of changes.remove) if (name !== 'state') remove.push(ATTRIBUTE_NAMES[name]);
  if (changes.set.state !== undefined) checkValueItem(aggregateId, set);
  return { set, remove };
}

/** A state item as read, or undefined for none. */
function toAggregateItem(
  raw: Readonly<Record<string, AttributeValue>> | undefined,
): AggregateItem | undefined {
  if (raw === undefined) return undefined;
  // The state goes through its own converter: `unmarshall` would give a `__proto__` column to the prototype
  // and refuse integers beyond 2^53.
  // So do the source maps: their keys are source ids and column names.
  const {
    [A.state]: state,
    [A.exactNumbers]: exactNumbers,
    [A.positions]: positions,
    [A.writer]: writer,
    [A.fieldStamps]: fieldStamps,
    ...rest
  } = raw;
  // Derived fields are read apart: a sum may pass 2^53, which `unmarshall` refuses.
  const item = unmarshall(
    Object.fromEntries(Object.entries(rest).filter(([name]) => !name.startsWith(STATE_TABLE.derivedPrefix))),
  );
  const position = item[A.position] as string | undefined;
  return {
    aggregateId: item[STATE_TABLE.partitionKey] as string,
    table: item[A.table] as string | undefined,
    position,
    positions: positionsOf(positions, position),
    writer: stampOf(writer),
    fieldStamps: fieldStampsOf(fieldStamps),
    deleted: item[A.deleted] === true,
    state: state === undefined ? null : stateFromAttribute(state, exactNumbers),
    revision: (item[A.revision] as number | undefined) ?? 0,
    quarantine: item[A.quarantine] as Quarantine | undefined,
    lastParkedKey: item[A.lastParkedKey] as string | undefined,
    pendingFailure: item[A.pendingFailure] as PendingFailure | undefined,
    ttlEpochSeconds: item[A.ttl] as number | undefined,
    ...optionalFields(raw, item[A.fence] as number | undefined),
  };
}

/** The fields only some items have: derived fields, the lock fence. */
function optionalFields(
  raw: Readonly<Record<string, AttributeValue>>,
  fence: number | undefined,
): Pick<AggregateItem, 'derived' | 'fence'> {
  const derived = derivedOf(raw);
  return { ...(derived === undefined ? {} : { derived }), ...(fence === undefined ? {} : { fence }) };
}

export type { ItemUpdate };
export { BOOKKEEPING_RESERVE_BYTES, checkStorable, itemUpdateOf, MAX_VALUE_ITEM_BYTES, toAggregateItem };
