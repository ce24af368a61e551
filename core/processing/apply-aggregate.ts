import { positiveInteger } from '../coordination/validate.js';
import { REASON, type ReasonCode } from '../events/reason-codes.js';
import type { AggregateItem, Quarantine } from '../state/aggregate-item.js';
import { changeKeys, type ParkedItem, type ParkedRecord } from '../state/parked-item.js';
import type { ParkedStorePort } from '../state/parked-store-port.js';
import type { StateStorePort, WriteGuard } from '../state/state-store-port.js';
import { ProcessingError } from './errors.js';
import {
  type FoldFailure,
  type FoldResult,
  foldChanges,
  type PendingChange,
  pendingOfParked,
  projectedStateOf,
} from './fold.js';
import type { Projection } from './projection.js';
import { noTracing, type ProcessingTracer } from './tracing.js';

/** How one aggregate of a batch ended. */
interface AggregateOutcome {
  readonly applied: number;
  readonly duplicates: number;
  readonly parked: number;
  /** Of `parked`, the changes parked as DEFERRED (their table is paused or shed); absent when none. */
  readonly deferred?: number;
  /** True when this batch quarantined the aggregate. */
  readonly quarantined: boolean;
  /** The change that quarantined the aggregate, when this batch did (for the log line that says so). */
  readonly poison?: {
    readonly sequenceNumber: string;
    readonly txId: string | null;
    readonly error: string;
  };
  /** State writes made (0 or 1, more only after lost races). */
  readonly writes: number;
  /** The change to redeliver from, when the aggregate stopped at a failing change with attempts left. */
  readonly failure:
    | { readonly sequenceNumber: string; readonly txId: string | null; readonly error: Error }
    | undefined;
}

interface AggregateApplierOptions {
  readonly stateStore: StateStorePort;
  readonly parkedStore: ParkedStorePort;
  readonly projection: Projection;
  /** Deliveries of a failing change before it is parked. */
  readonly maxAttempts: number;
  /** Wall clock in epoch ms, for `parkedAt` only. */
  readonly now?: () => number;
  /** Whether a table's changes are deferred now (paused, or shed); see `isTableDeferred`. @default never */
  readonly isDeferred?: (table: string) => boolean;
  /** Where the fold is a step of the trace (the writes are when `stateStore` is a `TracedStateStore`). @default noTracing */
  readonly tracer?: ProcessingTracer;
}

/** The raw record each pending change came from, to park it with its full payload. */
interface PayloadSource {
  recordOf(item: PendingChange): ParkedRecord;
}

/** Lost races (a concurrent replay or writer) retried before the aggregate is reported as failed. */
const MAX_RACES = 8;

/** What we know of the stored item: `unknown` lets a blind projection skip the read. */
type Known = AggregateItem | undefined | 'unknown';

/**
 * How one try at the aggregate ended: with its outcome, or with a lost condition and the item that won
 * (undefined when unknown: read it again). `writes` counts the state writes the try made.
 */
type Attempt =
  | { readonly outcome: AggregateOutcome; readonly writes: number }
  | { readonly outcome?: undefined; readonly current: AggregateItem | undefined; readonly writes: number };

/** The aggregate's table was resumed: what its resume folds and how it writes. */
interface Resumption {
  readonly aggregateId: string;
  readonly item: AggregateItem;
  /** Its deferred changes, in source order. */
  readonly waiting: readonly ParkedItem[];
  /** The deferred changes, then this batch's. */
  readonly combined: readonly PendingChange[];
  readonly fold: FoldResult;
  readonly guard: WriteGuard;
  /** Deferred changes the fold settled (applied or covered by the state), to delete once the write commits. */
  readonly settled: readonly ParkedItem[];
}

function outcomeOf(partial: Partial<AggregateOutcome>): AggregateOutcome {
  return {
    applied: partial.applied ?? 0,
    duplicates: partial.duplicates ?? 0,
    parked: partial.parked ?? 0,
    deferred: partial.deferred,
    quarantined: partial.quarantined ?? false,
    poison: partial.poison,
    writes: partial.writes ?? 0,
    failure: partial.failure,
  };
}

