import { describe, expect, it } from 'vitest';
import {
  DecodeError,
  fitsDouble,
  MAX_JSON_DEPTH,
  parseJsonExact,
  REASON,
  wasJsonNumber,
} from '../../../core/events/index.js';

const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

describe('Function: parseJsonExact', () => {
  it('keeps numbers a double would round as exact decimal strings, and marks them', () => {
    const value = parseJsonExact(
      '{"id": 12345678901234567890, "n": 1.5, "s": "12345678901234567890", "list": [9007199254740993, 2]}',
    ) as Record<string, unknown>;

    expect(value).toEqual({
      id: '12345678901234567890',
      n: 1.5,
      s: '12345678901234567890',
      list: ['9007199254740993', 2],
    });
    expect(wasJsonNumber(value, 'id')).toBe(true);
    expect(wasJsonNumber(value, 's')).toBe(false);
    expect(wasJsonNumber(value.list as object, '0')).toBe(true);
  });

  it('leaves numbers that survive a double as numbers', () => {
    expect(parseJsonExact('[1465491411815000000, 84.84, -0.5, 1e21, 12345.110]')).toEqual([
      1465491411815000000, 84.84, -0.5, 1e21, 12345.11,
    ]);
  });

  it('does not touch digits inside strings, escapes included', () => {
    expect(parseJsonExact('{"q": "a \\"12345678901234567890\\" b", "n": 123456789012345678901}')).toEqual({
      q: 'a "12345678901234567890" b',
      n: '123456789012345678901',
    });
  });

  it('keeps overflowing exponents exact instead of Infinity', () => {
    expect(parseJsonExact('{"x": 1e400}')).toEqual({ x: '1e400' });
  });

  it('throws SyntaxError like JSON.parse', () => {
    expect(() => parseJsonExact('{"id": 12345678901234567890')).toThrow(SyntaxError);
  });

  it('gives back strings that start with U+0001 byte for byte when the record also holds an inexact number', () => {
    const text =
      '{"s": "\\u0001abc", "t": "\\u0001\\u0001", "n": 12345678901234567890, "l": ["\\u000112345678901234567890"], "\\u0001k": "\\u0001"}';
    const value = parseJsonExact(text) as Record<string, unknown>;

    expect(value).toEqual(JSON.parse(text.replace('12345678901234567890,', '"12345678901234567890",')));
    expect(value.s).toBe('\u0001abc');
    expect(value.t).toBe('\u0001\u0001');
    expect(value.l).toEqual(['\u000112345678901234567890']);
    expect(wasJsonNumber(value, 'n')).toBe(true);
    expect(wasJsonNumber(value, 's')).toBe(false);
    expect(wasJsonNumber(value.l as object, '0')).toBe(false);
  });

  it('keeps an own __proto__ key exactly, beside an inexact number', () => {
    const value = parseJsonExact('{"__proto__": {"id": 77}, "n": 12345678901234567890}') as Record<
      string,
      unknown
    >;

    expect(Object.keys(value)).toEqual(['__proto__', 'n']);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(value.id).toBeUndefined();
  });

  it(`parses ${MAX_JSON_DEPTH} levels and refuses one more as TOO_DEEP, before parsing anything`, () => {
    expect(parseJsonExact(nested(MAX_JSON_DEPTH))).toHaveLength(1);
    expect(() => parseJsonExact(nested(MAX_JSON_DEPTH + 1))).toThrow(
      expect.objectContaining({ code: REASON.TOO_DEEP }),
    );
    // A record nesting 100,000 levels never reaches a recursive walk (a reviver would overflow the stack).
    const deep = `{"n": 12345678901234567890, "d": ${nested(100_000)}}`;
    expect(() => parseJsonExact(deep)).toThrow(DecodeError);
    expect(() => parseJsonExact(deep)).toThrow(/more than 128 levels deep \(at character 160\)/);
  });

  it('counts no bracket inside a string, escaped quotes included', () => {
    const text = `{"s": "${'['.repeat(500)}\\"${'{'.repeat(500)}", "n": 1}`;

    expect(parseJsonExact(text)).toEqual({ s: `${'['.repeat(500)}"${'{'.repeat(500)}`, n: 1 });
    expect(parseJsonExact(text, { maxDepth: 1 })).toEqual(JSON.parse(text));
  });

  it('keeps a number with a long run of zeros exact without quadratic work', () => {
    const digits = `1.${'0'.repeat(200_000)}1`;
    const value = parseJsonExact(`{"n": ${digits}}`) as Record<string, unknown>;

    expect(value.n).toBe(digits);
    expect(wasJsonNumber(value, 'n')).toBe(true);
  });
});

describe('Function: fitsDouble', () => {
  it('compares decimal values, not texts', () => {
    expect(fitsDouble('84.840')).toBe(true);
    expect(fitsDouble('-0')).toBe(true);
    expect(fitsDouble('9007199254740992')).toBe(true);
    expect(fitsDouble('9007199254740993')).toBe(false);
    expect(fitsDouble('0.1000000000000000055511151231257827')).toBe(false);
  });
});
