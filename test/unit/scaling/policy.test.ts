import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../core/config/schema.js';
import { OptionsError } from '../../../core/errors.js';
import { DEFAULT_POLICY, policyFromConfig, scalingPolicy } from '../../../core/scaling/index.js';

describe('Function: scalingPolicy', () => {
  it('starts from the defaults and overrides field by field', () => {
    const policy = scalingPolicy({ minShards: 2, shedding: { lagCriticalMs: 600_000 } });

    expect(policy).toEqual({
      ...DEFAULT_POLICY,
      minShards: 2,
      shedding: { ...DEFAULT_POLICY.shedding, lagCriticalMs: 600_000 },
    });
    expect(policy.shedding).toEqual({ auto: true, lagCriticalMs: 600_000, lagRecoveredMs: 30_000 });
    expect(policy.limits).toEqual({
      recordsPerSecond: 1000,
      bytesPerSecond: 1_048_576,
      updateShardCountCallsPer24h: 10,
    });
  });

  it('rejects unsafe settings, naming the setting, the value received and the fix', () => {
    expect(() => scalingPolicy({ scaleInAfterMs: 60_000 })).toThrow(
      'scaleInAfterMs must be longer than scaleOutAfterMs (300000): the longer quiet window is the hysteresis; received 60000',
    );
    expect(() => scalingPolicy({ scaleInTargetUtilization: 0.8 })).toThrow(/below targetUtilization \(0.7\)/);
    expect(() => scalingPolicy({ minShards: 10, maxShards: 5 })).toThrow(OptionsError);
    expect(() => scalingPolicy({ updateShardCountReserve: 10 })).toThrow(
      /updateShardCountReserve must be a whole number from 0 to 9/,
    );
    expect(() => scalingPolicy({ maxParallelizationFactor: 11 })).toThrow(/received 11/);
    expect(() => scalingPolicy({ shedding: { lagRecoveredMs: 400_000 } })).toThrow(/shedding would flap/);
    expect(() => scalingPolicy({ mergeMaxUtilization: 0.95 })).toThrow(/would be split again/);
    expect(() => scalingPolicy({ workerScaleInTargetUtilization: 0.6 })).toThrow(
      'workerScaleInTargetUtilization must be above 0 and below workerTargetUtilization (0.6), or removing workers would call for adding them back; received 0.6',
    );
    expect(() => scalingPolicy({ workerMaxUtilization: 0.5 })).toThrow(
      /from workerTargetUtilization \(0.6\) to 1/,
    );
    expect(() => scalingPolicy({ workerSettleMs: -1 })).toThrow(/workerSettleMs must be a duration/);
  });
});

describe('Function: policyFromConfig', () => {
  it('maps the scaling and shedding sections of the configuration', () => {
    const config = parseConfig({
      scaling: {
        enabled: false,
        targetUtilization: 0.6,
        scaleOutAfterSeconds: 120,
        scaleInAfterSeconds: 3600,
        cooldownSeconds: 600,
        minShards: 2,
        maxShards: 200,
        maxParallelizationFactor: 5,
        updateShardCountReserve: 3,
        hotKeyShardShare: 0.5,
      },
      shedding: { auto: false, lagCriticalMs: 120_000, lagRecoveredMs: 10_000 },
    });

    expect(policyFromConfig(config)).toMatchObject({
      enabled: false,
      targetUtilization: 0.6,
      scaleOutAfterMs: 120_000,
      scaleInAfterMs: 3_600_000,
      scaleInTargetUtilization: 0.55,
      cooldownMs: 600_000,
      minShards: 2,
      maxShards: 200,
      maxParallelizationFactor: 5,
      updateShardCountReserve: 3,
      hotKeyShardShare: 0.5,
      parallelizationLagMs: 30_000,
      shedding: { auto: false, lagCriticalMs: 120_000, lagRecoveredMs: 10_000 },
    });
  });

  it('accepts the edge of the shedding ranges the schema allows (recovered = critical = 60 s)', () => {
    const config = parseConfig({ shedding: { lagCriticalMs: 60_000, lagRecoveredMs: 60_000 } });

    expect(policyFromConfig(config).shedding).toEqual({
      auto: true,
      lagCriticalMs: 60_000,
      lagRecoveredMs: 60_000,
    });
  });

  it('gives a valid policy at every corner of the ranges the schema allows', () => {
    const corners = (a: number, b: number) => [a, b];
    let checked = 0;
    for (const targetUtilization of corners(0.5, 1))
      for (const scaleInUtilization of corners(0.01, 0.25))
        for (const scaleOutAfterSeconds of corners(60, 900))
          for (const scaleInAfterSeconds of corners(901, 86_400))
            for (const scaleOutIteratorAgeMs of corners(1_000, 86_400_000))
              for (const updateShardCountReserve of corners(0, 9))
                for (const [lagCriticalMs, lagRecoveredMs] of [
                  [60_000, 60_000],
                  [86_400_000, 1_000],
                ] as const) {
                  const config = parseConfig({
                    scaling: {
                      targetUtilization,
                      scaleInUtilization,
                      scaleOutAfterSeconds,
                      scaleInAfterSeconds,
                      scaleOutIteratorAgeMs,
                      updateShardCountReserve,
                    },
                    shedding: { lagCriticalMs, lagRecoveredMs },
                  });
                  expect(() => policyFromConfig(config)).not.toThrow();
                  checked++;
                }
    expect(checked).toBe(128);
  });

  it('gives a valid policy for the default configuration and for every target the schema allows', () => {
    expect(policyFromConfig(parseConfig({}))).toMatchObject({
      targetUtilization: 0.7,
      scaleInTargetUtilization: 0.6,
    });
    expect(policyFromConfig(parseConfig({ scaling: { targetUtilization: 1 } })).maxShardUtilization).toBe(1);
    expect(
      policyFromConfig(parseConfig({ scaling: { targetUtilization: 0.5 } })).scaleInTargetUtilization,
    ).toBe(0.45);
  });
});
