/**
 * DynamoDB attribute values (`{"S": "x"}`, `{"N": "1.5"}`, …) to plain JSON values:
 *
 * | type | becomes |
 * |---|---|
 * | `S` | string |
 * | `N` | number, or the exact decimal string when it does not survive a double (marked: see `wasJsonNumber`) |
 * | `B` | base64 string, as DynamoDB sends it |
 * | `BOOL` | boolean |
 * | `NULL` | null |
 * | `SS` / `NS` / `BS` | array of the above, in the order received |
 * | `M` / `L` | object / array, recursively |
 *
 * Attribute names are own properties of the result, `__proto__` included. The recursion is as deep as the
 * record, which the parser bounds (`MAX_JSON_DEPTH`).
 */
import type { RowImage } from './change.js';
import { fitsDouble } from './decimal.js';
import { DecodeError } from './errors.js';
import { markJsonNumber } from './exact-json.js';
import { describeValue, isObject, setOwn } from './json-value.js';
import { REASON } from './reason-codes.js';

const NUMBER_TEXT = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function invalid(path: string, value: unknown, expected: string): DecodeError {
  return new DecodeError(
    REASON.INVALID_ENVELOPE,
    `DynamoDB attribute ${path} must be ${expected}, received ${describeValue(value)}`,
  );
}

function numberOf(text: unknown, path: string): number | string {
  if (typeof text !== 'string' || !NUMBER_TEXT.test(text)) throw invalid(path, text, 'a number string');
  return fitsDouble(text) ? Number(text) : text;
}

/** Puts a number into `holder[key]`, marking it when it stays its exact text. */
function putNumber(holder: object, key: string, text: unknown, path: string): number | string {
  const value = numberOf(text, path);
  if (typeof value === 'string') markJsonNumber(holder, key);
  return value;
}

function stringOf(value: unknown, path: string): string {
  if (typeof value !== 'string') throw invalid(path, value, 'a string');
  return value;
}

function arrayOf(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw invalid(path, value, 'an array');
  return value;
}

/**
 * Unmarshalls one attribute value; `path` names it in error messages.
 *
 * @example
 * ```ts
 * unmarshallValue({ N: '12345678901234567890' }, 'id'); // '12345678901234567890'
 * unmarshallValue({ L: [{ S: 'a' }, { BOOL: true }] }, 'tags'); // ['a', true]
 * ```
 */
function unmarshallValue(attribute: unknown, path: string): unknown {
  return unmarshallInto({}, '', attribute, path);
}

/** Unmarshalls `attribute` as the value of `holder[key]` (so an exact number can be marked there). */
function unmarshallInto(holder: object, key: string, attribute: unknown, path: string): unknown {
  if (!isObject(attribute)) throw invalid(path, attribute, 'an attribute value such as {"S": "text"}');
  const types = Object.keys(attribute);
  if (types.length !== 1) throw invalid(path, attribute, 'an attribute value with exactly one type key');
  const type = types[0]!;
  const value = attribute[type];
  switch (type) {
    case 'S':
    case 'B':
      return stringOf(value, path);
    case 'N':
      return putNumber(holder, key, value, path);
    case 'BOOL':
      if (typeof value !== 'boolean') throw invalid(path, value, 'a boolean');
      return value;
    case 'NULL':
      return null;
    case 'SS':
    case 'BS':
      return arrayOf(value, path).map((v, i) => stringOf(v, `${path}[${i}]`));
    case 'NS': {
      const numbers: unknown[] = [];
      for (const [i, v] of arrayOf(value, path).entries())
        numbers.push(putNumber(numbers, String(i), v, `${path}[${i}]`));
      return numbers;
    }
    case 'L': {
      const list: unknown[] = [];
      for (const [i, v] of arrayOf(value, path).entries())
        list.push(unmarshallInto(list, String(i), v, `${path}[${i}]`));
      return list;
    }
    case 'M':
      if (!isObject(value)) throw invalid(path, value, 'a map');
      return unmarshallImage(value, `${path}.`);
    default:
      throw invalid(path, attribute, 'one of S, N, B, SS, NS, BS, M, L, NULL, BOOL');
  }
}

/**
 * Unmarshalls an item image (`Keys`, `NewImage`, `OldImage`).
 *
 * @example
 * ```ts
 * unmarshallImage({ device: { S: 'foo' }, temperature: { N: '42.42' } }); // { device: 'foo', temperature: 42.42 }
 * ```
 */
function unmarshallImage(image: Record<string, unknown>, prefix = ''): RowImage {
  const row: RowImage = {};
  for (const [name, attribute] of Object.entries(image))
    setOwn(row, name, unmarshallInto(row, name, attribute, `${prefix}${name}`));
  return row;
}

export { unmarshallImage, unmarshallValue };
