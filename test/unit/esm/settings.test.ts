import { describe, expect, it } from 'vitest';
import { laneOf } from '../../../core/esm/event-source-mapping.js';
import { mappingSettingProblem, mappingSettings } from '../../../core/esm/settings.js';

describe('Function: mappingSettings', () => {
  it('fills Lambda defaults and rejects out-of-range values with the value received', () => {
    expect(mappingSettings()).toMatchObject({
      batchSize: 100,
      parallelizationFactor: 1,
      maximumRetryAttempts: -1,
    });
    expect(() => mappingSettings({ maximumRecordAgeSeconds: 30 })).toThrow(
      'maximumRecordAgeSeconds must be an integer in 60..604800 or -1; received 30',
    );
    expect(() => mappingSettings({ startingPosition: 'AT_TIMESTAMP' as never })).toThrow(
      'startingPosition must be TRIM_HORIZON or LATEST; received "AT_TIMESTAMP"',
    );
  });

  it('says what a setting must be, for messages that name where the value came from', () => {
    expect(mappingSettingProblem('batchSize', 10_000)).toBeUndefined();
    expect(mappingSettingProblem('batchSize', 0)).toBe('an integer in 1..10000');
    expect(mappingSettingProblem('maximumRecordAgeSeconds', -1)).toBeUndefined();
    expect(mappingSettingProblem('parallelizationFactor', 2.5)).toBe('an integer in 1..10');
  });
});

describe('Function: laneOf', () => {
  it('puts one partition key always in the same lane and spreads keys over lanes', () => {
    const lanes = new Set(Array.from({ length: 200 }, (_, i) => laneOf(`key-${i}`, 4)));
    expect(lanes).toEqual(new Set([0, 1, 2, 3]));
    expect(laneOf('public.orders#1', 4)).toBe(laneOf('public.orders#1', 4));
  });
});
