import { readFileSync } from 'node:fs';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { createDecodeContext } from '../../../core/events/decode-context.js';
import { createDefaultRegistry } from '../../../core/events/default-registry.js';
import { BatchProcessor } from '../../../core/processing/batch-processor.js';
import { S3FailedBatchStore } from '../../../core/processing/failed-batch-adapters.js';
import {
  FailedBatchRedriver,
  InMemoryFailedBatchStore,
  parseFailedBatch,
} from '../../../core/processing/failed-batches.js';
import { mirrorProjection } from '../../../core/processing/projection.js';
import { toStreamRecords } from '../../../functions/consumer/create-handler.js';
import { orderChange } from '../../helpers/changes.js';
import { changeRecord, kinesisEvent, seq } from '../../helpers/consumer.js';
import { stateTwins } from '../../helpers/state-twins.js';

const DOCS_RECORD = readFileSync(
  new URL(
    '../../fixtures/lambda-kinesis-events/lambda-kinesis-onfailure-destination-invocation-record-docs.json',
    import.meta.url,
  ),
  'utf8',
);

/** An invocation record as Lambda writes it to an S3 destination: the batch info and the invocation's payload. */
function withPayload(
  records: Parameters<typeof kinesisEvent>[0],
  timestamp: string,
  shardId = 'shardId-000000000000',
) {
  const event = kinesisEvent(records, shardId);
  return JSON.stringify({
    requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 11 },
    timestamp,
    KinesisBatchInfo: {
      shardId,
      startSequenceNumber: records[0]!.sequenceNumber,
      endSequenceNumber: records.at(-1)!.sequenceNumber,
      batchSize: records.length,
      streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/test',
    },
    payload: event,
  });
}

function setup() {
  const twins = stateTwins();
  const processor = new BatchProcessor({
    registry: createDefaultRegistry(),
    decodeContext: createDecodeContext(),
    stateStore: twins.stateStore,
    parkedStore: twins.parkedStore,
    projection: mirrorProjection,
    maxAttempts: 3,
    aggregateConcurrency: 2,
    transientAttempts: 1,
  });
  const store = new InMemoryFailedBatchStore();
  const fromStream: string[] = [];
  const reader = {
    read: async (range: { shardId: string; startSequenceNumber: string }) => {
      fromStream.push(`${range.shardId}@${range.startSequenceNumber}`);
      return toStreamRecords(kinesisEvent([changeRecord(orderChange(9, 5, 'create'), 5, 90)]));
    },
  };
  return { ...twins, store, fromStream, redriver: new FailedBatchRedriver({ store, reader, processor }) };
}

describe('Function: parseFailedBatch', () => {
  it('reads the documented invocation record: the shard and sequence range, no payload', () => {
    const batch = parseFailedBatch('k', DOCS_RECORD);

    expect(batch).toEqual({
      key: 'k',
      timestamp: '2019-11-14T00:38:06.021Z',
      condition: 'RetryAttemptsExhausted',
      shardId: 'shardId-000000000001',
      startSequenceNumber: '49601189658422359378836298521827638475320189012309704722',
      endSequenceNumber: '49601189658422359378836298522902373528957594348623495186',
      batchSize: 500,
      streamArn: 'arn:aws:kinesis:us-east-2:123456789012:stream/mystream',
      records: undefined,
    });
  });

  it('takes the records of the payload, as an object or as its JSON text', () => {
    const json = withPayload([changeRecord(orderChange(1, 10, 'create'), 10, 1)], '2026-01-01T00:00:00Z');
    const asText = JSON.stringify({ ...JSON.parse(json), payload: JSON.stringify(JSON.parse(json).payload) });

    for (const record of [json, asText])
      expect(parseFailedBatch('k', record).records).toEqual([
        expect.objectContaining({
          sequenceNumber: seq(1),
          shardId: 'shardId-000000000000',
          partitionKey: 'public.orders#1',
        }),
      ]);
  });

  it.each([
    ['{', 'failed batch k is not JSON'],
    ['{"requestContext": {}}', 'failed batch k has no KinesisBatchInfo'],
    [
      '{"KinesisBatchInfo": {"shardId": ""}}',
      'failed batch k: KinesisBatchInfo.shardId must be a non-empty string, received ""',
    ],
  ])('refuses %s, naming the key and the field', (json, message) => {
    expect(() => parseFailedBatch('k', json)).toThrow(message);
  });
});

