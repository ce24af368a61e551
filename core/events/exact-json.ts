/**
 * JSON parsing that loses no digits and no nesting bound. `JSON.parse` turns `12345678901234567890` into
 * `12345678901234567000`, which would merge two aggregates whose bigint keys differ in the last digits and
 * corrupt exact decimals. Node 20 has no access to a number's source text from a reviver, so numbers that do
 * not survive a double are quoted before parsing and come out as exact decimal strings, marked as numbers.
 *
 * The same scan bounds the nesting depth before anything is parsed: `JSON.parse` itself is iterative, but a
 * reviver, `JSON.stringify` and every walk over a row recurse, so a record of 100,000 nested arrays would
 * overflow the stack later, in a place that cannot park it.
 */
import { fitsDouble } from './decimal.js';
import { DecodeError } from './errors.js';
import { REASON } from './reason-codes.js';

/**
 * Nesting levels a record may have. A change DynamoDB can store nests at most 32 levels; its record adds
 * the envelope, and DynamoDB's own JSON (`{"M": {…}}`) or a Kafka Connect schema doubles the levels, so 128
 * admits every storable change and keeps any recursion over a record shallow.
 */
const MAX_JSON_DEPTH = 128;

interface ParseJsonOptions {
  /** Nesting levels allowed (objects and arrays); deeper text throws `TOO_DEEP`. @default MAX_JSON_DEPTH */
  readonly maxDepth?: number;
}

/** A run of 16+ digits or a 3-digit exponent: the only number texts that can fail a round trip. */
const MAYBE_INEXACT = /\d[\d.]{15}|[eE][+-]?\d{3}/;
const NUMBER_TOKEN = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
/**
 * Starts every string value the rewritten text adds or changes: a quoted number is `"\u0001<digits>"`, and a
 * string value of the source that itself starts with U+0001 gets a second one, `"\u0001\u0001…"`, so the
 * reviver tells the two apart and gives every source string back byte for byte. (JSON cannot hold a raw
 * U+0001 in a string, only its escape, so the scan sees every such string.)
 */
const MARK = 1;
const MARK_ESCAPE = '\\u0001';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Holder object → property names whose string value was a JSON number in the source text. */
const exactNumbers = new WeakMap<object, Set<string>>();

function tooDeep(maxDepth: number, offset: number): DecodeError {
  return new DecodeError(
    REASON.TOO_DEEP,
    `record nests objects and arrays more than ${maxDepth} levels deep (at character ${offset}); no change that deep can be stored (DynamoDB allows 32 levels): fix the producer`,
  );
}

/** Index of the quote that closes the string opening at `start`, or the text's length if none does. */
function stringEnd(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return text.length;
    let backslashes = 0;
    for (let b = quote - 1; b > start && text.charCodeAt(b) === BACKSLASH; b--) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

/** True when the string ending before `from` is an object key (the next non-blank character is `:`). */
function isKey(text: string, from: number): boolean {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return c === 0x3a;
  }
  return false;
}

function fitsDoubleQuickly(token: string): boolean {
  // Up to 15 significant digits and no exponent always survive a double; the rest are checked.
  return (token.length <= 15 && !/[eE]/.test(token)) || fitsDouble(token);
}

/** What the scan stops at: structure, or structure and the start of a number. */
const STRUCTURE = /["[\]{}]/g;
const STRUCTURE_OR_NUMBER = /["[\]{}]|-?\d/g;

/**
 * One pass over the text: throws `TOO_DEEP` past `maxDepth` levels and, when `quoteNumbers`, returns the
 * text with inexact numbers quoted (or the text itself when none is). A regular expression finds the next
 * character that matters and `indexOf` the end of each string, so the pass runs at native speed between
 * them.
 */
function scan(text: string, maxDepth: number, quoteNumbers: boolean): string {
  const pattern = quoteNumbers ? STRUCTURE_OR_NUMBER : STRUCTURE;
  const out: string[] = [];
  let copiedTo = 0;
  let quoted = 0;
  let depth = 0;
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const i = match.index;
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (quoteNumbers && text.startsWith(MARK_ESCAPE, i + 1) && !isKey(text, end + 1)) {
        out.push(text.slice(copiedTo, i + 1), MARK_ESCAPE);
        copiedTo = i + 1;
      }
      pattern.lastIndex = end + 1;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > maxDepth) throw tooDeep(maxDepth, i);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
    else {
      NUMBER_TOKEN.lastIndex = i;
      const token = NUMBER_TOKEN.exec(text)![0];
      if (!fitsDoubleQuickly(token)) {
        out.push(text.slice(copiedTo, i), `"${MARK_ESCAPE}${token}"`);
        copiedTo = i + token.length;
        quoted++;
      }
      pattern.lastIndex = i + token.length;
    }
  }
  // Marked strings matter only when a reviver runs, that is when a number was quoted.
  if (quoted === 0) return text;
  out.push(text.slice(copiedTo));
  return out.join('');
}

