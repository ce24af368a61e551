import {
  type KinesisClient,
  type StartingPosition,
  SubscribeToShardCommand,
  type SubscribeToShardEventStream,
} from '@aws-sdk/client-kinesis';
import { type Clock, systemClock } from '../coordination/clock.js';
import { OptionsError } from '../errors.js';
import {
  NOTHING_YET,
  type ShardCursor,
  type ShardPage,
  type ShardReader,
  type ShardStart,
} from './shard-reader.js';

/** A subscription lasts at most five minutes; Kinesis then ends its event stream. */
const SUBSCRIPTION_LIFETIME_MS = 300_000;
/** SubscribeToShard allows one call per second per consumer and shard. */
const MIN_SUBSCRIBE_INTERVAL_MS = 1_000;

interface FanOutReaderOptions {
  /**
   * The client SubscribeToShard goes through: its request handler must speak HTTP/2 (the event stream is
   * HTTP/2 only), unlike the one the other Kinesis calls may use.
   */
  readonly kinesis: KinesisClient;
  /** The fleet's registered stream consumer (`ensureStreamConsumer`). */
  readonly consumerArn: string;
  /** Renew a subscription this long after it started; Kinesis ends it after five minutes. @default 300_000 */
  readonly resubscribeIntervalMs?: number;
  /**
   * After ResourceInUseException (a subscription of this consumer to the shard started less than five seconds
   * ago: our previous one, or the previous owner's), try again after this long. @default 1_000
   */
  readonly inUseRetryMs?: number;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Each subscription started: the shard, where it starts, and how many this cursor has made. */
  readonly onSubscribe?: (event: SubscriptionEvent) => void;
}

interface SubscriptionEvent {
  readonly shardId: string;
  readonly position: StartingPosition;
  /** 1 for the shard's first subscription on this cursor, 2 for its first renewal, ... */
  readonly ordinal: number;
}

/**
 * Reads shards through enhanced fan-out: one SubscribeToShard per shard, whose event stream pushes records as
 * they arrive, through the fleet's registered consumer (its own 2 MB/s per shard, not shared with other
 * readers). A subscription is renewed every `resubscribeIntervalMs` (Kinesis ends it after five minutes),
 * after its stream ends and after an error, each time after the last record handed out — so a renewal
 * neither skips nor repeats a record — and the first one after the lease's checkpoint. Closing the cursor (a
 * hand-off, a lost lease, a stop) cancels the subscription.
 *
 * @example
 * ```ts
 * const consumerArn = await ensureStreamConsumer({ kinesis, streamArn, consumerName: 'cdcp-workers' });
 * const reader = new FanOutReader({ kinesis: http2Kinesis, consumerArn });
 * const mapping = new EventSourceMapping({ reader, streamArn, handler, parkedStore });
 * ```
 */
class FanOutReader implements ShardReader {
  public readonly kind = 'fan-out';
  readonly #o: FanOutReaderOptions;

  public constructor(options: FanOutReaderOptions) {
    const interval = options.resubscribeIntervalMs ?? SUBSCRIPTION_LIFETIME_MS;
    if (!Number.isFinite(interval) || interval < 5_000 || interval > SUBSCRIPTION_LIFETIME_MS)
      throw new OptionsError(
        'resubscribeIntervalMs',
        interval,
        `must be from 5000 to ${SUBSCRIPTION_LIFETIME_MS} (a subscription lasts at most five minutes, and a new one within five seconds is refused)`,
      );
    this.#o = options;
  }

  public open(start: ShardStart): ShardCursor {
    return new FanOutCursor(this.#o, start);
  }
}

interface Subscription {
  readonly abort: AbortController;
  readonly events: AsyncIterator<SubscribeToShardEventStream>;
  readonly startedAtMs: number;
  /** The event being waited for: kept across calls, so that a wait that ran out loses nothing. */
  pending: Promise<IteratorResult<SubscribeToShardEventStream>> | undefined;
}

class FanOutCursor implements ShardCursor {
  readonly #o: FanOutReaderOptions;
  readonly #start: ShardStart;
  readonly #clock: Clock;
  #subscription: Subscription | undefined;
  /** Last record handed out: every subscription after the first starts after it. */
  #lastDelivered: string | undefined;
  #subscribeAfterMs = Number.NEGATIVE_INFINITY;
  #ordinal = 0;
  #ended = false;
  #closed = false;

  public constructor(options: FanOutReaderOptions, start: ShardStart) {
    this.#o = options;
    this.#start = start;
    this.#clock = options.clock ?? systemClock;
    this.#lastDelivered = start.startAfter;
  }

