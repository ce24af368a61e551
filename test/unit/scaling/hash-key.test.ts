import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OptionsError } from '../../../core/errors.js';
import {
  adjacent,
  contains,
  hashKeyOf,
  hashRange,
  keyAtFraction,
  MAX_HASH_KEY,
  parseHashKey,
  shareOfKeySpace,
  uniformRanges,
  width,
} from '../../../core/scaling/index.js';

describe('Function: hashKeyOf', () => {
  it('reads the MD5 of the partition key as an unsigned 128-bit big-endian integer, as Kinesis routes', () => {
    const digest = createHash('md5').update('order-42').digest();
    const expected = digest.reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);

    expect(hashKeyOf('order-42')).toBe(expected);
    expect(hashKeyOf('order-42').toString()).toBe('105348682137155569515616584889439573452');
    expect(hashKeyOf('')).toBe(BigInt('0xd41d8cd98f00b204e9800998ecf8427e'));
  });

  it('hashes the UTF-8 bytes of the key', () => {
    expect(hashKeyOf('ä')).toBe(
      BigInt(`0x${createHash('md5').update(Buffer.from('ä', 'utf8')).digest('hex')}`),
    );
  });
});

describe('Function: uniformRanges', () => {
  it('covers the whole key space with touching, near-equal ranges', () => {
    const ranges = uniformRanges(3);

    expect(ranges[0]!.start).toBe(0n);
    expect(ranges.at(-1)!.end).toBe(MAX_HASH_KEY);
    for (let i = 0; i + 1 < ranges.length; i++) expect(adjacent(ranges[i]!, ranges[i + 1]!)).toBe(true);
    const widths = ranges.map(width);
    expect(widths.reduce((a, b) => a + b, 0n)).toBe(MAX_HASH_KEY + 1n);
    expect(Math.abs(shareOfKeySpace(ranges[0]!) - 1 / 3)).toBeLessThan(1e-12);
  });
});

describe('Function: adjacent', () => {
  it('is true only for ranges that touch, in either order', () => {
    const [a, b, c] = uniformRanges(3) as [
      ReturnType<typeof uniformRanges>[number],
      ReturnType<typeof uniformRanges>[number],
      ReturnType<typeof uniformRanges>[number],
    ];

    expect([adjacent(a, b), adjacent(b, a), adjacent(a, c)]).toEqual([true, true, false]);
  });
});

describe('Function: parseHashKey / hashRange', () => {
  it('parses the API decimal strings and rejects anything else with the value received', () => {
    expect(parseHashKey('340282366920938463463374607431768211455')).toBe(MAX_HASH_KEY);
    expect(() => parseHashKey('340282366920938463463374607431768211456')).toThrow(OptionsError);
    expect(() => parseHashKey('-1', 'NewStartingHashKey')).toThrow(
      'NewStartingHashKey must be a decimal integer between 0 and 2^128 − 1; received "-1"',
    );
    expect(() => hashRange('10', '9')).toThrow(
      /EndingHashKey must not be below StartingHashKey 10; received "9"/,
    );
  });
});

describe('Function: keyAtFraction', () => {
  it('returns a key that far into the range, kept inside it', () => {
    const range = { start: 100n, end: 199n };

    expect([keyAtFraction(range, 0), keyAtFraction(range, 0.5), keyAtFraction(range, 1)]).toEqual([
      100n,
      150n,
      199n,
    ]);
    expect(contains(range, keyAtFraction(range, 2))).toBe(true);
  });
});
