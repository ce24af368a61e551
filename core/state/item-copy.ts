import { keepJsonNumberMark } from '../events/exact-json.js';
import { setOwn } from '../events/json-value.js';

/** Bytes V8 takes, at least, for any object besides its properties (header, map, elements pointers). */
const OBJECT_OVERHEAD_BYTES = 32;
/** A property or element slot, or a boxed number. */
const SLOT_BYTES = 8;
/** A string's header. */
const STRING_OVERHEAD_BYTES = 16;

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * A deep copy of a value read from the state table (plain objects, arrays, sets, maps such as an item's
 * derived fields, binary and scalars), with
 * the exact-number marks of its strings kept (`wasJsonNumber`) and a `__proto__` key kept as an own property.
 * What a cache hands out is a copy, so a projection that changes the state it was given in place cannot change
 * what the cache holds.
 *
 * @example
 * ```ts
 * const item = copyStateValue(cached);
 * ```
 */
function copyStateValue<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const copy: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      copy[i] = copyStateValue(value[i]);
      keepJsonNumberMark(value, String(i), copy, String(i));
    }
    return copy as T;
  }
  if (value instanceof Set) return new Set([...value].map(copyStateValue)) as T;
  if (value instanceof Map)
    return new Map([...value].map(([key, entry]) => [key, copyStateValue(entry)])) as T;
  if (ArrayBuffer.isView(value)) return (value as unknown as Uint8Array).slice() as T;
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = Object.getPrototypeOf(value) === null ? Object.create(null) : {};
  for (const key of Object.keys(value)) {
    setOwn(copy, key, copyStateValue((value as Record<string, unknown>)[key]));
    keepJsonNumberMark(value, key, copy, key);
  }
  return copy as T;
}

/**
 * An estimate of the heap a value read from the state table takes, in bytes: 2 per UTF-16 unit of every
 * string (and property name) plus headers and slots. What bounds a cache's memory: it errs high for
 * one-byte strings, which V8 stores in 1 byte per character.
 *
 * @example
 * ```ts
 * const bytes = estimatedHeapBytes(item);
 * ```
 */
function estimatedHeapBytes(value: unknown): number {
  if (typeof value === 'string') return STRING_OVERHEAD_BYTES + 2 * value.length;
  if (typeof value !== 'object' || value === null) return SLOT_BYTES;
  if (Array.isArray(value)) {
    let bytes = OBJECT_OVERHEAD_BYTES;
    for (const element of value) bytes += SLOT_BYTES + estimatedHeapBytes(element);
    return bytes;
  }
  if (value instanceof Set) {
    let bytes = OBJECT_OVERHEAD_BYTES;
    for (const element of value) bytes += 2 * SLOT_BYTES + estimatedHeapBytes(element);
    return bytes;
  }
  if (value instanceof Map) {
    let bytes = OBJECT_OVERHEAD_BYTES;
    for (const [key, entry] of value)
      bytes += 2 * SLOT_BYTES + estimatedHeapBytes(key) + estimatedHeapBytes(entry);
    return bytes;
  }
  if (ArrayBuffer.isView(value)) return OBJECT_OVERHEAD_BYTES + value.byteLength;
  let bytes = OBJECT_OVERHEAD_BYTES;
  for (const key of Object.keys(value))
    bytes +=
      SLOT_BYTES +
      STRING_OVERHEAD_BYTES +
      2 * key.length +
      estimatedHeapBytes((value as Record<string, unknown>)[key]);
  return bytes;
}

export { copyStateValue, estimatedHeapBytes };
