import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { STATE_TABLE } from '../constants.js';
import { REASON } from '../events/reason-codes.js';
import type { DerivedValue } from './aggregate-item.js';
import { DerivedUpdateError } from './errors.js';

/**
 * An update of another aggregate that a projection returns with a change (an order line adds to its order's
 * total). It needs no read of that aggregate: integers are added (`add`, absent fields start at 0) and fields
 * set (`set`), so it can be written in the same DynamoDB transaction as the change's own write, and applied
 * exactly once with it.
 *
 * @example
 * ```ts
 * const update: DerivedUpdate = { aggregateId: `public.orders#${line.order_id}`, add: { total: line.amount } };
 * ```
 */
interface DerivedUpdate {
  readonly aggregateId: string;
  /** Integers to add (cents, counts): exact, as DynamoDB's ADD is; a fraction is refused. */
  readonly add?: Readonly<Record<string, number | bigint>>;
  /** Values to set; a later set of the same field in the same write wins. */
  readonly set?: Readonly<Record<string, string | number | boolean | null>>;
}

/** What one write does to one derived field. */
type DerivedField =
  | { readonly kind: 'add'; readonly by: bigint }
  | { readonly kind: 'set'; readonly value: string | number | boolean | null };

/** The derived updates of one aggregate in one write, merged field by field. */
interface DerivedWrite {
  readonly aggregateId: string;
  readonly fields: ReadonlyMap<string, DerivedField>;
  /** The fence of the lock held on this aggregate: the write is refused if a higher one was stored. */
  readonly fence?: number;
}

/** DynamoDB's TransactWriteItems takes at most 100 items: the source write and 99 derived aggregates. */
const MAX_TRANSACTION_ITEMS = 100;
/** A derived field's name is kept as an attribute name; this bound keeps it far below DynamoDB's. */
const MAX_FIELD_NAME_LENGTH = 255;

function invalid(message: string): DerivedUpdateError {
  return new DerivedUpdateError(message, REASON.DERIVED_INVALID);
}

function fieldName(aggregateId: string, name: string): string {
  if (name.length === 0 || name.length > MAX_FIELD_NAME_LENGTH)
    throw invalid(
      `derived update of ${aggregateId}: field name "${name.slice(0, 40)}" must be 1 to ${MAX_FIELD_NAME_LENGTH} characters`,
    );
  return name;
}

function addend(aggregateId: string, name: string, value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  throw invalid(
    `derived update of ${aggregateId}: add.${name} must be an integer (a safe integer or a bigint; use cents for money), received ${String(value)}`,
  );
}

function settable(aggregateId: string, name: string, value: unknown): DerivedField {
  const ok =
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value));
  if (!ok)
    throw invalid(
      `derived update of ${aggregateId}: set.${name} must be a string, a finite number, a boolean or null, received ${typeof value}`,
    );
  return { kind: 'set', value: value as string | number | boolean | null };
}

/** A field after `next` follows `current` in the same write: adds sum, a set wins, an add onto a set number adds. */
function combine(aggregateId: string, name: string, current: DerivedField | undefined, next: DerivedField) {
  if (current === undefined || next.kind === 'set') return next;
  if (current.kind === 'add') return { kind: 'add', by: current.by + next.by } as const;
  if (typeof current.value === 'number' && Number.isSafeInteger(current.value))
    return { kind: 'set', value: Number(BigInt(current.value) + next.by) } as const;
  throw invalid(
    `derived update of ${aggregateId}: ${name} is set to a non-integer and added to in one write`,
  );
}

/**
 * Adds a change's derived updates to those already gathered for one write, merged per aggregate (a
 * transaction may name an item once). Throws {@link DerivedUpdateError} for a malformed update or one of the
 * source aggregate itself (its own state is the projection's result). Own properties only: input never
 * reaches a prototype.
 *
 * @example
 * ```ts
 * const gathered = new Map<string, Map<string, DerivedField>>();
 * mergeDerived(gathered, 'public.order_lines#7', [{ aggregateId: 'public.orders#1', add: { total: 250 } }]);
 * ```
 */