function done(partial: Partial<AggregateOutcome>, writes: number): Attempt {
  return { outcome: outcomeOf({ ...partial, writes }), writes };
}

/** A write that lost its condition. */
function lost(current: AggregateItem | undefined): Attempt {
  return { current, writes: 1 };
}

function failureMessage(error: Error): string {
  return `${error.name}: ${error.message}`;
}

function poisonOf(item: PendingChange, error: string): AggregateOutcome['poison'] {
  return { sequenceNumber: item.origin.sequenceNumber, txId: item.change.txId, error };
}

function behindMessage(aggregateId: string): string {
  return `parked behind the quarantine of ${aggregateId}`;
}

function maxKey(current: string | undefined, items: readonly ParkedItem[]): string | undefined {
  let max = current;
  for (const i of items) if (max === undefined || i.sk > max) max = i.sk;
  return max;
}

/** Deliveries of the failing change so far, this one included: counted while it stays the one failing. */
function attemptsOf(item: AggregateItem | undefined, failure: FoldFailure): number {
  const pending = item?.pendingFailure;
  return pending !== undefined && pending.position === failure.item.change.position
    ? pending.attempts + 1
    : 1;
}

/**
 * Applies one aggregate's changes of a batch (docs/architecture.md contracts 2, 4, 5): fold, then one
 * conditional write. A failing change stops the aggregate; its attempts are counted on the state item, and
 * once they are used up the change is parked, the aggregate quarantined and its later changes parked behind
 * it. While the aggregate's table is deferred its changes are parked in order, and folded first once it is
 * resumed.
 *
 * @example
 * ```ts
 * const applier = new AggregateApplier({ stateStore, parkedStore, projection: mirrorProjection, maxAttempts: 3 });
 * const outcome = await applier.apply('public.orders#1', changes, payloads);
 * ```
 */
class AggregateApplier {
  readonly #options: AggregateApplierOptions;
  readonly #now: () => number;
  readonly #tracer: ProcessingTracer;

  public constructor(options: AggregateApplierOptions) {
    positiveInteger('maxAttempts', options.maxAttempts);
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#tracer = options.tracer ?? noTracing;
  }

