/** StreamSampleMetricsSource's reads through aws-sdk-client-mock; test/integration/scaling reads a real engine. */
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { hashKeyOf, ScalingIoError, StreamSampleMetricsSource } from '../../../core/scaling/index.js';
import { evenShards, NOW, shardId } from '../../helpers/scaling.js';

const kinesisMock = mockClient(KinesisClient);
const kinesis = new KinesisClient({ region: 'us-east-1' });

describe('Class: StreamSampleMetricsSource', () => {
  afterEach(() => kinesisMock.reset());

  it('reads each shard from the start of the window and counts records, bytes and keys per period', async () => {
    kinesisMock.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-1' });
    const record = (atMs: number, key: string) => ({
      SequenceNumber: String(atMs),
      ApproximateArrivalTimestamp: new Date(atMs),
      PartitionKey: key,
      Data: new Uint8Array(96),
    });
    kinesisMock
      .on(GetRecordsCommand, { ShardIterator: 'it-1' })
      .resolves({
        Records: [record(NOW - 25_000, 'a'), record(NOW - 15_000, 'hot'), record(NOW - 14_000, 'hot')],
        NextShardIterator: 'it-2',
        MillisBehindLatest: 1000,
      })
      .on(GetRecordsCommand, { ShardIterator: 'it-2' })
      .resolves({
        Records: [record(NOW - 5_000, 'hot'), record(NOW + 1_000, 'late')],
        NextShardIterator: 'it-3',
        MillisBehindLatest: 0,
      });
    const source = new StreamSampleMetricsSource({
      kinesis,
      streamName: 'changes',
      periodMs: 10_000,
      iteratorAgeMs: async () => 2_500,
    });

    const history = await source.fetch({ shards: evenShards(1), nowWallMs: NOW, windowMs: 30_000 });

    expect(kinesisMock.commandCalls(GetShardIteratorCommand)[0]!.args[0].input).toEqual({
      StreamName: 'changes',
      ShardId: shardId(0),
      ShardIteratorType: 'AT_TIMESTAMP',
      Timestamp: new Date(NOW - 30_000),
    });
    expect(history.points.map((p) => p.shards[shardId(0)]!.recordsPerSecond)).toEqual([0.1, 0.2, 0.1]);
    expect(history.points.map((p) => p.iteratorAgeMs)).toEqual([undefined, undefined, 2_500]);
    expect(history.points[1]!.shards[shardId(0)]!.bytesPerSecond).toBeCloseTo((2 * (96 + 3)) / 10, 5);
    expect(history.hotKeys[0]).toEqual({
      partitionKey: 'hot',
      hashKey: hashKeyOf('hot'),
      recordsPerSecond: 0.1,
      bytesPerSecond: (3 * 99) / 30,
    });
  });

  it('wraps a failed read with the shard and the stream', async () => {
    kinesisMock.on(GetShardIteratorCommand).rejects(new Error('Stream changes not found'));
    const source = new StreamSampleMetricsSource({ kinesis, streamName: 'changes' });

    await expect(source.fetch({ shards: evenShards(1), nowWallMs: NOW, windowMs: 60_000 })).rejects.toThrow(
      ScalingIoError,
    );
    await expect(source.fetch({ shards: evenShards(1), nowWallMs: NOW, windowMs: 60_000 })).rejects.toThrow(
      `read shard for metrics failed: ${shardId(0)} of changes: Stream changes not found`,
    );
  });
});
