import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { STATE_TABLE } from '../constants.js';
import { canonicalNumber } from './item-size.js';
import type { ItemUpdate } from './state-item.js';

/** A state item as DynamoDB holds it: attribute name to value. */
type RawItem = Readonly<Record<string, AttributeValue>>;

/** A value as DynamoDB keeps it: numbers in its canonical notation (`1e+21` reads back as `1000…0`). */
function asStored(value: AttributeValue): AttributeValue {
  if (value.N !== undefined) return { N: canonicalNumber(value.N) };
  if (value.NS !== undefined) return { NS: value.NS.map(canonicalNumber) };
  if (value.L !== undefined) return { L: value.L.map(asStored) };
  if (value.M !== undefined)
    return { M: Object.fromEntries(Object.entries(value.M).map(([k, v]) => [k, asStored(v)])) };
  return value;
}

/**
 * The item after `update`, with the revision one higher (and, with a lock's `fence`, that fence stored):
 * what DynamoDB holds once the UpdateItem of the update committed on `stored` (absent: a new item). The
 * in-memory store keeps it; the DynamoDB store builds it from the old item its write returns, so a committed
 * write tells what it left without another read. Attributes the update does not name (a derived update's
 * `d.` fields) stay as they were.
 *
 * @example
 * ```ts
 * const after = itemAfter('public.orders#1', out.Attributes, update, fence);
 * ```
 */
function itemAfter(
  aggregateId: string,
  stored: RawItem | undefined,
  update: ItemUpdate,
  fence?: number,
): RawItem {
  const next: Record<string, AttributeValue> = {
    ...(stored ?? { [STATE_TABLE.partitionKey]: { S: aggregateId } }),
  };
  for (const [name, value] of Object.entries(update.set)) next[name] = asStored(value);
  for (const name of update.remove) delete next[name];
  const revision = Number(stored?.[STATE_TABLE.attributes.revision]?.N ?? 0);
  next[STATE_TABLE.attributes.revision] = { N: String(revision + 1) };
  if (fence !== undefined) next[STATE_TABLE.attributes.fence] = { N: String(fence) };
  return next;
}

export type { RawItem };
export { itemAfter };
