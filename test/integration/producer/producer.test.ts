import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  type PutRecordsCommandInput,
  type PutRecordsCommandOutput,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { deaggregate } from '../../../core/events/kpl.js';
import { Producer } from '../../../core/producer/producer.js';
import { createStream } from '../../../localstack/provision.js';
import { seededRandom } from '../../../localstack/workload/random.js';
import { testClients, uniqueName } from '../../helpers/engines.js';

const clients = testClients();
afterAll(() => clients.destroy());

/**
 * A Kinesis client whose PutRecords loses some entries on purpose, against the real engine: a middleware
 * removes them from the request before it is sent and splices a throttling error into the response at their
 * places, which is exactly what a partially failed PutRecords looks like to the caller.
 */
function faultyKinesis(failRate: number, seed: number): KinesisClient {
  const client = new KinesisClient({
    endpoint: inject('kinesaliteEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestHandler: new NodeHttpHandler(),
  });
  const random = seededRandom(seed);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'PutRecordsCommand') return next(args);
      const input = args.input as PutRecordsCommandInput;
      const all = input.Records ?? [];
      const failed = all.map(() => random() < failRate);
      const kept = all.filter((_, i) => !failed[i]);
      if (kept.length === 0)
        return {
          output: {
            FailedRecordCount: all.length,
            Records: all.map(() => ({
              ErrorCode: 'ProvisionedThroughputExceededException',
              ErrorMessage: 'injected',
            })),
            $metadata: {},
          },
          response: {},
        } as never;
      const result = await next({ ...args, input: { ...input, Records: kept } });
      const output = result.output as PutRecordsCommandOutput;
      const accepted = [...(output.Records ?? [])];
      output.Records = failed.map((f) =>
        f
          ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'injected' }
          : accepted.shift()!,
      );
      output.FailedRecordCount = failed.filter(Boolean).length;
      return result;
    },
    { step: 'initialize', name: 'injectPartialFailures' },
  );
  return client;
}

async function readAll(streamName: string): Promise<Map<string, string[]>> {
  const byKey = new Map<string, string[]>();
  const { Shards } = await clients.kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  for (const shard of Shards ?? []) {
    let { ShardIterator: iterator } = await clients.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shard.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    for (;;) {
      const out = await clients.kinesis.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }),
      );
      for (const record of out.Records ?? [])
        for (const user of deaggregate({
          data: record.Data!,
          partitionKey: record.PartitionKey!,
          sequenceNumber: record.SequenceNumber!,
        }).records)
          byKey.set(user.partitionKey, [
            ...(byKey.get(user.partitionKey) ?? []),
            Buffer.from(user.data).toString(),
          ]);
      iterator = out.NextShardIterator;
      if ((out.Records ?? []).length === 0) break;
    }
  }
  return byKey;
}

describe('Class: Producer against kinesalite with injected partial failures', () => {
  for (const aggregateMaxRecords of [1, 20]) {
    it(`writes every aggregate's records in order (aggregation ${aggregateMaxRecords})`, async () => {
      const streamName = uniqueName('producer');
      await createStream(clients.kinesis, streamName, 3);
      const kinesis = faultyKinesis(0.3, aggregateMaxRecords);
      const producer = new Producer({
        kinesis,
        streamName,
        aggregateMaxRecords,
        retryBaseDelayMs: 2,
        retryMaxDelayMs: 20,
      });
      const records = Array.from({ length: 1500 }, (_, i) => ({
        partitionKey: `agg-${i % 40}`,
        data: Buffer.from(`agg-${i % 40}:${Math.floor(i / 40)}`),
      }));
      await producer.publish(records);
      kinesis.destroy();
      expect(producer.stats.retries).toBeGreaterThan(0);
      const written = await readAll(streamName);
      for (let k = 0; k < 40; k++) {
        const expected = records.filter((r) => r.partitionKey === `agg-${k}`).map((r) => r.data.toString());
        expect(written.get(`agg-${k}`)).toEqual(expected);
      }
    });
  }
});
