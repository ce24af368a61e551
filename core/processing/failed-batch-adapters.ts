import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { compareSequenceNumbers } from '../events/position.js';
import type { FailedBatchStorePort, StreamRangeReader } from './failed-batches.js';
import type { StreamRecord } from './stream-record.js';

/** Records GetRecords returns at most per call. */
const GET_RECORDS_LIMIT = 10_000;
/** Empty GetRecords answers in a row before a range is taken as read to its end (a closed or quiet shard). */
const EMPTY_READS = 5;

/**
 * The S3 bucket the deployed event source mapping writes failed batches to (its on-failure destination):
 * every object is one invocation record. Keys sort by time within a shard (Lambda names them
 * `aws/lambda/<mapping>/<shard>/<yyyy>/<mm>/<dd>/<time>-<uuid>`).
 *
 * @example
 * ```ts
 * const store = new S3FailedBatchStore({ client: new S3Client({}), bucket: 'orders-failed-batches' });
 * ```
 */
class S3FailedBatchStore implements FailedBatchStorePort {
  readonly #client: S3Client;
  readonly #bucket: string;

  public constructor(options: { readonly client: S3Client; readonly bucket: string }) {
    this.#client = options.client;
    this.#bucket = options.bucket;
  }

  public async keys(): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await this.#client.send(
        new ListObjectsV2Command({ Bucket: this.#bucket, ContinuationToken: token }),
      );
      for (const object of out.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys.sort();
  }

  public async read(key: string): Promise<string> {
    const out = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
    return (await out.Body?.transformToString('utf-8')) ?? '';
  }

  public async remove(key: string): Promise<void> {
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }));
  }
}

/**
 * Reads a sequence range of a shard again, for invocation records that carry no payload: from the start
 * sequence number up to and including the end one, while the stream still holds them (its retention).
 */
class KinesisRangeReader implements StreamRangeReader {
  readonly #client: KinesisClient;

  public constructor(options: { readonly client: KinesisClient }) {
    this.#client = options.client;
  }

  public async read(range: Parameters<StreamRangeReader['read']>[0]): Promise<StreamRecord[]> {
    const { ShardIterator } = await this.#client.send(
      new GetShardIteratorCommand({
        // By name: every Kinesis engine takes it (kinesalite knows no StreamARN parameter).
        StreamName: range.streamArn.slice(range.streamArn.lastIndexOf('/') + 1),
        ShardId: range.shardId,
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        StartingSequenceNumber: range.startSequenceNumber,
      }),
    );
    const records: StreamRecord[] = [];
    let iterator = ShardIterator;
    for (let empty = 0; iterator !== undefined && empty < EMPTY_READS; ) {
      const out = await this.#client.send(
        new GetRecordsCommand({
          ShardIterator: iterator,
          StreamARN: range.streamArn,
          Limit: GET_RECORDS_LIMIT,
        }),
      );
      const got = out.Records ?? [];
      empty = got.length === 0 ? empty + 1 : 0;
      for (const r of got) {
        if (compareSequenceNumbers(r.SequenceNumber!, range.endSequenceNumber) > 0) return records;
        records.push({
          data: Buffer.from(r.Data ?? new Uint8Array()).toString('base64'),
          partitionKey: r.PartitionKey ?? '',
          sequenceNumber: r.SequenceNumber!,
          approximateArrivalTimestamp: (r.ApproximateArrivalTimestamp?.getTime() ?? 0) / 1000,
          shardId: range.shardId,
          eventSourceArn: range.streamArn,
        });
        if (r.SequenceNumber === range.endSequenceNumber) return records;
      }
      iterator = out.NextShardIterator;
    }
    return records;
  }
}

export { KinesisRangeReader, S3FailedBatchStore };
