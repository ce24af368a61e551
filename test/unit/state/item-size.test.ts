import { describe, expect, it } from 'vitest';
import {
  attributeSize,
  canonicalNumber,
  itemSize,
  numberProblem,
  numberSize,
} from '../../../core/state/item-size.js';

// Sizes measured on DynamoDB Local: the largest padding string an item with the value still takes.
describe('Function: numberSize', () => {
  it.each([
    ['0', 1],
    ['-0', 1],
    ['1', 2],
    ['10', 2],
    ['12', 2],
    ['100', 2],
    ['123', 3],
    ['1234', 3],
    ['0.5', 2],
    ['0.01', 2],
    ['1.5', 3],
    ['12.3', 3],
    ['1.23', 3],
    ['123.4', 4],
    ['00012.500', 3],
    ['1E+2', 2],
    ['1e125', 2],
    ['1e-130', 2],
    ['-1', 3],
    ['-0.5', 3],
    ['-1234', 4],
    ['12345678901234567890123456789012345678', 20],
    ['1234567890123456789012345678901234567', 20],
    ['-12345678901234567890123456789012345678', 21],
    ['-1234567890123456789012345678901234567', 21],
    ['1.2345678901234567890123456789012345678', 21],
    // 20 pairs: no terminator byte after a negative number.
    ['-1.2345678901234567890123456789012345678', 21],
    ['9.9999999999999999999999999999999999999E+125', 20],
    ['1000000000000000000000000000000000000000', 2],
  ])('counts %s as %i bytes', (text, bytes) => {
    expect(numberSize(text)).toBe(bytes);
  });
});

describe('Function: numberProblem', () => {
  it('accepts what DynamoDB takes as a number', () => {
    for (const text of [
      '0',
      '-0',
      '1e125',
      '1e-130',
      '9223372036854775807',
      '1000000000000000000000000000000000000000',
    ])
      expect(numberProblem(text), text).toBeUndefined();
  });

  it.each([
    ['123456789012345678901234567890123456789', '39 significant digits, more than the 38'],
    ['1e126', 'above 9.99…E+125'],
    ['1e400', 'above 9.99…E+125'],
    ['1.7976931348623157e+308', 'above 9.99…E+125'],
    ['1e-131', 'below 1E-130'],
    ['5e-324', 'below 1E-130'],
    ['abc', 'not a decimal number'],
  ])('refuses %s: %s', (text, problem) => {
    expect(numberProblem(text)).toContain(problem);
  });
});

describe('Function: canonicalNumber', () => {
  it.each([
    ['1e+21', '1000000000000000000000'],
    ['1E2', '100'],
    ['0.10', '0.1'],
    ['-0', '0'],
    ['-0.000', '0'],
    ['1.5e-7', '0.00000015'],
    ['00012.500', '12.5'],
    ['1234567890123456789012.0', '1234567890123456789012'],
    ['123456789.123456789e-5', '1234.56789123456789'],
  ])('gives %s back as DynamoDB does: %s', (text, canonical) => {
    expect(canonicalNumber(text)).toBe(canonical);
  });
});

describe('Function: attributeSize and itemSize', () => {
  it('counts strings, binary, booleans, null and sets as DynamoDB does', () => {
    expect(attributeSize({ S: 'é' })).toBe(2);
    expect(attributeSize({ S: '' })).toBe(0);
    expect(attributeSize({ B: Uint8Array.of(1, 2, 3) })).toBe(3);
    expect(attributeSize({ BOOL: true })).toBe(1);
    expect(attributeSize({ NULL: true })).toBe(1);
    expect(attributeSize({ SS: ['x', 'yy'] })).toBe(3);
    expect(attributeSize({ NS: ['1', '12'] })).toBe(4);
  });

  it('counts 3 bytes per list or map, 1 per element, and the names in a map', () => {
    expect(attributeSize({ L: [] })).toBe(3);
    expect(attributeSize({ M: {} })).toBe(3);
    expect(attributeSize({ L: [{ S: 'x' }, { S: 'y' }] })).toBe(7);
    expect(attributeSize({ M: { b: { S: 'x' } } })).toBe(6);
    expect(attributeSize({ L: [{ L: [] }] })).toBe(7);
  });

  it('counts a 300 KB JSON list of single digits as about 450 KB', () => {
    const list = { L: Array.from({ length: 150_000 }, () => ({ N: '7' })) };

    expect(attributeSize(list)).toBe(3 + 150_000 * 3);
  });

  it('adds the names of the top-level attributes, and measures 100,000 nested lists without recursion', () => {
    let deep: { L: unknown[] } = { L: [] };
    for (let i = 0; i < 100_000; i++) deep = { L: [deep] };

    expect(itemSize({ aggregateId: { S: 't#1' }, rev: { N: '3' } })).toBe(11 + 3 + 3 + 2);
    expect(attributeSize(deep as never)).toBe(3 + 100_000 * 4);
  });
});
