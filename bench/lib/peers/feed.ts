import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { compareSequenceNumbers } from '../../../core/events/position.js';
import { WorkloadGenerator } from '../../../localstack/workload/generator.js';
import type { ExpectedModel } from '../../../localstack/workload/model.js';
import { seededRandom } from '../../../localstack/workload/random.js';
import { ExpectedEffects } from './audit.js';

/** Records that may be republished as duplicates: the most recent ones, as `npm start --inject-duplicates` keeps. */
const RECENT = 5000;

interface FeedOptions {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  /** @default 1 */
  readonly seed?: number;
  /** Distinct aggregates (Zipf s = 1.1 over them, the generator's default). @default 10_000 */
  readonly aggregates?: number;
  /**
   * Fraction of records republished as well: a recent record chosen at random, so some duplicates follow
   * their original closely and some come much later, behind newer changes of their aggregate (the
   * injection of `npm start --inject-duplicates`). @default 0
   */
  readonly duplicates?: number;
}

/** The PutRecords limit. */
const MAX_PER_REQUEST = 500;

/**
 * The generated CDC workload of a run, published to one stream: the generator's Zipf aggregates and record
 * sizes, its model of the final state, the changes each aggregate must have taken since its last delete, and
 * each shard's last sequence number (to tell when consumers have read everything).
 *
 * Records go out in generation order through one PutRecords request at a time, which keeps every
 * aggregate's order without holding a hot aggregate to one record per round trip (as a producer that retries
 * must); a request with a failed entry stops the run rather than retry out of order (the local engines do
 * not throttle).
 *
 * @example
 * ```ts
 * const feed = new WorkloadFeed({ kinesis, streamName, duplicates: 0.1 });
 * feed.start(100); await sleep(60_000); await feed.stop();
 * ```
 */
class WorkloadFeed {
  readonly #kinesis: KinesisClient;
  readonly #streamName: string;
  readonly #generator: WorkloadGenerator;
  readonly #random: () => number;
  readonly #duplicates: number;
  readonly #recent: PutRecordsRequestEntry[] = [];
  #queue: PutRecordsRequestEntry[] = [];
  #sending: Promise<void> = Promise.resolve();
  readonly #tips = new Map<string, string>();
  readonly effects = new ExpectedEffects();
  #timer: NodeJS.Timeout | undefined;
  #error: Error | undefined;
  /** Records published, duplicates included. */
  public published = 0;
  public duplicatesInjected = 0;

  public constructor(options: FeedOptions) {
    this.#kinesis = options.kinesis;
    this.#streamName = options.streamName;
    this.#generator = new WorkloadGenerator({ seed: options.seed ?? 1, aggregates: options.aggregates });
    this.#random = seededRandom((options.seed ?? 1) * 31 + 7);
    this.#duplicates = options.duplicates ?? 0;
  }

  public get model(): ExpectedModel {
    return this.#generator.model;
  }

  /** Changes generated (not counting duplicates). */
  public get generated(): number {
    return this.#generator.produced;
  }

  /** The last sequence number accepted on each shard. */
  public get tips(): ReadonlyMap<string, string> {
    return this.#tips;
  }

  /** Publishes `events` generated changes as fast as the engine takes them; resolves once all are accepted. */
  public async publish(events: number): Promise<void> {
    for (let i = 0; i < events; i++) {
      this.#next();
      if (this.#queue.length >= MAX_PER_REQUEST) await this.#flush();
    }
    await this.#flush();
  }

  /** Publishes at a steady rate until {@link stop}. */
  public start(ratePerSecond: number): void {
    const tickMs = 100;
    let carry = 0;
    this.#timer = setInterval(() => {
      carry += (ratePerSecond * tickMs) / 1000;
      for (; carry >= 1; carry--) this.#next();
      void this.#flush().catch(() => {});
    }, tickMs);
  }

  /** Stops a steady feed; resolves once everything generated is accepted. */
  public async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#flush();
  }

  public close(): void {
    clearInterval(this.#timer);
  }

  #next(): void {
    const event = this.#generator.next();
    this.effects.produced(event.change);
    const record = { PartitionKey: event.partitionKey, Data: event.data };
    this.#queue.push(record);
    if (this.#duplicates > 0) {
      this.#recent.push(record);
      if (this.#recent.length > RECENT) this.#recent.shift();
      if (this.#random() < this.#duplicates) {
        this.duplicatesInjected++;
        this.#queue.push(this.#recent[Math.floor(this.#random() * this.#recent.length)]!);
      }
    }
  }

  /** Sends what is queued, after whatever is being sent: one request at a time, in order. */
  #flush(): Promise<void> {
    const records = this.#queue;
    this.#queue = [];
    this.#sending = this.#sending.then(async () => {
      if (this.#error !== undefined) return;
      for (let i = 0; i < records.length; i += MAX_PER_REQUEST)
        await this.#put(records.slice(i, i + MAX_PER_REQUEST)).catch((error: Error) => {
          this.#error ??= error;
        });
    });
    return this.#sending.then(() => {
      if (this.#error !== undefined)
        throw new Error(`the benchmark could not publish its workload: ${this.#error.message}`, {
          cause: this.#error,
        });
    });
  }

  async #put(records: PutRecordsRequestEntry[]): Promise<void> {
    const out = await this.#kinesis.send(
      new PutRecordsCommand({ StreamName: this.#streamName, Records: records }),
    );
    if ((out.FailedRecordCount ?? 0) > 0) {
      const failed = out.Records?.find((r) => r.ErrorCode !== undefined);
      throw new Error(
        `${out.FailedRecordCount} of ${records.length} records were refused (${failed?.ErrorCode}: ${failed?.ErrorMessage}); a retry could reorder an aggregate, so the run stops`,
      );
    }
    this.published += records.length;
    for (const r of out.Records ?? []) {
      const tip = this.#tips.get(r.ShardId!);
      if (tip === undefined || compareSequenceNumbers(r.SequenceNumber!, tip) > 0)
        this.#tips.set(r.ShardId!, r.SequenceNumber!);
    }
  }
}

export { WorkloadFeed };