  #fold(input: Parameters<typeof foldChanges>[0]): FoldResult {
    return this.#tracer.traceSync('fold', () => foldChanges(input));
  }

  /**
   * Applies the changes, trying again with the item that won when a write loses its condition. `prefetched`
   * carries the stored item when the caller read it already (`item` undefined: the aggregate is new).
   */
  public async apply(
    aggregateId: string,
    changes: readonly PendingChange[],
    payloads: PayloadSource,
    prefetched?: { readonly item: AggregateItem | undefined },
  ): Promise<AggregateOutcome> {
    const { stateStore, projection } = this.#options;
    // Deferral needs the stored item (is the aggregate already deferred?), so it skips the blind write.
    let known: Known =
      prefetched !== undefined
        ? prefetched.item
        : projection.needsPreviousState || this.#deferred(changes)
          ? await stateStore.get(aggregateId)
          : 'unknown';
    let writes = 0;
    for (let race = 0; race < MAX_RACES; race++) {
      const attempt =
        known === 'unknown'
          ? await this.#applyBlind(aggregateId, changes)
          : await this.#applyKnown(aggregateId, changes, known, payloads);
      writes += attempt.writes;
      if (attempt.outcome !== undefined) return { ...attempt.outcome, writes };
      known = attempt.current ?? (await stateStore.get(aggregateId));
    }
    throw new ProcessingError(
      `aggregate ${aggregateId}: lost ${MAX_RACES} write races in a row; retrying later`,
    );
  }

  /**
   * A projection that does not read the state writes without reading it, on the position alone. When the
   * fold fails (attempts are counted on the item) or the write loses, the item is read and the batch
   * applied knowing it.
   */
  async #applyBlind(aggregateId: string, changes: readonly PendingChange[]): Promise<Attempt> {
    const { stateStore, projection } = this.#options;
    const fold = this.#fold({ position: undefined, state: undefined, changes, projection });
    if (fold.failure !== undefined || fold.next === undefined) return { current: undefined, writes: 0 };
    const out = await stateStore.write(
      aggregateId,
      { value: fold.next, pendingFailure: null },
      { kind: 'newer' },
    );
    if (!out.committed) return lost(out.current);
    // The write proves the stored position was older than our last change, not than every change.
    const before = out.previous?.position;
    const applied =
      before === undefined
        ? fold.applied.length
        : fold.applied.filter((c) => c.change.position > before).length;
    return done({ applied, duplicates: changes.length - applied }, 1);
  }

  /**
   * One try knowing the stored item: resume the aggregate if its table is no longer deferred; hold its
   * changes back while it is quarantined or deferred; otherwise fold them onto the item, and write the result
   * (nothing failed), count an attempt (a change failed with attempts left), or quarantine the aggregate (its
   * attempts are used up).
   */
  async #applyKnown(
    aggregateId: string,
    changes: readonly PendingChange[],
    item: AggregateItem | undefined,
    payloads: PayloadSource,
  ): Promise<Attempt> {
    const deferred = this.#deferred(changes);
    if (item?.quarantine?.reason === 'DEFERRED' && !deferred)
      return this.#resume(aggregateId, changes, item, payloads);
    if (item?.quarantine !== undefined || deferred)
      return this.#holdBack(aggregateId, changes, item, payloads);
    const fold = this.#fold({
      position: item?.position,
      state: projectedStateOf(item),
      changes,
      projection: this.#options.projection,
    });
    if (fold.failure === undefined) return this.#writeFolded(aggregateId, item, fold);
    const attempts = attemptsOf(item, fold.failure);
    if (attempts < this.#options.maxAttempts)
      return this.#countAttempt(aggregateId, item, fold, fold.failure, attempts);
    return this.#quarantine(aggregateId, item, fold, fold.failure, attempts, payloads);
  }

  /**
   * Parks the changes of a held-back aggregate in order: behind its poison quarantine, or as deferred while
   * its table is (which starts a deferral on an aggregate that had none). Changes the state covers are
   * duplicates; a redelivered change already parked keeps its item (re-parking it would overwrite its
   * reason, error and attempts).
   */
  async #holdBack(
    aggregateId: string,
    changes: readonly PendingChange[],
    item: AggregateItem | undefined,
    payloads: PayloadSource,
  ): Promise<Attempt> {
    const deferring = item?.quarantine === undefined || item.quarantine.reason === 'DEFERRED';
    const reason = deferring ? REASON.DEFERRED : REASON.QUARANTINED;
    const message = deferring
      ? `deferred while table ${changes[0]!.change.table} is paused or shed`
      : behindMessage(aggregateId);
    const reached = item?.position;
    const fresh = changes.filter((c) => reached === undefined || c.change.position > reached);
    const parked = fresh
      .map((c) => this.#parked(c, payloads, reason, message, 0))
      .filter((p) => item?.lastParkedKey === undefined || p.sk > item.lastParkedKey);
    await this.#options.parkedStore.put(parked);
    const lastParkedKey = maxKey(item?.lastParkedKey, parked);
    const first = item?.quarantine === undefined ? fresh[0] : undefined;
    const counts = {
      parked: parked.length,
      ...(deferring && parked.length > 0 ? { deferred: parked.length } : {}),
      duplicates: changes.length - fresh.length,
    };
    if (lastParkedKey === item?.lastParkedKey && first === undefined) return done(counts, 0);
    const out = await this.#options.stateStore.write(
      aggregateId,
      { lastParkedKey, ...(first === undefined ? {} : { quarantine: this.#deferral(first, message) }) },
      { kind: 'revision', expected: item },
    );
    return out.committed ? done(counts, 1) : lost(out.current);
  }

  /** Nothing failed: one write of the folded state (none when every change was a duplicate). */
  async #writeFolded(
    aggregateId: string,
    item: AggregateItem | undefined,
    fold: FoldResult,
  ): Promise<Attempt> {
    const counts = { applied: fold.applied.length, duplicates: fold.duplicates.length };
    if (fold.next === undefined) return done(counts, 0);
    const out = await this.#options.stateStore.write(
      aggregateId,
      { value: fold.next, pendingFailure: null },
      { kind: 'revision', expected: item },
    );
    return out.committed ? done(counts, 1) : lost(out.current);
  }

  /**
   * A change failed with attempts left: the changes before it are written with the attempt counted, and the
   * aggregate reports the change to redeliver from.
   */
  async #countAttempt(
    aggregateId: string,
    item: AggregateItem | undefined,
    fold: FoldResult,
    failure: FoldFailure,
    attempts: number,
  ): Promise<Attempt> {
    const { sequenceNumber } = failure.item.origin;
    const out = await this.#options.stateStore.write(
      aggregateId,
      {
        value: fold.next,
        pendingFailure: {
          position: failure.item.change.position,
          sequenceNumber,
          attempts,
          error: failureMessage(failure.error),
        },
      },
      { kind: 'revision', expected: item },
    );
    if (!out.committed) return lost(out.current);
    return done(
      {
        applied: fold.applied.length,
        duplicates: fold.duplicates.length,
        failure: { sequenceNumber, txId: failure.item.change.txId, error: failure.error },
      },
      1,
    );
  }

  /**
   * Attempts used up: park the change and everything after it, in order, and quarantine the aggregate with
   * the changes before it written.
   */
  async #quarantine(
    aggregateId: string,
    item: AggregateItem | undefined,
    fold: FoldResult,
    failure: FoldFailure,
    attempts: number,
    payloads: PayloadSource,
  ): Promise<Attempt> {
    const message = failureMessage(failure.error);
    const reachedNow = fold.next?.position ?? item?.position;
    const poison = this.#parked(failure.item, payloads, REASON.POISON, message, attempts);
    const behind = fold.rest
      .filter((c) => reachedNow === undefined || c.change.position > reachedNow)
      .map((c) => this.#parked(c, payloads, REASON.QUARANTINED, behindMessage(aggregateId), 0));
    await this.#options.parkedStore.put([poison, ...behind]);
    const out = await this.#options.stateStore.write(
      aggregateId,
      {
        value: fold.next,
        pendingFailure: null,
        quarantine: this.#poisonQuarantine(failure.item, message),
        lastParkedKey: maxKey(item?.lastParkedKey, [poison, ...behind]),
      },
      { kind: 'revision', expected: item },
    );
    if (!out.committed) return lost(out.current);
    return done(
      {
        applied: fold.applied.length,
        duplicates: fold.duplicates.length + fold.rest.length - behind.length,
        parked: 1 + behind.length,
        quarantined: true,
        poison: poisonOf(failure.item, message),
      },
      1,
    );
  }

  /**
   * The aggregate's table is no longer deferred: its parked changes go first, then this batch's, in one fold
   * and one write that lifts the deferral (conditional on nothing having been parked since it was read). A
   * change that fails here quarantines the aggregate as poison at once, with what follows parked behind it.
   */
  async #resume(
    aggregateId: string,
    changes: readonly PendingChange[],
    item: AggregateItem,
    payloads: PayloadSource,
  ): Promise<Attempt> {
    const waiting = (await this.#options.parkedStore.listAggregate(aggregateId)).filter(
      (p) => p.change !== undefined,
    );
    const combined = [...waiting.map(pendingOfParked), ...changes];
    const fold = this.#fold({
      position: item.position,
      state: projectedStateOf(item),
      changes: combined,
      projection: this.#options.projection,
    });
    const settledCount = fold.failure === undefined ? combined.length : fold.failure.index;
    const resumption: Resumption = {
      aggregateId,
      item,
      waiting,
      combined,
      fold,
      guard:
        item.lastParkedKey === undefined
          ? { kind: 'revision', expected: item }
          : { kind: 'lift-quarantine', expected: item },
      settled: waiting.slice(0, Math.min(settledCount, waiting.length)),
    };
    return fold.failure === undefined
      ? this.#liftDeferral(resumption)
      : this.#poisonOnResume(resumption, fold.failure, payloads);
  }

  /** Every change applied: one write lifts the deferral, then the settled parked changes leave the store. */
  async #liftDeferral(r: Resumption): Promise<Attempt> {
    const out = await this.#options.stateStore.write(
      r.aggregateId,
      { value: r.fold.next, quarantine: null, pendingFailure: null },
      r.guard,
    );
    if (!out.committed) return lost(out.current);
    await this.#options.parkedStore.delete(r.settled);
    return done({ applied: r.fold.applied.length, duplicates: r.fold.duplicates.length }, 1);
  }

  /** A change failed on resume: it becomes the poison, and what follows it is parked behind it. */
  async #poisonOnResume(r: Resumption, failure: FoldFailure, payloads: PayloadSource): Promise<Attempt> {
    const message = failureMessage(failure.error);
    const parked = this.#heldBackFrom(r, failure, message, payloads);
    await this.#options.parkedStore.put(parked);
    const out = await this.#options.stateStore.write(
      r.aggregateId,
      {
        value: r.fold.next,
        pendingFailure: null,
        quarantine: this.#poisonQuarantine(failure.item, message),
        lastParkedKey: maxKey(r.item.lastParkedKey, parked),
      },
      r.guard,
    );
    if (!out.committed) return lost(out.current);
    await this.#options.parkedStore.delete(r.settled);
    return done(
      {
        applied: r.fold.applied.length,
        duplicates: r.fold.duplicates.length,
        parked: parked.length,
        quarantined: true,
        poison: poisonOf(failure.item, message),
      },
      1,
    );
  }

  /**
   * From the failing change on, everything is held back as a poison quarantine: the failing change is parked
   * (or re-parked, when it was waiting) as POISON, the ones after it as QUARANTINED. This batch's changes
   * already covered by the state, or already waiting (a redelivery, or parked by an earlier try of this
   * resume), are not parked again: one put must not name a key twice, and the waiting item is the one kept.
   */
  #heldBackFrom(r: Resumption, failure: FoldFailure, message: string, payloads: PayloadSource): ParkedItem[] {
    const reachedNow = r.fold.next?.position ?? r.item.position;
    const behind = behindMessage(r.aggregateId);
    const waitingKeys = new Set(r.waiting.map((w) => w.sk));
    const parked: ParkedItem[] = [];
    for (let i = failure.index; i < r.combined.length; i++) {
      const poison = i === failure.index;
      const [reason, text, attempts] = poison ? [REASON.POISON, message, 1] : [REASON.QUARANTINED, behind, 0];
      const waitingItem = r.waiting[i];
      if (waitingItem !== undefined) {
        parked.push({ ...waitingItem, reason, message: text, attempts });
        continue;
      }
      const c = r.combined[i]!;
      if (!poison && reachedNow !== undefined && c.change.position <= reachedNow) continue;
      const item = this.#parked(c, payloads, reason, text, attempts);
      if (!waitingKeys.has(item.sk)) parked.push(item);
    }
    return parked;
  }

  #deferred(changes: readonly PendingChange[]): boolean {
    const first = changes[0];
    return first !== undefined && (this.#options.isDeferred?.(first.change.table) ?? false);
  }

  /** The quarantine a change of a deferred table puts on its aggregate. */
  #deferral(first: PendingChange, message: string): Quarantine {
    return {
      reason: 'DEFERRED',
      position: first.change.position,
      sequenceNumber: first.origin.sequenceNumber,
      error: message,
      at: new Date(this.#now()).toISOString(),
    };
  }

  /** The quarantine a change that keeps failing puts on its aggregate. */
  #poisonQuarantine(item: PendingChange, message: string): Quarantine {
    return {
      reason: 'POISON',
      position: item.change.position,
      sequenceNumber: item.origin.sequenceNumber,
      error: message,
      at: new Date(this.#now()).toISOString(),
    };
  }

  #parked(
    item: PendingChange,
    payloads: PayloadSource,
    reason: ReasonCode,
    message: string,
    attempts: number,
  ): ParkedItem {
    const record = payloads.recordOf(item);
    return {
      ...changeKeys(item.change, record),
      reason,
      message,
      aggregateId: item.change.aggregateId,
      change: item.change,
      record,
      attempts,
      parkedAt: new Date(this.#now()).toISOString(),
    };
  }
}

export type { AggregateApplierOptions, AggregateOutcome, PayloadSource };
export { AggregateApplier };
