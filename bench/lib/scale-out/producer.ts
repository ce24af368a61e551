import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { WorkloadGenerator } from '../../../localstack/workload/generator.js';
import type { SourceToApplied } from './source-to-applied.js';

const LANES = 4;

/** FNV-1a of a partition key: which lane sends it, so that one aggregate's records never race each other. */
function laneOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return hash % LANES;
}

/**
 * Publishes generated CDC events with PutRecords and tells the tracker each record's shard, sequence number and
 * send time. Records of one aggregate always go through the same lane, one request after the other, so they
 * land in source order; lanes run side by side.
 */
class BenchProducer {
  readonly #lanes: Promise<void>[] = Array.from({ length: LANES }, () => Promise.resolve());
  #timer: NodeJS.Timeout | undefined;
  #failure: Error | undefined;
  public sent = 0;

  public constructor(
    private readonly kinesis: KinesisClient,
    private readonly streamName: string,
    private readonly generator: WorkloadGenerator,
    private readonly tracker: SourceToApplied,
  ) {}

  /** Publishes `count` events as fast as the engine takes them. */
  public async backlog(count: number): Promise<void> {
    for (let done = 0; done < count; ) {
      const n = Math.min(2_000, count - done);
      this.#enqueue(n);
      await Promise.all(this.#lanes);
      done += n;
    }
    this.#check();
  }

  /** Publishes `perSecond` events a second, in ticks of 100 ms, until {@link stop}. */
  public steady(perSecond: number): void {
    let owed = 0;
    this.#timer = setInterval(() => {
      owed += perSecond / 10;
      const n = Math.floor(owed);
      owed -= n;
      if (n > 0) this.#enqueue(n);
    }, 100);
  }

  public async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.all(this.#lanes);
    this.#check();
  }

  #enqueue(n: number): void {
    const byLane: { PartitionKey: string; Data: Buffer }[][] = Array.from({ length: LANES }, () => []);
    for (let i = 0; i < n; i++) {
      const event = this.generator.next();
      byLane[laneOf(event.partitionKey)]!.push({ PartitionKey: event.partitionKey, Data: event.data });
    }
    byLane.forEach((records, lane) => {
      for (let i = 0; i < records.length; i += 500) {
        const chunk = records.slice(i, i + 500);
        this.#lanes[lane] = this.#lanes[lane]!.then(() => this.#send(chunk));
      }
    });
  }

  async #send(records: { PartitionKey: string; Data: Buffer }[]): Promise<void> {
    if (this.#failure !== undefined) return;
    const sentAtMs = Date.now();
    try {
      const out = await this.kinesis.send(
        new PutRecordsCommand({ StreamName: this.streamName, Records: records }),
      );
      if ((out.FailedRecordCount ?? 0) > 0)
        throw new Error(`PutRecords refused ${out.FailedRecordCount} of ${records.length} records`);
      for (const entry of out.Records ?? [])
        this.tracker.published(entry.ShardId!, entry.SequenceNumber!, sentAtMs);
      this.sent += records.length;
    } catch (error) {
      this.#failure = error as Error;
    }
  }

  #check(): void {
    if (this.#failure !== undefined)
      throw new Error(`the benchmark's producer failed: ${this.#failure.message}`, { cause: this.#failure });
  }
}

export { BenchProducer };
