import { RemovalPolicy } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { CdcProcessorPropsError } from '../../lib/errors.js';
import { type CdcProcessorProps, DEFAULTS, resolveProps } from '../../lib/props.js';

describe('Function: resolveProps', () => {
  it('fills every default', () => {
    const resolved = resolveProps({});
    expect(resolved).toMatchObject({ ...DEFAULTS, clusterManagerHeartbeatAlarmMinutes: 5 });
    expect(resolved.config.processing.maxAttempts).toBe(3);
    expect(resolved.streamEncryptionKey).toBeUndefined();
    expect(resolved.alarmTopic).toBeUndefined();
  });

  it.each<[Partial<CdcProcessorProps>, string]>([
    [{ shardCount: 0 }, 'CdcProcessor: shardCount must be an integer in 1..10000; received 0'],
    [{ shardCount: 1.5 }, 'CdcProcessor: shardCount must be an integer in 1..10000; received 1.5'],
    [
      { streamRetentionHours: 12 },
      'CdcProcessor: streamRetentionHours must be an integer in 24..8760; received 12',
    ],
    [{ batchSize: 10_001 }, 'CdcProcessor: batchSize must be an integer in 1..10000; received 10001'],
    [
      { maxBatchingWindowSeconds: 301 },
      'CdcProcessor: maxBatchingWindowSeconds must be an integer in 0..300; received 301',
    ],
    [
      { parallelizationFactor: 11 },
      'CdcProcessor: parallelizationFactor must be an integer in 1..10; received 11',
    ],
    [
      { maxRecordAgeSeconds: 30 },
      'CdcProcessor: maxRecordAgeSeconds must be an integer in 60..604800 or -1 (never); received 30',
    ],
    [
      { startingPosition: 'AT_TIMESTAMP' as never },
      `CdcProcessor: startingPosition must be 'TRIM_HORIZON' or 'LATEST'; received "AT_TIMESTAMP"`,
    ],
    [
      { failureQueueRetentionDays: 15 },
      'CdcProcessor: failureQueueRetentionDays must be an integer in 1..14; received 15',
    ],
    [
      { clusterManagerTimeoutSeconds: 60 },
      'CdcProcessor: clusterManagerTimeoutSeconds must be an integer in 1..59 (shorter than the schedule, so runs do not overlap); received 60',
    ],
    [
      { clusterManagerHeartbeatAlarmMinutes: 1 },
      'CdcProcessor: clusterManagerHeartbeatAlarmMinutes must be an integer in 2..1440 and at least twice the schedule, so one late run does not page anyone; received 1',
    ],
  ])('rejects %j naming the value and the range', (props, message) => {
    expect(() => resolveProps(props)).toThrow(CdcProcessorPropsError);
    expect(() => resolveProps(props)).toThrow(message);
  });

  it('rejects fewer Lambda retries than the handler needs to park a failing change', () => {
    expect(() => resolveProps({ retryAttempts: 2 })).toThrow(
      /retryAttempts must be -1 or at least config.processing.maxAttempts \(3\).*received 2$/,
    );
    expect(() => resolveProps({ retryAttempts: 4, config: { processing: { maxAttempts: 5 } } })).toThrow(
      /at least config.processing.maxAttempts \(5\)/,
    );
    expect(resolveProps({ retryAttempts: -1 }).retryAttempts).toBe(-1);
    expect(resolveProps({ retryAttempts: 5, config: { processing: { maxAttempts: 5 } } }).retryAttempts).toBe(
      5,
    );
  });

  it('keeps the shard count and parallelization within what the configured cluster manager allows', () => {
    expect(() => resolveProps({ shardCount: 8, config: { scaling: { maxShards: 4 } } })).toThrow(
      'CdcProcessor: shardCount must lie within config.scaling.minShards..maxShards (1..4), or the cluster ' +
        'manager reshards the stream right after the deploy; change one or the other; received 8',
    );
    expect(() =>
      resolveProps({ parallelizationFactor: 4, config: { scaling: { maxParallelizationFactor: 2 } } }),
    ).toThrow('parallelizationFactor must not exceed config.scaling.maxParallelizationFactor (2)');
  });

  it('rejects an invalid configuration with the schema errors', () => {
    expect(() => resolveProps({ config: { processing: { maxAttempts: 0 } } })).toThrow(
      /CdcProcessor: config is not a valid configuration .*maxAttempts.*received \{"processing":\{"maxAttempts":0\}\}/s,
    );
  });

  it('rejects DESTROY with deletion protection on, which CloudFormation could not carry out', () => {
    expect(() => resolveProps({ removalPolicy: RemovalPolicy.DESTROY })).toThrow(
      'CdcProcessor: deletionProtection must be false when removalPolicy is DESTROY, or CloudFormation cannot delete the tables; set both; received true',
    );
  });

  it('waits at least two cluster manager runs before the missing-heartbeat alarm', () => {
    expect(resolveProps({ clusterManagerScheduleMinutes: 10 }).clusterManagerHeartbeatAlarmMinutes).toBe(20);
    expect(() =>
      resolveProps({ clusterManagerScheduleMinutes: 10, clusterManagerHeartbeatAlarmMinutes: 15 }),
    ).toThrow(/clusterManagerHeartbeatAlarmMinutes must be an integer in 20\.\.1440/);
  });
});
