import {
  type _Record,
  type KinesisClient,
  type StartingPosition,
  SubscribeToShardCommand,
  type SubscribeToShardEventStream,
} from '@aws-sdk/client-kinesis';

/** One SubscribeToShard event stream whose events the test pushes, ends or fails. */
class ScriptedStream implements AsyncIterable<SubscribeToShardEventStream> {
  readonly #queue: SubscribeToShardEventStream[] = [];
  #waiting:
    | { resolve: (r: IteratorResult<SubscribeToShardEventStream>) => void; reject: (e: Error) => void }
    | undefined;
  #done = false;
  #error: Error | undefined;
  /** The reader cancelled the stream (`return()` or its request's abort signal). */
  cancelled = false;

  public push(event: SubscribeToShardEventStream): void {
    if (this.#waiting === undefined) this.#queue.push(event);
    else this.#settle().resolve({ done: false, value: event });
  }

  /** Kinesis ends the subscription (its five minutes are up). */
  public end(): void {
    this.#done = true;
    this.#waiting && this.#settle().resolve({ done: true, value: undefined });
  }

  /** The stream fails (network, an exception event). */
  public fail(error: Error): void {
    this.#error = error;
    this.#waiting && this.#settle().reject(error);
  }

  public [Symbol.asyncIterator](): AsyncIterator<SubscribeToShardEventStream> {
    return {
      next: () => {
        const event = this.#queue.shift();
        if (event !== undefined) return Promise.resolve({ done: false, value: event });
        if (this.#error !== undefined) return Promise.reject(this.#error);
        if (this.#done || this.cancelled) return Promise.resolve({ done: true, value: undefined });
        return new Promise((resolve, reject) => {
          this.#waiting = { resolve, reject };
        });
      },
      return: async () => {
        this.cancel();
        return { done: true, value: undefined };
      },
    };
  }

  public cancel(): void {
    this.cancelled = true;
    this.#waiting && this.#settle().reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
  }

  #settle() {
    const waiting = this.#waiting!;
    this.#waiting = undefined;
    return waiting;
  }
}

interface Subscription {
  readonly shardId: string;
  readonly position: StartingPosition;
  readonly stream: ScriptedStream;
}

/** Stands in for the HTTP/2 Kinesis client: every SubscribeToShard gets a scripted stream. */
class ScriptedKinesis {
  readonly subscriptions: Subscription[] = [];
  /** The next this many SubscribeToShard calls fail with ResourceInUseException. */
  inUse = 0;

  public get client(): KinesisClient {
    return this as unknown as KinesisClient;
  }

  public get last(): Subscription {
    const last = this.subscriptions.at(-1);
    if (last === undefined) throw new Error('no subscription yet');
    return last;
  }

  public async send(command: unknown, options: { abortSignal?: AbortSignal } = {}) {
    if (!(command instanceof SubscribeToShardCommand)) throw new Error('only SubscribeToShard is scripted');
    if (this.inUse > 0) {
      this.inUse--;
      throw Object.assign(new Error('Another active subscription exists'), {
        name: 'ResourceInUseException',
      });
    }
    const stream = new ScriptedStream();
    options.abortSignal?.addEventListener('abort', () => stream.cancel(), { once: true });
    this.subscriptions.push({
      shardId: command.input.ShardId!,
      position: command.input.StartingPosition!,
      stream,
    });
    return { EventStream: stream };
  }
}

/** A record with sequence number `n` (zero-padded, so that they sort). */
function record(n: number, partitionKey = `key-${n}`): _Record {
  return {
    SequenceNumber: String(n).padStart(20, '0'),
    PartitionKey: partitionKey,
    Data: Buffer.from(`{"n":${n}}`),
    ApproximateArrivalTimestamp: new Date(Date.UTC(2026, 0, 1)),
  };
}

/** A SubscribeToShardEvent with these records; `ended` leaves out the continuation (the shard closed). */
function event(records: readonly _Record[], ended = false): SubscribeToShardEventStream {
  return {
    SubscribeToShardEvent: {
      Records: [...records],
      ContinuationSequenceNumber: ended ? undefined : (records.at(-1)?.SequenceNumber ?? '0'),
      MillisBehindLatest: 0,
      ...(ended
        ? { ChildShards: [{ ShardId: 'shardId-000000000002', ParentShards: [], HashKeyRange: undefined }] }
        : {}),
    },
  } as SubscribeToShardEventStream;
}

export { event, record, ScriptedKinesis, ScriptedStream };