function reviveExactNumber(this: unknown, key: string, value: unknown): unknown {
  if (typeof value !== 'string' || value.charCodeAt(0) !== MARK) return value;
  if (value.charCodeAt(1) !== MARK) markJsonNumber(this as object, key);
  return value.slice(1);
}

/**
 * Parses JSON like `JSON.parse`, except that a number whose text does not survive a double becomes a string
 * holding its exact decimal text (see {@link wasJsonNumber}), and text nesting deeper than
 * `options.maxDepth` throws a {@link DecodeError} `TOO_DEEP` before anything is parsed. Throws `SyntaxError`
 * like `JSON.parse` for text that is not JSON.
 *
 * @example
 * ```ts
 * parseJsonExact('{"id": 12345678901234567890, "n": 1.5}'); // { id: '12345678901234567890', n: 1.5 }
 * ```
 */
function parseJsonExact(text: string, options: ParseJsonOptions = {}): unknown {
  const rewritten = scan(text, options.maxDepth ?? MAX_JSON_DEPTH, MAYBE_INEXACT.test(text));
  return rewritten === text ? JSON.parse(text) : JSON.parse(rewritten, reviveExactNumber);
}

/**
 * True when `holder[key]` is a string only because it holds a JSON number exactly: {@link parseJsonExact}
 * kept a large number as its decimal text, or a decoder copied such a value, or a DynamoDB `N` value did not
 * survive a double. It was a number in the source, not a string. The mark belongs to the object holding the
 * value: decoders keep it on the row images they build, a copy made elsewhere (`structuredClone`, spread)
 * does not carry it.
 *
 * @example
 * ```ts
 * const row = parseJsonExact('{"d": 123456789876543212345678987654321.110}') as Record<string, unknown>;
 * wasJsonNumber(row, 'd'); // true
 * ```
 */
function wasJsonNumber(holder: object, key: string): boolean {
  return exactNumbers.get(holder)?.has(key) ?? false;
}

/**
 * Marks `holder[key]` as a number kept as its exact decimal text (see {@link wasJsonNumber}).
 *
 * @example
 * ```ts
 * const row = { id: '12345678901234567890' };
 * markJsonNumber(row, 'id');
 * ```
 */
function markJsonNumber(holder: object, key: string): void {
  let keys = exactNumbers.get(holder);
  if (keys === undefined) {
    keys = new Set();
    exactNumbers.set(holder, keys);
  }
  keys.add(key);
}

/**
 * Carries the number mark of `from[fromKey]` over to `to[toKey]`, for decoders that copy a value into a new
 * row image unchanged.
 *
 * @example
 * ```ts
 * out.price = row.price;
 * keepJsonNumberMark(row, 'price', out, 'price');
 * ```
 */
function keepJsonNumberMark(from: object, fromKey: string, to: object, toKey: string): void {
  if (wasJsonNumber(from, fromKey)) markJsonNumber(to, toKey);
}

/** Appends the JSON text of `value`, the value of `holder[key]`, to `out`; false when JSON leaves it out. */
function writeExact(value: unknown, holder: object, key: string, out: string[]): boolean {
  if (typeof value === 'string') {
    out.push(wasJsonNumber(holder, key) ? value : JSON.stringify(value));
    return true;
  }
  if (typeof value !== 'object' || value === null) {
    const text = JSON.stringify(value);
    if (text === undefined) return false;
    out.push(text);
    return true;
  }
  if (Array.isArray(value)) {
    out.push('[');
    value.forEach((item, i) => {
      if (i > 0) out.push(',');
      if (!writeExact(item, value, String(i), out)) out.push('null');
    });
    out.push(']');
    return true;
  }
  out.push('{');
  let first = true;
  for (const name of Object.keys(value)) {
    const mark = out.length;
    out.push(first ? '' : ',', JSON.stringify(name), ':');
    if (writeExact((value as Record<string, unknown>)[name], value, name, out)) first = false;
    else out.length = mark;
  }
  out.push('}');
  return true;
}

/**
 * `JSON.stringify` for parsed values, except that an exact-number string (see {@link wasJsonNumber}) is
 * written as the number it was, so {@link parseJsonExact} gives it back, marked. Own enumerable keys only
 * (`__proto__` included); plain JSON values only (no `toJSON`, no replacer).
 *
 * @example
 * ```ts
 * const row = parseJsonExact('{"id": 9223372036854775807}');
 * stringifyJsonExact(row); // '{"id":9223372036854775807}'
 * ```
 */
function stringifyJsonExact(value: unknown): string {
  const out: string[] = [];
  if (!writeExact(value, {}, '', out)) return 'null';
  return out.join('');
}

export type { ParseJsonOptions };
export {
  keepJsonNumberMark,
  MAX_JSON_DEPTH,
  markJsonNumber,
  parseJsonExact,
  stringifyJsonExact,
  wasJsonNumber,
};
