import { describe, expect, it } from 'vitest';
import { parseJsonExact, wasJsonNumber } from '../../../core/events/exact-json.js';
import { getOwn } from '../../../core/events/json-value.js';
import { UnstorableError } from '../../../core/state/errors.js';
import { stateFromAttribute, stateToAttribute } from '../../../core/state/state-attribute.js';

function roundTrip(state: Record<string, unknown>) {
  const stored = stateToAttribute(state);
  return { stored, row: stateFromAttribute(stored.attribute, stored.exactNumbers) };
}

function unstorableOf(state: Record<string, unknown>): UnstorableError {
  try {
    stateToAttribute(state);
  } catch (error) {
    if (error instanceof UnstorableError) return error;
    throw error;
  }
  throw new Error('expected stateToAttribute to refuse the state');
}

describe('Function: stateToAttribute', () => {
  it('leaves undefined values out of maps and lists, as removeUndefinedValues does', () => {
    expect(stateToAttribute({ a: undefined, l: [1, undefined, 'x'] })).toEqual({
      attribute: { M: { l: { L: [{ N: '1' }, { S: 'x' }] } } },
      exactNumbers: undefined,
    });
  });

  it('stores exact-number strings of the decoders as DynamoDB numbers when they fit, and reads them back marked', () => {
    // Prepare
    const state = parseJsonExact(
      '{"id": 9223372036854775807, "d": 12345678901234567890123456789012345678, "s": "9223372036854775807", "l": [18446744073709551615]}',
    ) as Record<string, unknown>;

    // Act
    const { stored, row } = roundTrip(state);

    // Assert
    expect(stored.attribute.M).toMatchObject({
      id: { N: '9223372036854775807' },
      d: { N: '12345678901234567890123456789012345678' },
      s: { S: '9223372036854775807' },
      l: { L: [{ N: '18446744073709551615' }] },
    });
    expect(stored.exactNumbers).toBeUndefined();
    expect(row).toEqual(state);
    expect(wasJsonNumber(row, 'id')).toBe(true);
    expect(wasJsonNumber(row, 'd')).toBe(true);
    expect(wasJsonNumber(row, 's')).toBe(false);
    expect(wasJsonNumber(row.l as object, '0')).toBe(true);
  });

  it('keeps numbers DynamoDB cannot hold as their exact text, listed by path, and reads them back as numbers', () => {
    // Prepare
    const state = parseJsonExact(
      '{"huge": 123456789012345678901234567890123456789, "m": {"x": [1, 1e400]}, "tiny": 5e-324, "max": 1.7976931348623157e+308}',
    ) as Record<string, unknown>;
    Object.assign(state, { negativeZero: -0 });

    // Act
    const { stored, row } = roundTrip(state);

    // Assert
    expect(stored.attribute.M?.huge).toEqual({ S: '123456789012345678901234567890123456789' });
    expect(stored.exactNumbers).toEqual({
      L: [
        { L: [{ S: 'huge' }] },
        { L: [{ S: 'm' }, { S: 'x' }, { N: '1' }] },
        { L: [{ S: 'tiny' }] },
        { L: [{ S: 'max' }] },
        { L: [{ S: 'negativeZero' }] },
      ],
    });
    expect(row).toEqual(state);
    expect(wasJsonNumber(row, 'huge')).toBe(true);
    expect(wasJsonNumber((row.m as { x: object }).x, '1')).toBe(true);
    expect(row.tiny).toBe(5e-324);
    expect(row.max).toBe(1.7976931348623157e308);
    expect(Object.is(row.negativeZero, -0)).toBe(true);
  });

  it('stores JS numbers beyond 2^53 by their shortest exact text, read back as the same double', () => {
    const { stored, row } = roundTrip({ a: 2 ** 63, b: 1e21, c: 0.30000000000000004 });

    expect(stored.attribute.M).toEqual({
      a: { N: '9223372036854776000' },
      b: { N: '1e+21' },
      c: { N: '0.30000000000000004' },
    });
    expect(row).toEqual({ a: 2 ** 63, b: 1e21, c: 0.30000000000000004 });
  });

  it('keeps names such as __proto__ as own properties, and strings that start with U+0001 as strings', () => {
    const state = parseJsonExact(
      '{"__proto__": {"__proto__": 1}, "s": "\\u0001abc", "n": 12345678901234567890}',
    ) as Record<string, unknown>;

    const { row } = roundTrip(state);

    expect(Object.keys(row)).toEqual(['__proto__', 's', 'n']);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.keys(getOwn(row, '__proto__') as object)).toEqual(['__proto__']);
    expect(row.s).toBe('\u0001abc');
  });

  it('stores binary and sets as the SDK does, and a bigint as a number', () => {
    const { stored, row } = roundTrip({
      big: 12345678901234567890n,
      bytes: Uint8Array.of(1, 2),
      tags: new Set(['a']),
    });

    expect(stored.attribute).toEqual({
      M: { big: { N: '12345678901234567890' }, bytes: { B: Uint8Array.of(1, 2) }, tags: { SS: ['a'] } },
    });
    expect(row).toEqual({ big: '12345678901234567890', bytes: Uint8Array.of(1, 2), tags: new Set(['a']) });
    expect(wasJsonNumber(row, 'big')).toBe(true);
  });

  it.each([
    [{ id: 1, '': 'empty' }, 'state[""]', 'has an empty name', 'non-empty names'],
    [
      { m: { ['n'.repeat(50_001)]: 1 } },
      'state.m["nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn…"]',
      'name of 50001 bytes',
      '50000-byte names',
    ],
    [{ n: Number.POSITIVE_INFINITY }, 'state.n', 'Infinity', 'finite numbers'],
    [{ tags: new Set() }, 'state.tags', 'empty set', 'non-empty sets'],
    [{ at: new Date(0) }, 'state.at', 'holds a Date DynamoDB cannot store', 'JSON values, binary and sets'],
  ])('refuses what DynamoDB refuses, naming the path and the limit (%#)', (state, path, problem, limit) => {
    const error = unstorableOf(state);

    expect(error.path).toBe(path);
    expect(error.message).toContain(problem);
    expect(error.limit).toBe(limit);
  });

  it('refuses a row of 32 levels without walking deeper, and takes one of 31', () => {
    const nest = (levels: number) => {
      let value: unknown = [];
      for (let i = 1; i < levels; i++) value = [value];
      return value;
    };

    expect(() => stateToAttribute({ d: nest(30) })).not.toThrow();
    const error = unstorableOf({ d: nest(100_000) });
    expect(error.path).toBe(`state.d${'[0]'.repeat(30)}`);
    expect(error.message).toContain('32 levels deep');
  });
});