function mergeDerived(
  gathered: Map<string, Map<string, DerivedField>>,
  sourceAggregateId: string,
  updates: readonly DerivedUpdate[],
): void {
  for (const update of updates) {
    const id = update?.aggregateId;
    if (typeof id !== 'string' || id.length === 0)
      throw invalid(`a derived update of ${sourceAggregateId} names no aggregateId`);
    if (id === sourceAggregateId)
      throw invalid(`${sourceAggregateId} derives an update of itself; return its state from apply instead`);
    const fields = gathered.get(id) ?? new Map<string, DerivedField>();
    for (const [name, value] of Object.entries(update.add ?? {})) {
      const field = fieldName(id, name);
      fields.set(field, combine(id, field, fields.get(field), { kind: 'add', by: addend(id, name, value) }));
    }
    for (const [name, value] of Object.entries(update.set ?? {})) {
      const field = fieldName(id, name);
      fields.set(field, combine(id, field, fields.get(field), settable(id, name, value)));
    }
    if (fields.size > 0) gathered.set(id, fields);
  }
}

/** The item attribute a derived field is kept in. */
function derivedAttribute(field: string): string {
  return `${STATE_TABLE.derivedPrefix}${field}`;
}

/** The derived fields of a raw item, by field name; undefined when it has none. */
function derivedOf(raw: Readonly<Record<string, AttributeValue>>): Map<string, DerivedValue> | undefined {
  let found: Map<string, DerivedValue> | undefined;
  for (const [name, value] of Object.entries(raw)) {
    if (!name.startsWith(STATE_TABLE.derivedPrefix)) continue;
    found ??= new Map();
    found.set(name.slice(STATE_TABLE.derivedPrefix.length), derivedValueOf(value));
  }
  return found;
}

function derivedValueOf(value: AttributeValue): DerivedValue {
  if (value.N !== undefined) {
    const n = Number(value.N);
    return Number.isInteger(n) && !Number.isSafeInteger(n) ? BigInt(value.N) : n;
  }
  if (value.S !== undefined) return value.S;
  if (value.BOOL !== undefined) return value.BOOL;
  return null;
}

function derivedAttributeValue(value: string | number | boolean | null): AttributeValue {
  if (value === null) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'boolean') return { BOOL: value };
  return { N: String(value) };
}

/** The update clauses of a derived write: `SET` of set fields, `ADD` of added ones, with their placeholders. */
function derivedClauses(write: DerivedWrite): {
  sets: string[];
  adds: string[];
  names: Record<string, string>;
  values: Record<string, AttributeValue>;
} {
  const sets: string[] = [];
  const adds: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, AttributeValue> = {};
  let i = 0;
  for (const [field, change] of write.fields) {
    names[`#d${i}`] = derivedAttribute(field);
    if (change.kind === 'add') {
      values[`:d${i}`] = { N: change.by.toString() };
      adds.push(`#d${i} :d${i}`);
    } else {
      values[`:d${i}`] = derivedAttributeValue(change.value);
      sets.push(`#d${i} = :d${i}`);
    }
    i++;
  }
  return { sets, adds, names, values };
}

/** The item after a derived write, as DynamoDB would leave it (absent numbers start at 0). */
function applyDerivedWrite(
  raw: Readonly<Record<string, AttributeValue>>,
  write: DerivedWrite,
): Record<string, AttributeValue> {
  const next: Record<string, AttributeValue> = { ...raw };
  for (const [field, change] of write.fields) {
    const attribute = derivedAttribute(field);
    if (change.kind === 'set') next[attribute] = derivedAttributeValue(change.value);
    else {
      const current = next[attribute]?.N;
      next[attribute] = { N: ((current === undefined ? 0n : BigInt(current)) + change.by).toString() };
    }
  }
  return next;
}

/** The merged writes of a gathering, in a stable order (sorted ids: the same order locks are taken in). */
function derivedWrites(gathered: ReadonlyMap<string, ReadonlyMap<string, DerivedField>>): DerivedWrite[] {
  return [...gathered.keys()]
    .sort()
    .map((aggregateId) => ({ aggregateId, fields: gathered.get(aggregateId)! }));
}

export type { DerivedField, DerivedUpdate, DerivedWrite };
export {
  applyDerivedWrite,
  derivedAttribute,
  derivedAttributeValue,
  derivedClauses,
  derivedOf,
  derivedWrites,
  MAX_TRANSACTION_ITEMS,
  mergeDerived,
};
