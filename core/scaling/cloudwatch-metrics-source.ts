import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { messageOf, OptionsError } from '../errors.js';
import { ScalingIoError } from './errors.js';
import type { MetricsRequest, MetricsSource } from './metrics-source.js';
import type { KeyRate, MetricPoint, MetricsHistory, ShardLoad } from './model.js';

/** GetMetricData takes at most 500 queries per request (CloudWatch API reference). */
const MAX_QUERIES_PER_REQUEST = 500;

interface CloudWatchMetricsSourceOptions {
  readonly client: CloudWatchClient;
  readonly streamName: string;
  /** The consumer function: its IteratorAge, Errors, Throttles and ConcurrentExecutions. */
  readonly functionName?: string;
  /** @default 60 (Kinesis and Lambda publish one-minute metrics) */
  readonly periodSeconds?: number;
  /**
   * Newest periods left out because CloudWatch has not finished aggregating them (a missing datapoint there
   * means "not yet", not "zero"). @default 1
   */
  readonly delayPeriods?: number;
  /** Per-shard figures (needs the stream's enhanced shard-level metrics). @default true */
  readonly shardLevel?: boolean;
  /** The partition keys' rates, from the consumers' heartbeats (`hotKeysFromInstances`). */
  readonly hotKeys?: () => Promise<readonly KeyRate[]>;
}

type Series = Map<number, number>;

/**
 * Stream and consumer metrics from CloudWatch GetMetricData: per shard (enhanced monitoring) IncomingRecords,
 * IncomingBytes and WriteProvisionedThroughputExceeded sums; the stream's totals and
 * GetRecords.IteratorAgeMilliseconds; and, for the consumer function, Lambda's IteratorAge, Errors, Throttles
 * and ConcurrentExecutions. The client is injected; queries go in batches of 500, following NextToken.
 *
 * @example
 * ```ts
 * const source = new CloudWatchMetricsSource({ client: new CloudWatchClient({}), streamName, functionName });
 * const history = await source.fetch({ shards, nowWallMs: Date.now(), windowMs: 1_800_000 });
 * ```
 */
class CloudWatchMetricsSource implements MetricsSource {
  readonly #o: CloudWatchMetricsSourceOptions;
  readonly #periodSeconds: number;
  readonly #delayPeriods: number;

