import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { StreamMode } from 'aws-cdk-lib/aws-kinesis';
import { describe, expect, it } from 'vitest';
import { CdcProcessorPropsError } from '../../lib/errors.js';
import { type CdcProcessorProps, DEFAULTS, resolveProps } from '../../lib/props.js';

describe('Function: resolveProps', () => {
  it('fills every default', () => {
    const resolved = resolveProps({});
    expect(resolved).toMatchObject({
      streamMode: DEFAULTS.streamMode,
      shardCount: 2,
      streamRetentionHours: 24,
      consumerTimeoutSeconds: 60,
      maxBatchingWindowSeconds: 0,
      maxRecordAgeSeconds: -1,
      failedBatchesRetentionDays: 14,
      clusterManagerScheduleMinutes: 1,
      clusterManagerTimeoutSeconds: 50,
      configDeploymentDurationMinutes: 5,
      configFinalBakeTimeMinutes: 5,
      configGrowthFactor: 20,
      iteratorAgeAlarmThresholdMs: 60_000,
      sourceLatencyAlarmThresholdMs: 300_000,
      runbookUrl: 'docs/operations.md',
      tracing: true,
      clusterManagerHeartbeatAlarmMinutes: 5,
      dashboard: true,
      projectionEntry: undefined,
      stream: undefined,
    });
    expect(resolved.config.processing.maxAttempts).toBe(3);
    expect(resolved.streamEncryptionKey).toBeUndefined();
    expect(resolved.alarmTopic).toBeUndefined();
  });

  it.each<[Partial<CdcProcessorProps>, string]>([
    [{ shardCount: 0 }, 'CdcProcessor: shardCount must be an integer in 1..10000; received 0'],
    [{ shardCount: 1.5 }, 'CdcProcessor: shardCount must be an integer in 1..10000; received 1.5'],
    [
      { streamRetention: Duration.hours(12) },
      'CdcProcessor: streamRetention must be a whole number of hours in 24..8760; received Duration 12 hours',
    ],
    [
      { streamRetention: Duration.minutes(1470) },
      'CdcProcessor: streamRetention must be a whole number of hours in 24..8760; received Duration 1 day 30 minutes',
    ],
    [{ batchSize: 10_001 }, 'CdcProcessor: batchSize must be an integer in 1..10000; received 10001'],
    [
      { maxBatchingWindow: Duration.seconds(301) },
      'CdcProcessor: maxBatchingWindow must be a whole number of seconds in 0..300; received Duration 5 minutes 1 second',
    ],
    [
      { parallelizationFactor: 11 },
      'CdcProcessor: parallelizationFactor must be an integer in 1..10; received 11',
    ],
    [
      { maxRecordAge: Duration.seconds(30) },
      'CdcProcessor: maxRecordAge must be a whole number of seconds in 60..604800; received Duration 30 seconds',
    ],
    [
      { startingPosition: 'AT_TIMESTAMP' as never },
      `CdcProcessor: startingPosition must be 'TRIM_HORIZON' or 'LATEST'; received "AT_TIMESTAMP"`,
    ],
    [
      { failedBatchesRetention: Duration.days(366) },
      'CdcProcessor: failedBatchesRetention must be a whole number of days in 1..365; received Duration 366 days',
    ],
    [
      { clusterManagerTimeout: Duration.seconds(60) },
      'CdcProcessor: clusterManagerTimeout must be a whole number of seconds in 1..59 (shorter than the schedule, so runs do not overlap); received Duration 1 minute',
    ],
    [
      { clusterManagerHeartbeatAlarmPeriod: Duration.minutes(1) },
      'CdcProcessor: clusterManagerHeartbeatAlarmPeriod must be a whole number of minutes in 2..1440 and at least twice the schedule, so one late run does not page anyone; received Duration 1 minute',
    ],
    [
      { configGrowthFactor: 0 },
      'CdcProcessor: configGrowthFactor must be an integer in 1..100 (percent of the consumers per step); received 0',
    ],
    [
      { runbookUrl: 'https://wiki.example.com/cdc#runbook' },
      `CdcProcessor: runbookUrl must be the runbook's URL or path without a #fragment (each alarm adds its section's anchor); received "https://wiki.example.com/cdc#runbook"`,
    ],
    [
      { consumerTimeout: 60 as never },
      'CdcProcessor: consumerTimeout must be a Duration of a whole number of seconds in 1..900; received 60',
    ],
    [
      { streamMode: StreamMode.ON_DEMAND, shardCount: 4, config: { scaling: { enabled: false } } },
      'CdcProcessor: shardCount has no meaning for an ON_DEMAND stream; leave it out; received 4',
    ],
    [
      { streamMode: StreamMode.ON_DEMAND },
      'CdcProcessor: streamMode sizes the stream itself, so the cluster manager must not reshard it: set config.scaling.enabled to false; received "ON_DEMAND"',
    ],
    [
      { projectionEntry: '' },
      'CdcProcessor: projectionEntry must be the path of a projection module; received ""',
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
    const schedule = Duration.minutes(10);
    expect(resolveProps({ clusterManagerSchedule: schedule }).clusterManagerHeartbeatAlarmMinutes).toBe(20);
    expect(() =>
      resolveProps({
        clusterManagerSchedule: schedule,
        clusterManagerHeartbeatAlarmPeriod: Duration.minutes(15),
      }),
    ).toThrow(/clusterManagerHeartbeatAlarmPeriod must be a whole number of minutes in 20\.\.1440/);
  });
});
