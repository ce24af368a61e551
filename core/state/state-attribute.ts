import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { convertToAttr, convertToNative } from '@aws-sdk/util-dynamodb';
import type { RowImage } from '../events/change.js';

/**
 * A projected state as a DynamoDB map and back, exactly (docs/architecture.md contract 6). `marshall` and
 * `unmarshall` fall short on valid rows: they drop a `__proto__` column on the way in and set the object's
 * prototype from one on the way out, and they refuse to read an integer above 2^53 back as a number. Maps are
 * built here with own properties only, and numbers read back as the doubles they were written from.
 *
 * @example
 * ```ts
 * const attribute = stateToAttribute(JSON.parse('{"__proto__": 1, "n": 1e20}'));
 * const row = stateFromAttribute(attribute); // own "__proto__" column, n === 1e20
 * ```
 */
function stateToAttribute(state: RowImage): AttributeValue {
  return toAttribute(state)!;
}

function stateFromAttribute(attribute: AttributeValue): RowImage {
  return fromAttribute(attribute) as RowImage;
}

/** Undefined for `undefined` (left out of maps and lists, as `removeUndefinedValues` does). */
function toAttribute(value: unknown): AttributeValue | undefined {
  if (value === undefined) return undefined;
  if (value === null) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'boolean') return { BOOL: value };
  if (typeof value === 'number' && Number.isFinite(value)) return { N: String(value) };
  if (Array.isArray(value)) return { L: value.flatMap((v) => toAttribute(v) ?? []) };
  if (isPlainObject(value)) {
    const entries: [string, AttributeValue][] = [];
    for (const [key, child] of Object.entries(value)) {
      const attribute = toAttribute(child);
      if (attribute !== undefined) entries.push([key, attribute]);
    }
    return { M: Object.fromEntries(entries) };
  }
  // Sets, binary, bigint, non-finite numbers: as the SDK stores (or refuses) them.
  return convertToAttr(value, { removeUndefinedValues: true });
}

function fromAttribute(attribute: AttributeValue): unknown {
  if (attribute.N !== undefined) return Number(attribute.N);
  if (attribute.L !== undefined) return attribute.L.map(fromAttribute);
  if (attribute.M !== undefined)
    return Object.fromEntries(Object.entries(attribute.M).map(([key, child]) => [key, fromAttribute(child)]));
  return convertToNative(attribute);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

export { stateFromAttribute, stateToAttribute };