  public async next(options: {
    readonly signal: AbortSignal;
    readonly maxWaitMs: number;
  }): Promise<ShardPage> {
    if (this.#ended) return { records: [], millisBehindLatest: 0, ended: true };
    const deadlineMs = this.#clock.now() + options.maxWaitMs;
    const renewDue =
      this.#subscription !== undefined &&
      this.#clock.now() - this.#subscription.startedAtMs >=
        (this.#o.resubscribeIntervalMs ?? SUBSCRIPTION_LIFETIME_MS);
    if (renewDue) this.#drop();
    const subscription = this.#subscription ?? (await this.#subscribe(options.signal, deadlineMs));
    if (subscription === undefined) return NOTHING_YET;
    subscription.pending ??= subscription.events.next();
    const result = await this.#waitForEvent(subscription, options.signal, deadlineMs);
    if (result === undefined) return NOTHING_YET;
    subscription.pending = undefined;
    // Kinesis ended the subscription (its five minutes are up): the next call subscribes again.
    if (result.done) {
      this.#drop();
      return NOTHING_YET;
    }
    return this.#page(result.value);
  }

  public async close(): Promise<void> {
    this.#closed = true;
    this.#drop();
  }

  /** Subscribes after the last record handed out; undefined when not allowed yet (waited until the deadline). */
  async #subscribe(signal: AbortSignal, deadlineMs: number): Promise<Subscription | undefined> {
    const waitMs = this.#subscribeAfterMs - this.#clock.now();
    if (waitMs > 0) {
      await this.#clock.sleep(Math.min(waitMs, Math.max(0, deadlineMs - this.#clock.now())), signal);
      if (this.#subscribeAfterMs > this.#clock.now() || signal.aborted) return undefined;
    }
    if (this.#closed) return undefined;
    this.#subscribeAfterMs = this.#clock.now() + MIN_SUBSCRIBE_INTERVAL_MS;
    const position = this.#position();
    const abort = new AbortController();
    try {
      const out = await this.#o.kinesis.send(
        new SubscribeToShardCommand({
          ConsumerARN: this.#o.consumerArn,
          ShardId: this.#start.shardId,
          StartingPosition: position,
        }),
        // Not tied to the caller's signal: a stop closes the cursor, which cancels the subscription.
        { abortSignal: abort.signal },
      );
      if (out.EventStream === undefined) throw new Error('SubscribeToShard answered without an event stream');
      const subscription: Subscription = {
        abort,
        events: out.EventStream[Symbol.asyncIterator](),
        startedAtMs: this.#clock.now(),
        pending: undefined,
      };
      if (this.#closed) {
        abort.abort();
        return undefined;
      }
      this.#subscription = subscription;
      this.#o.onSubscribe?.({ shardId: this.#start.shardId, position, ordinal: ++this.#ordinal });
      return subscription;
    } catch (error) {
      abort.abort();
      // A subscription of this consumer to the shard started less than five seconds ago (ours before a
      // renewal, or the previous owner's before a hand-off) is still live: wait, then take it over.
      if ((error as Error).name === 'ResourceInUseException') {
        this.#subscribeAfterMs = this.#clock.now() + (this.#o.inUseRetryMs ?? 1_000);
        return undefined;
      }
      throw error;
    }
  }

  /** The next event, or undefined when the deadline passed or `signal` aborted first. */
  async #waitForEvent(
    subscription: Subscription,
    signal: AbortSignal,
    deadlineMs: number,
  ): Promise<IteratorResult<SubscribeToShardEventStream> | undefined> {
    if (signal.aborted) return undefined;
    // One listener per call, removed after it: the caller's signal lives as long as the shard is read.
    const timer = new AbortController();
    const onAbort = () => timer.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const timeout = this.#clock
      .sleep(Math.max(0, deadlineMs - this.#clock.now()), timer.signal)
      .then(() => undefined);
    try {
      return await Promise.race([subscription.pending!, timeout]);
    } catch (error) {
      // The event stream failed (network, throttling, an exception event): subscribe again at the next call.
      this.#drop();
      throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
      timer.abort();
    }
  }

  #page(event: SubscribeToShardEventStream): ShardPage {
    const shardEvent = event.SubscribeToShardEvent;
    if (shardEvent === undefined) {
      this.#drop();
      throw new Error(`SubscribeToShard sent an event of an unknown kind: ${Object.keys(event).join(', ')}`);
    }
    const records = shardEvent.Records ?? [];
    if (records.length > 0) this.#lastDelivered = records[records.length - 1]!.SequenceNumber;
    // No continuation: the shard is closed and these were its last records (its children are named).
    if (
      shardEvent.ContinuationSequenceNumber === undefined ||
      shardEvent.ContinuationSequenceNumber === null
    ) {
      this.#ended = true;
      this.#drop();
    }
    return { records, millisBehindLatest: shardEvent.MillisBehindLatest ?? 0, ended: this.#ended };
  }

  #position(): StartingPosition {
    return this.#lastDelivered === undefined
      ? { Type: this.#start.startingPosition }
      : { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: this.#lastDelivered };
  }

  /** Ends the current subscription (cancels its stream); the next call subscribes again. */
  #drop(): void {
    const subscription = this.#subscription;
    if (subscription === undefined) return;
    this.#subscription = undefined;
    subscription.pending?.catch(() => {});
    subscription.abort.abort();
    try {
      subscription.events.return?.()?.catch(() => {});
    } catch {
      // The stream is gone already.
    }
  }
}

export type { FanOutReaderOptions, SubscriptionEvent };
export { FanOutReader, SUBSCRIPTION_LIFETIME_MS };
