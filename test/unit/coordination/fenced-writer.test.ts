import { describe, expect, it } from 'vitest';
import { conditions, fenceCondition } from '../../../core/coordination/index.js';
import { OptionsError } from '../../../core/errors.js';

describe('Function: fenceCondition', () => {
  it('builds the named condition that rejects a lower fence and the clause that stores the new one', () => {
    const condition = fenceCondition(42, { fenceAttribute: 'lockFence' });

    expect(condition).toEqual({
      conditionExpression: conditions.FENCE_NOT_LOWER,
      setClause: '#fence = :fence',
      names: { '#fence': 'lockFence' },
      values: { ':fence': { N: '42' } },
    });
    expect(conditions.FENCE_NOT_LOWER).toBe('attribute_not_exists(#fence) OR #fence <= :fence');
  });

  it('rejects a value that no grant produces', () => {
    expect(() => fenceCondition(0)).toThrow(OptionsError);
    expect(() => fenceCondition(1.5)).toThrow(/received 1.5/);
  });
});
