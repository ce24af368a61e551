import { compareSequenceNumbers } from '../../core/events/position.js';
import { RecordsRejectedError } from '../../core/producer/errors.js';
import type { Producer } from '../../core/producer/producer.js';
import { type LoadProfileName, loadProfile } from '../workload/load-profile.js';
import type { Source, SourceRecord } from './sources.js';

/** Records waiting in the producer at most: production waits for room beyond this (backpressure). */
const PRODUCER_WINDOW = 5_000;
/** Recent records a duplicate is drawn from. */
const RECENT_RECORDS = 5_000;

interface ProduceOptions {
  readonly producer: Producer;
  /** Events per second; undefined: as fast as the producer takes them. */
  readonly rate?: number;
  /** How the rate moves over time; its base rate is `rate` (default 200/s). */
  readonly loadProfile?: LoadProfileName;
  /** Fraction of records republished later (duplicates and late redeliveries). */
  readonly injectDuplicates?: number;
  readonly signal?: AbortSignal;
  /** Called for every record Kinesis accepted (the cluster manager's load feed). */
  readonly onAccepted?: (shardId: string, bytes: number, partitionKey: string) => void;
  /** Called with the sentence saying why Kinesis refused a record for good. */
  readonly onRejected?: (message: string) => void;
  /** @default Math.random */
  readonly random?: () => number;
}

/** How far production is: live while it runs, final once `produce` resolves. */
class Production {
  /** Records published, injected duplicates included (a record Kinesis refused is not). */
  produced = 0;
  /** Injected duplicates among them. */
  duplicatesInjected = 0;
  /** Records Kinesis refused for good (over 1 MiB with the key, a bad key): never published. */
  rejected = 0;
  /** The highest sequence number accepted on each shard: the drain waits for these. */
  readonly tips = new Map<string, string>();
  /** The first failure that stopped production. */
  error: Error | undefined;
}

/**
 * Publishes the source's records (and injected duplicates) through the producer with backpressure, at the
 * rate asked for, until the source ends, the signal aborts or the producer fails. A record Kinesis refuses
 * for good is counted and reported, not a failure of the run.
 */
async function produce(
  source: Source,
  options: ProduceOptions,
  production = new Production(),
): Promise<Production> {
  const random = options.random ?? Math.random;
  const inflight = new Set<Promise<unknown>>();
  const recent: SourceRecord[] = [];
  // One waiter for a free slot: racing every in-flight publish would attach a reaction to each of them per
  // record while the producer is behind, which grows without bound when Kinesis is slow.
  let slotFreed: (() => void) | undefined;
  const track = (record: SourceRecord) => {
    production.produced++;
    const p = options.producer
      .publish([{ partitionKey: record.partitionKey, data: record.data }])
      .then(([accepted]) => {
        const tip = production.tips.get(accepted!.shardId);
        if (tip === undefined || compareSequenceNumbers(accepted!.sequenceNumber, tip) > 0)
          production.tips.set(accepted!.shardId, accepted!.sequenceNumber);
        options.onAccepted?.(accepted!.shardId, record.data.byteLength, record.partitionKey);
        record.afterAccepted?.(accepted!);
      })
      .catch((error: Error) => {
        if (error instanceof RecordsRejectedError) {
          production.rejected++;
          production.produced--;
          options.onRejected?.(error.message);
        } else production.error ??= error;
      })
      .finally(() => {
        inflight.delete(p);
        const wake = slotFreed;
        slotFreed = undefined;
        wake?.();
      });
    inflight.add(p);
  };
  const pace = pacer(options);
  for (;;) {
    if (options.signal?.aborted || production.error !== undefined) break;
    const record = source.next();
    if (record === undefined) break;
    track(record);
    if ((options.injectDuplicates ?? 0) > 0) {
      recent.push({ partitionKey: record.partitionKey, data: record.data });
      if (recent.length > RECENT_RECORDS) recent.splice(0, recent.length - RECENT_RECORDS);
      // A redelivery of a recent record: soon (a plain duplicate) or much later (a late, older duplicate).
      if (random() < options.injectDuplicates!) {
        production.duplicatesInjected++;
        track(recent[Math.floor(random() * recent.length)]!);
      }
    }
    while (options.producer.stats.pending >= PRODUCER_WINDOW && inflight.size > 0)
      await new Promise<void>((resolve) => {
        slotFreed = resolve;
      });
    await pace(production.produced);
  }
  await Promise.all(inflight);
  return production;
}

/** Waits as long as the rate (or the load profile) asks before the next record. */
function pacer(options: ProduceOptions): (produced: number) => Promise<void> {
  const startedAt = Date.now();
  const sleepUntil = (at: number) =>
    at > Date.now() ? new Promise<void>((r) => setTimeout(r, at - Date.now())) : Promise.resolve();
  if (options.loadProfile !== undefined) {
    const rateAt = loadProfile(options.loadProfile, { baseRate: options.rate ?? 200 });
    let due = startedAt;
    return async () => {
      due += 1000 / rateAt(Date.now() - startedAt);
      await sleepUntil(due);
    };
  }
  const { rate } = options;
  if (rate === undefined) return async () => {};
  return (produced) => sleepUntil(startedAt + (produced / rate) * 1000);
}

export type { ProduceOptions };
export { Production, produce };
