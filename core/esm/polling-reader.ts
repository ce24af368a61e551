import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { type Clock, systemClock } from '../coordination/clock.js';
import {
  NOTHING_YET,
  type ShardCursor,
  type ShardPage,
  type ShardReader,
  type ShardStart,
} from './shard-reader.js';

interface PollingReaderOptions {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  /** Records per GetRecords call, 1..10000. @default 10_000 */
  readonly limit?: number;
  /** @default systemClock */
  readonly clock?: Clock;
}

/**
 * Reads shards with GetRecords, as Lambda's standard Kinesis mapping does: one shard iterator per shard,
 * renewed after the last record read when it expires (iterators live five minutes) or a call fails.
 *
 * @example
 * ```ts
 * const reader = new PollingReader({ kinesis, streamName });
 * const mapping = new EventSourceMapping({ reader, streamArn, handler, parkedStore });
 * ```
 */
class PollingReader implements ShardReader {
  public readonly kind = 'polling';
  readonly #o: PollingReaderOptions;

  public constructor(options: PollingReaderOptions) {
    this.#o = options;
  }

  public open(start: ShardStart): ShardCursor {
    return new PollingCursor(this.#o, start);
  }
}

class PollingCursor implements ShardCursor {
  readonly #o: PollingReaderOptions;
  readonly #start: ShardStart;
  /** Last record returned: a new iterator starts after it. */
  #lastRead: string | undefined;
  #iterator: string | undefined;
  #needIterator = true;
  #lastEmpty = false;

  public constructor(options: PollingReaderOptions, start: ShardStart) {
    this.#o = options;
    this.#start = start;
    this.#lastRead = start.startAfter;
  }

  /** Polls at once after records, after `maxWaitMs` after an empty page (an idle shard is not hammered). */
  public async next(options: {
    readonly signal: AbortSignal;
    readonly maxWaitMs: number;
  }): Promise<ShardPage> {
    if (this.#lastEmpty && !(await (this.#o.clock ?? systemClock).sleep(options.maxWaitMs, options.signal)))
      return NOTHING_YET;
    if (this.#needIterator) {
      this.#iterator = await this.#newIterator();
      this.#needIterator = false;
    }
    if (this.#iterator === undefined) return { records: [], millisBehindLatest: 0, ended: true };
    let out: GetRecordsCommandOutput;
    try {
      out = await this.#o.kinesis.send(
        new GetRecordsCommand({ ShardIterator: this.#iterator, Limit: this.#o.limit ?? 10_000 }),
      );
    } catch (error) {
      this.#needIterator = true;
      // An iterator expires five minutes after it was issued: get a new one after the last record read.
      if ((error as Error).name === 'ExpiredIteratorException') {
        this.#lastEmpty = false;
        return NOTHING_YET;
      }
      throw error;
    }
    const records = out.Records ?? [];
    if (records.length > 0) this.#lastRead = records[records.length - 1]!.SequenceNumber;
    this.#iterator = out.NextShardIterator;
    this.#lastEmpty = records.length === 0;
    // No next iterator: the shard was closed by a split or merge and these were its last records.
    return { records, millisBehindLatest: out.MillisBehindLatest ?? 0, ended: this.#iterator === undefined };
  }

  public async close(): Promise<void> {}

  async #newIterator(): Promise<string | undefined> {
    const after = this.#lastRead;
    const out = await this.#o.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: this.#o.streamName,
        ShardId: this.#start.shardId,
        ...(after === undefined
          ? { ShardIteratorType: this.#start.startingPosition }
          : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }),
      }),
    );
    return out.ShardIterator;
  }
}

export type { PollingReaderOptions };
export { PollingReader };