describe('Class: FailedBatchRedriver', () => {
  it('lists kept batches oldest first', async () => {
    const t = setup();
    t.store.put(
      'b',
      withPayload([changeRecord(orderChange(2, 10, 'create'), 10, 2)], '2026-01-01T00:00:02Z'),
    );
    t.store.put(
      'a',
      withPayload([changeRecord(orderChange(1, 10, 'create'), 10, 1)], '2026-01-01T00:00:03Z'),
    );
    t.store.put('c', DOCS_RECORD);

    expect((await t.redriver.list()).map((b) => b.key)).toEqual(['c', 'b', 'a']);
  });

  it('applies the records of each batch in order through the fold, skips what is applied, and removes the batch', async () => {
    const t = setup();
    t.store.put(
      'k1',
      withPayload(
        [
          changeRecord(orderChange(1, 11), 11, 2),
          changeRecord(orderChange(1, 10, 'create'), 10, 1),
          { data: 'not json', partitionKey: 'x', sequenceNumber: seq(3) },
        ],
        '2026-01-01T00:00:00Z',
      ),
    );
    t.store.put('k2', DOCS_RECORD);

    const outcomes = await t.redriver.redrive();

    expect(outcomes.map((o) => [o.batch.key, o.source, o.records, o.settled])).toEqual([
      ['k2', 'stream', 1, true],
      ['k1', 'payload', 3, true],
    ]);
    expect(outcomes[1]?.stats).toMatchObject({ applied: 2, parked: 1, badInput: 1 });
    expect(t.fromStream).toEqual([
      'shardId-000000000001@49601189658422359378836298521827638475320189012309704722',
    ]);
    expect(await t.stateTwin.get('public.orders#1')).toMatchObject({ position: orderChange(1, 11).position });
    expect(await t.store.keys()).toEqual([]);
  });

  it('keeps a batch that fails again, for the next redrive', async () => {
    const t = setup();
    t.store.put(
      'k',
      withPayload([changeRecord(orderChange(1, 10, 'create'), 10, 1)], '2026-01-01T00:00:00Z'),
    );
    t.stateStore.inject({ kind: 'throttle', operations: ['write'] });

    const [outcome] = await t.redriver.redrive();

    expect(outcome).toMatchObject({ settled: false, error: `redelivery asked from ${seq(1)}` });
    expect(await t.store.keys()).toEqual(['k']);
  });
});

// S3 has no local engine on these machines: the adapter's requests are checked against aws-sdk-client-mock.
describe('Class: S3FailedBatchStore', () => {
  it('lists every page of keys, reads an object as text and deletes it', async () => {
    const s3 = mockClient(S3Client);
    s3.on(ListObjectsV2Command, { ContinuationToken: undefined })
      .resolves({ Contents: [{ Key: 'aws/lambda/m/s/2/b' }], IsTruncated: true, NextContinuationToken: 't' })
      .on(ListObjectsV2Command, { ContinuationToken: 't' })
      .resolves({ Contents: [{ Key: 'aws/lambda/m/s/1/a' }], IsTruncated: false });
    // The SDK's body stream, as far as the store reads it.
    s3.on(GetObjectCommand).resolves({ Body: { transformToString: async () => DOCS_RECORD } as never });
    s3.on(DeleteObjectCommand).resolves({});
    const store = new S3FailedBatchStore({ client: new S3Client({ region: 'us-east-1' }), bucket: 'failed' });

    const keys = await store.keys();
    const text = await store.read(keys[0]!);
    await store.remove(keys[0]!);

    expect(keys).toEqual(['aws/lambda/m/s/1/a', 'aws/lambda/m/s/2/b']);
    expect(text).toBe(DOCS_RECORD);
    expect(s3.commandCalls(DeleteObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'failed',
      Key: 'aws/lambda/m/s/1/a',
    });
    s3.restore();
  });
});
