import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { afterAll, describe, expect, it } from 'vitest';
import { KinesisRangeReader } from '../../../core/processing/failed-batch-adapters.js';
import { createStream } from '../../../localstack/provision.js';
import { testClients, uniqueName } from '../../helpers/engines.js';

const clients = testClients();
afterAll(() => clients.destroy());

describe('Class: KinesisRangeReader on kinesalite', () => {
  it('reads a failed batch again from the stream: its shard, from its first to its last sequence number', async () => {
    const streamName = uniqueName('range');
    const streamArn = await createStream(clients.kinesis, streamName, 1);
    const sequenceNumbers: string[] = [];
    for (let i = 0; i < 6; i++) {
      const out = await clients.kinesis.send(
        new PutRecordCommand({
          StreamName: streamName,
          PartitionKey: `k${i}`,
          Data: Buffer.from(`{"n": ${i}}`),
        }),
      );
      sequenceNumbers.push(out.SequenceNumber!);
    }

    const records = await new KinesisRangeReader({ client: clients.kinesis }).read({
      streamArn,
      shardId: 'shardId-000000000000',
      startSequenceNumber: sequenceNumbers[1]!,
      endSequenceNumber: sequenceNumbers[4]!,
    });

    expect(records.map((r) => r.sequenceNumber)).toEqual(sequenceNumbers.slice(1, 5));
    expect(records.map((r) => Buffer.from(r.data, 'base64').toString())).toEqual(
      [1, 2, 3, 4].map((n) => `{"n": ${n}}`),
    );
    expect(records[0]).toMatchObject({
      partitionKey: 'k1',
      shardId: 'shardId-000000000000',
      eventSourceArn: streamArn,
    });
  });
});