  public constructor(options: CloudWatchMetricsSourceOptions) {
    this.#o = options;
    this.#periodSeconds = options.periodSeconds ?? 60;
    if (!Number.isInteger(this.#periodSeconds) || this.#periodSeconds < 60 || this.#periodSeconds % 60 !== 0)
      throw new OptionsError(
        'periodSeconds',
        this.#periodSeconds,
        'must be a multiple of 60: Kinesis and Lambda publish one-minute metrics',
      );
    this.#delayPeriods = options.delayPeriods ?? 1;
  }

  public async fetch(request: MetricsRequest): Promise<MetricsHistory> {
    const periodMs = this.#periodSeconds * 1000;
    const end = Math.floor(request.nowWallMs / periodMs) * periodMs - this.#delayPeriods * periodMs;
    const start = end - Math.ceil(request.windowMs / periodMs) * periodMs;
    const queries = this.#queries(request);
    const series = await this.#fetchAll(
      queries.map((q) => q.query),
      start,
      end,
    );
    const get = (id: string): Series => series.get(id) ?? new Map();
    const shardLevelSeen = queries.some((q) => q.shardId !== undefined && get(q.query.Id!).size > 0);
    // A shard is listed from its first datapoint on: before that it did not exist (a fresh split child), and
    // a zero there would make it look cold.
    const firstData = request.shards.map((_, i) =>
      Math.min(
        ...['records', 'bytes', 'throttled'].flatMap((m) => [...get(`s${i}_${m}`).keys()]),
        Number.POSITIVE_INFINITY,
      ),
    );
    const points: MetricPoint[] = [];
    for (let t = start; t < end; t += periodMs) {
      const rate = (id: string) => (get(id).get(t) ?? 0) / this.#periodSeconds;
      const shards: Record<string, ShardLoad> = {};
      if (shardLevelSeen)
        request.shards.forEach((shard, i) => {
          if (firstData[i]! > t) return;
          shards[shard.shardId] = {
            recordsPerSecond: rate(`s${i}_records`),
            bytesPerSecond: rate(`s${i}_bytes`),
            throttledPerSecond: rate(`s${i}_throttled`),
          };
        });
      const ages = ['stream_age', 'fn_age'].map((id) => get(id).get(t)).filter((v) => v !== undefined);
      points.push({
        atWallMs: t,
        periodMs,
        shards,
        stream: {
          recordsPerSecond: rate('stream_records'),
          bytesPerSecond: rate('stream_bytes'),
          throttledPerSecond: rate('stream_throttled'),
        },
        iteratorAgeMs: ages.length === 0 ? undefined : Math.max(...(ages as number[])),
        consumerErrors: get('fn_errors').get(t),
        consumerThrottles: get('fn_throttles').get(t),
        consumerConcurrency: get('fn_concurrency').get(t),
      });
    }
    const hotKeys = this.#o.hotKeys === undefined ? [] : await this.#o.hotKeys();
    return { points, hotKeys };
  }

  #queries(request: MetricsRequest): { query: MetricDataQuery; shardId?: string }[] {
    const stream = [{ Name: 'StreamName', Value: this.#o.streamName }];
    const q = (
      id: string,
      namespace: string,
      metric: string,
      stat: string,
      dimensions: { Name: string; Value: string }[],
    ) => ({
      Id: id,
      MetricStat: {
        Metric: { Namespace: namespace, MetricName: metric, Dimensions: dimensions },
        Period: this.#periodSeconds,
        Stat: stat,
      },
      ReturnData: true,
    });
    const queries: { query: MetricDataQuery; shardId?: string }[] = [
      { query: q('stream_records', 'AWS/Kinesis', 'IncomingRecords', 'Sum', stream) },
      { query: q('stream_bytes', 'AWS/Kinesis', 'IncomingBytes', 'Sum', stream) },
      { query: q('stream_throttled', 'AWS/Kinesis', 'WriteProvisionedThroughputExceeded', 'Sum', stream) },
      { query: q('stream_age', 'AWS/Kinesis', 'GetRecords.IteratorAgeMilliseconds', 'Maximum', stream) },
    ];
    if (this.#o.functionName !== undefined) {
      const fn = [{ Name: 'FunctionName', Value: this.#o.functionName }];
      queries.push(
        { query: q('fn_age', 'AWS/Lambda', 'IteratorAge', 'Maximum', fn) },
        { query: q('fn_errors', 'AWS/Lambda', 'Errors', 'Sum', fn) },
        { query: q('fn_throttles', 'AWS/Lambda', 'Throttles', 'Sum', fn) },
        { query: q('fn_concurrency', 'AWS/Lambda', 'ConcurrentExecutions', 'Maximum', fn) },
      );
    }
    if (this.#o.shardLevel ?? true)
      request.shards.forEach((shard, i) => {
        const dims = [...stream, { Name: 'ShardId', Value: shard.shardId }];
        queries.push(
          {
            query: q(`s${i}_records`, 'AWS/Kinesis', 'IncomingRecords', 'Sum', dims),
            shardId: shard.shardId,
          },
          { query: q(`s${i}_bytes`, 'AWS/Kinesis', 'IncomingBytes', 'Sum', dims), shardId: shard.shardId },
          {
            query: q(`s${i}_throttled`, 'AWS/Kinesis', 'WriteProvisionedThroughputExceeded', 'Sum', dims),
            shardId: shard.shardId,
          },
        );
      });
    return queries;
  }

  async #fetchAll(
    queries: readonly MetricDataQuery[],
    startMs: number,
    endMs: number,
  ): Promise<Map<string, Series>> {
    const out = new Map<string, Series>();
    for (let i = 0; i < queries.length; i += MAX_QUERIES_PER_REQUEST) {
      const batch = queries.slice(i, i + MAX_QUERIES_PER_REQUEST);
      let nextToken: string | undefined;
      do {
        let results: MetricDataResult[] | undefined;
        try {
          const response = await this.#o.client.send(
            new GetMetricDataCommand({
              MetricDataQueries: batch,
              StartTime: new Date(startMs),
              EndTime: new Date(endMs),
              ScanBy: 'TimestampAscending',
              NextToken: nextToken,
            }),
          );
          results = response.MetricDataResults;
          nextToken = response.NextToken;
        } catch (error) {
          throw new ScalingIoError(
            'CloudWatch GetMetricData',
            `${messageOf(error)} (stream ${this.#o.streamName}); the manager needs cloudwatch:GetMetricData`,
            { cause: error },
          );
        }
        for (const result of results ?? []) {
          const series = out.get(result.Id ?? '') ?? new Map<number, number>();
          (result.Timestamps ?? []).forEach((ts, j) => {
            const value = result.Values?.[j];
            if (value !== undefined) series.set(new Date(ts).getTime(), value);
          });
          out.set(result.Id ?? '', series);
        }
      } while (nextToken !== undefined);
    }
    return out;
  }
}

export type { CloudWatchMetricsSourceOptions };
export { CloudWatchMetricsSource };
