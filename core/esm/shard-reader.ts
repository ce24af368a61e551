import type { _Record } from '@aws-sdk/client-kinesis';

/** The next records of one shard, in shard order, as a reader returns them. */
interface ShardPage {
  readonly records: readonly _Record[];
  /** Kinesis' estimate of how far this read is behind the shard's tip; undefined when Kinesis was not asked. */
  readonly millisBehindLatest: number | undefined;
  /**
   * The shard is closed (split or merged away) and these were its last records: nothing follows, and once they
   * are processed its children may start.
   */
  readonly ended: boolean;
}

/** Where a reader starts a shard. */
interface ShardStart {
  readonly shardId: string;
  /** Continue after this sequence number (the lease's checkpoint); undefined: from `startingPosition`. */
  readonly startAfter: string | undefined;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
}

/** One shard being read, from its start onwards; each call continues where the previous one ended. */
interface ShardCursor {
  /**
   * The next records, waiting at most `maxWaitMs` for some (an empty page then), or until `signal` aborts.
   * Throws on an error it cannot absorb; the cursor keeps its position, so the caller may call again.
   */
  next(options: { readonly signal: AbortSignal; readonly maxWaitMs: number }): Promise<ShardPage>;
  /** Stops reading (ends a subscription); the cursor is not used again. */
  close(): Promise<void>;
}

/**
 * How the event source mapping gets records: by polling (GetRecords, Lambda's standard mapping) or through a
 * subscription pushing them (enhanced fan-out, SubscribeToShard). The mapping's semantics — batches, lanes,
 * retries, checkpoints — are the same over either.
 */
interface ShardReader {
  readonly kind: 'polling' | 'fan-out';
  open(start: ShardStart): ShardCursor;
}

/** An empty page: nothing new yet. */
const NOTHING_YET: ShardPage = { records: [], millisBehindLatest: undefined, ended: false };

export type { ShardCursor, ShardPage, ShardReader, ShardStart };
export { NOTHING_YET };
