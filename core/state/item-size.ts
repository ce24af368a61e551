import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { plainDecimal, splitDecimal } from '../events/decimal.js';

/**
 * DynamoDB's limits on what an item may hold, and its own accounting of an item's size, so the consumer
 * decides before writing whether DynamoDB would refuse an item for good (docs/state.md, "What DynamoDB
 * refuses"). Measured on DynamoDB Local; the contract suite (`test/helpers/state-store-contract.ts`) checks
 * the accounting against the engine byte for byte.
 */

/** An item may hold 400 KB: 409,600 bytes of attribute names and values. */
const MAX_ITEM_BYTES = 409_600;
/** Significant digits of a number ("DynamoDB only supports precision up to 38 digits"). */
const MAX_NUMBER_DIGITS = 38;
/** Magnitudes of a number: from 1E-130 up to (not including) 1E+126. */
const MIN_NUMBER_EXPONENT = -130;
const MAX_NUMBER_EXPONENT = 125;
/** Levels of lists and maps one attribute may nest: 31 (32 counting the item). */
const MAX_ATTRIBUTE_DEPTH = 31;
/**
 * Bytes of a map key. DynamoDB documents 64 KB for attribute names; DynamoDB Local fails with an internal
 * error (HTTP 500, which looks transient) on a nested name above 50,000 bytes, so this is the bound both take.
 */
const MAX_NAME_BYTES = 50_000;

/** Bytes DynamoDB counts for a number: its exponent byte and one byte per pair of digits (base 100). */
function numberSize(text: string): number {
  const parts = splitDecimal(text);
  if (parts === undefined || parts.digits === '0') return 1;
  // Digits group in pairs aligned on the decimal point; leading and trailing zero pairs are dropped.
  const lowest = parts.exponent;
  const highest = parts.exponent + parts.digits.length - 1;
  const pairs = Math.floor(highest / 2) - Math.floor(lowest / 2) + 1;
  // A negative number below 20 pairs ends with a terminator byte.
  return 1 + pairs + (parts.negative && pairs < 20 ? 1 : 0);
}

/**
 * Why DynamoDB would refuse `text` as a number (`N`), or undefined when it takes it.
 *
 * @example
 * ```ts
 * numberProblem('12345678901234567890'); // undefined
 * numberProblem('1e400'); // 'its magnitude is above 9.99…E+125, the largest DynamoDB number'
 * ```
 */
function numberProblem(text: string): string | undefined {
  const parts = splitDecimal(text);
  if (parts === undefined) return 'it is not a decimal number';
  if (parts.digits === '0') return undefined;
  if (parts.digits.length > MAX_NUMBER_DIGITS)
    return `it has ${parts.digits.length} significant digits, more than the ${MAX_NUMBER_DIGITS} of a DynamoDB number`;
  const magnitude = parts.exponent + parts.digits.length - 1;
  if (magnitude > MAX_NUMBER_EXPONENT)
    return 'its magnitude is above 9.99…E+125, the largest DynamoDB number';
  if (magnitude < MIN_NUMBER_EXPONENT) return 'its magnitude is below 1E-130, the smallest DynamoDB number';
  return undefined;
}

/**
 * A number as DynamoDB gives it back: plain decimal notation, no exponent, no leading or trailing zeros
 * (`1e+21` → `1000000000000000000000`, `0.10` → `0.1`, `-0` → `0`). For numbers {@link numberProblem} accepts.
 */
function canonicalNumber(text: string): string {
  return plainDecimal(text) ?? text;
}

/** UTF-8 bytes of a string. */
function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Raw bytes of a binary value (base64 text, as the low-level API sends it, or bytes). */
function binarySize(value: Uint8Array | string): number {
  return typeof value === 'string' ? Buffer.from(value, 'base64').byteLength : value.byteLength;
}

/**
 * Bytes DynamoDB counts for one attribute value, without its name: strings by UTF-8 bytes, numbers by pairs
 * of significant digits, binary by raw bytes, null and booleans 1, sets the sum of their elements, lists and
 * maps 3 plus 1 per element plus their elements (and a map's key names). Iterative: no nesting overflows it.
 *
 * @example
 * ```ts
 * attributeSize({ L: [{ N: '1' }, { N: '2' }] }); // 3 + 2 × (1 + 2) = 9
 * ```
 */
function attributeSize(value: AttributeValue): number {
  let total = 0;
  const stack: AttributeValue[] = [value];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (v.S !== undefined) total += utf8Bytes(v.S);
    else if (v.N !== undefined) total += numberSize(v.N);
    else if (v.B !== undefined) total += binarySize(v.B);
    else if (v.BOOL !== undefined || v.NULL !== undefined) total += 1;
    else if (v.SS !== undefined) for (const s of v.SS) total += utf8Bytes(s);
    else if (v.NS !== undefined) for (const n of v.NS) total += numberSize(n);
    else if (v.BS !== undefined) for (const b of v.BS) total += binarySize(b);
    else if (v.L !== undefined) {
      total += 3 + v.L.length;
      for (const child of v.L) stack.push(child);
    } else if (v.M !== undefined) {
      total += 3;
      for (const [name, child] of Object.entries(v.M)) {
        total += 1 + utf8Bytes(name);
        stack.push(child);
      }
    }
  }
  return total;
}

/**
 * Bytes DynamoDB counts for an item: the names and values of its attributes.
 *
 * @example
 * ```ts
 * itemSize({ aggregateId: { S: 't#1' }, rev: { N: '3' } }); // (11 + 3) + (3 + 2) = 19
 * ```
 */
function itemSize(item: Readonly<Record<string, AttributeValue | undefined>>): number {
  let total = 0;
  for (const [name, value] of Object.entries(item))
    if (value !== undefined) total += utf8Bytes(name) + attributeSize(value);
  return total;
}

export {
  attributeSize,
  canonicalNumber,
  itemSize,
  MAX_ATTRIBUTE_DEPTH,
  MAX_ITEM_BYTES,
  MAX_NAME_BYTES,
  MAX_NUMBER_DIGITS,
  numberProblem,
  numberSize,
  utf8Bytes,
};
