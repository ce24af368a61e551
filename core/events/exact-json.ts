/**
 * JSON parsing that loses no digits. `JSON.parse` turns `12345678901234567890` into `12345678901234567000`,
 * which would merge two aggregates whose bigint keys differ in the last digits and corrupt exact decimals.
 * Node 20 has no access to a number's source text from a reviver, so numbers that do not survive a double
 * are quoted before parsing and come out as exact decimal strings.
 */
import { fitsDouble } from './decimal.js';

/** A run of 16+ digits or a 3-digit exponent: the only number texts that can fail a round trip. */
const MAYBE_INEXACT = /\d[\d.]{15}|[eE][+-]?\d{3}/;
const NUMBER_TOKEN = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
/** Marks a quoted number inside the rewritten text; a raw JSON string cannot start with this escape's value. */
const MARK = '\u0001';
const MARK_ESCAPE = '\\u0001';

/** Holder object → property names whose string value was a JSON number in the source text. */
const exactNumbers = new WeakMap<object, Set<string>>();

function quoteInexactNumbers(text: string): string {
  const out: string[] = [];
  let copiedTo = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i++;
      while (i < text.length) {
        const s = text.charCodeAt(i);
        if (s === 0x5c /* \ */) i += 2;
        else if (s === 0x22) break;
        else i++;
      }
      i++;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      NUMBER_TOKEN.lastIndex = i;
      const token = NUMBER_TOKEN.exec(text)?.[0];
      if (token === undefined) {
        i++;
        continue;
      }
      if (!fitsDouble(token)) {
        out.push(text.slice(copiedTo, i), `"${MARK_ESCAPE}${token}"`);
        copiedTo = i + token.length;
      }
      i += token.length;
    } else i++;
  }
  if (copiedTo === 0) return text;
  out.push(text.slice(copiedTo));
  return out.join('');
}

function reviveExactNumber(this: unknown, key: string, value: unknown): unknown {
  if (typeof value === 'string' && value.startsWith(MARK)) {
    const holder = this as object;
    let keys = exactNumbers.get(holder);
    if (keys === undefined) {
      keys = new Set();
      exactNumbers.set(holder, keys);
    }
    keys.add(key);
    return value.slice(MARK.length);
  }
  return value;
}

/**
 * Parses JSON like `JSON.parse`, except that a number whose text does not survive a double becomes a string
 * holding its exact decimal text. Throws `SyntaxError` like `JSON.parse`.
 *
 * @example
 * ```ts
 * parseJsonExact('{"id": 12345678901234567890, "n": 1.5}'); // { id: '12345678901234567890', n: 1.5 }
 * ```
 */
function parseJsonExact(text: string): unknown {
  if (!MAYBE_INEXACT.test(text)) return JSON.parse(text);
  const rewritten = quoteInexactNumbers(text);
  return rewritten === text ? JSON.parse(text) : JSON.parse(rewritten, reviveExactNumber);
}

/**
 * True when `holder[key]` is a string only because {@link parseJsonExact} kept a large JSON number exact: it
 * was a number in the source, not a string (a Kafka Connect Decimal written as a number, not as base64). The
 * mark belongs to the parsed object itself: a copy (`structuredClone`, spread) does not carry it.
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

export { parseJsonExact, wasJsonNumber };
