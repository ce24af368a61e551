import { describe, expect, it } from 'vitest';
import { stateFromAttribute, stateToAttribute } from '../../../core/state/state-attribute.js';

describe('Function: stateToAttribute', () => {
  it('leaves undefined values out of maps and lists, as removeUndefinedValues does', () => {
    expect(stateToAttribute({ a: undefined, l: [1, undefined, 'x'] })).toEqual({
      M: { l: { L: [{ N: '1' }, { S: 'x' }] } },
    });
  });

  it('stores values JSON does not have as the SDK stores them, and refuses what DynamoDB cannot hold', () => {
    const attribute = stateToAttribute({
      big: 12345678901234567890n,
      bytes: Uint8Array.of(1, 2),
      tags: new Set(['a']),
    });

    expect(attribute).toEqual({
      M: { big: { N: '12345678901234567890' }, bytes: { B: Uint8Array.of(1, 2) }, tags: { SS: ['a'] } },
    });
    expect(stateFromAttribute(attribute)).toEqual({
      big: 12345678901234567000,
      bytes: Uint8Array.of(1, 2),
      tags: new Set(['a']),
    });
    expect(() => stateToAttribute({ n: Number.POSITIVE_INFINITY })).toThrow();
  });
});
