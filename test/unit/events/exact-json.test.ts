import { describe, expect, it } from 'vitest';
import { fitsDouble, parseJsonExact, wasJsonNumber } from '../../../core/events/index.js';

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
