/**
 * CloudWatchMetricsSource against aws-sdk-client-mock: GetMetricData is an AWS-only API (docs/architecture.md §12).
 */
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { OptionsError } from '../../../core/errors.js';
import { CloudWatchMetricsSource, hashKeyOf, ScalingIoError } from '../../../core/scaling/index.js';
import { evenShards, MINUTE, NOW } from '../../helpers/scaling.js';

const cloudWatch = mockClient(CloudWatchClient);
const client = new CloudWatchClient({ region: 'us-east-1' });

/** Answers every query with `value(id, minuteStart)` for each minute of the request. */
function answer(value: (id: string, atMs: number) => number | undefined) {
  cloudWatch
    .on(GetMetricDataCommand)
    .callsFake((input: { MetricDataQueries: MetricDataQuery[]; StartTime: Date; EndTime: Date }) => ({
      MetricDataResults: input.MetricDataQueries.map((q) => {
        const timestamps: Date[] = [];
        const values: number[] = [];
        for (let t = input.StartTime.getTime(); t < input.EndTime.getTime(); t += MINUTE) {
          const v = value(q.Id!, t);
          if (v !== undefined) {
            timestamps.push(new Date(t));
            values.push(v);
          }
        }
        return { Id: q.Id, Timestamps: timestamps, Values: values, StatusCode: 'Complete' };
      }),
    }));
}

describe('Class: CloudWatchMetricsSource', () => {
  afterEach(() => cloudWatch.reset());

  it('asks for per-shard, stream and consumer metrics with their dimensions and statistics', async () => {
    answer(() => 0);
    const source = new CloudWatchMetricsSource({ client, streamName: 'changes', functionName: 'consumer' });

    await source.fetch({ shards: evenShards(2), nowWallMs: NOW, windowMs: 5 * MINUTE });

    const input = cloudWatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    const stat = (id: string) => input.MetricDataQueries!.find((q) => q.Id === id)!.MetricStat!;
    expect(input.MetricDataQueries!.map((q) => q.Id)).toEqual([
      'stream_records',
      'stream_bytes',
      'stream_throttled',
      'stream_age',
      'fn_age',
      'fn_errors',
      'fn_throttles',
      'fn_concurrency',
      's0_records',
      's0_bytes',
      's0_throttled',
      's1_records',
      's1_bytes',
      's1_throttled',
    ]);
    expect(stat('s1_throttled')).toEqual({
      Metric: {
        Namespace: 'AWS/Kinesis',
        MetricName: 'WriteProvisionedThroughputExceeded',
        Dimensions: [
          { Name: 'StreamName', Value: 'changes' },
          { Name: 'ShardId', Value: 'shardId-000000000001' },
        ],
      },
      Period: 60,
      Stat: 'Sum',
    });
    expect(stat('fn_age')).toMatchObject({
      Metric: { Namespace: 'AWS/Lambda', MetricName: 'IteratorAge' },
      Stat: 'Maximum',
    });
    expect(stat('stream_age').Metric!.MetricName).toBe('GetRecords.IteratorAgeMilliseconds');
    // The newest minute is still being aggregated by CloudWatch: it is left out.
    expect([input.StartTime, input.EndTime]).toEqual([new Date(NOW - 6 * MINUTE), new Date(NOW - MINUTE)]);
    expect(input.ScanBy).toBe('TimestampAscending');
  });

  it('turns sums per minute into rates, and lists a shard only from its first datapoint', async () => {
    const fresh = NOW - 3 * MINUTE;
    answer((id, t) => {
      if (id === 's0_records') return 60_000;
      if (id === 's0_bytes') return 61_440_000;
      if (id === 's1_records') return t >= fresh ? 30_000 : undefined;
      if (id === 'stream_records') return 90_000;
      if (id === 'fn_age') return t === NOW - 2 * MINUTE ? 45_000 : 1_000;
      return undefined;
    });
    const source = new CloudWatchMetricsSource({ client, streamName: 'changes', functionName: 'consumer' });

    const { points } = await source.fetch({ shards: evenShards(2), nowWallMs: NOW, windowMs: 5 * MINUTE });

    expect(points.map((p) => p.atWallMs)).toEqual([6, 5, 4, 3, 2].map((m) => NOW - m * MINUTE));
    expect(points[0]!.shards).toEqual({
      'shardId-000000000000': { recordsPerSecond: 1000, bytesPerSecond: 1_024_000, throttledPerSecond: 0 },
    });
    expect(points.at(-1)!.shards['shardId-000000000001']).toEqual({
      recordsPerSecond: 500,
      bytesPerSecond: 0,
      throttledPerSecond: 0,
    });
    expect(points.at(-1)!.stream).toEqual({
      recordsPerSecond: 1500,
      bytesPerSecond: 0,
      throttledPerSecond: 0,
    });
    expect(points.at(-1)!.iteratorAgeMs).toBe(45_000);
  });

  it('sends at most 500 queries per request and follows NextToken', async () => {
    cloudWatch
      .on(GetMetricDataCommand)
      .callsFake((input: { MetricDataQueries: MetricDataQuery[]; NextToken?: string }) => ({
        MetricDataResults: input.MetricDataQueries.map((q) => ({ Id: q.Id, Timestamps: [], Values: [] })),
        NextToken:
          input.NextToken === undefined && input.MetricDataQueries.length === 500 ? 'page-2' : undefined,
      }));
    const source = new CloudWatchMetricsSource({ client, streamName: 'changes' });

    await source.fetch({ shards: evenShards(200), nowWallMs: NOW, windowMs: 30 * MINUTE });

    const sizes = cloudWatch
      .commandCalls(GetMetricDataCommand)
      .map((c) => [c.args[0].input.MetricDataQueries!.length, c.args[0].input.NextToken]);
    // 4 stream queries + 3 per shard = 604: 500, the same 500 again for page 2, then 104.
    expect(sizes).toEqual([
      [500, undefined],
      [500, 'page-2'],
      [104, undefined],
    ]);
  });

  it('adds the hot keys the consumers reported, and wraps a failure with what the manager needs', async () => {
    answer(() => undefined);
    const hotKeys = async () => [
      { partitionKey: 'order-1', hashKey: hashKeyOf('order-1'), recordsPerSecond: 700 },
    ];
    const source = new CloudWatchMetricsSource({ client, streamName: 'changes', hotKeys });

    const history = await source.fetch({ shards: evenShards(1), nowWallMs: NOW, windowMs: MINUTE });
    cloudWatch.reset();
    cloudWatch
      .on(GetMetricDataCommand)
      .rejects(new Error('User is not authorized to perform: cloudwatch:GetMetricData'));
    const failing = source.fetch({ shards: evenShards(1), nowWallMs: NOW, windowMs: MINUTE });

    expect(history.hotKeys).toEqual([
      { partitionKey: 'order-1', hashKey: hashKeyOf('order-1'), recordsPerSecond: 700 },
    ]);
    expect(history.points[0]!.shards).toEqual({});
    await expect(failing).rejects.toThrow(ScalingIoError);
    await expect(failing).rejects.toThrow(
      /not authorized .*\(stream changes\); the manager needs cloudwatch:GetMetricData/,
    );
  });

  it('rejects a period CloudWatch does not publish', () => {
    expect(() => new CloudWatchMetricsSource({ client, streamName: 's', periodSeconds: 30 })).toThrow(
      OptionsError,
    );
  });
});
