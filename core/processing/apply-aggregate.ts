import { type Clock, systemClock } from '../coordination/clock.js';
import { positiveInteger } from '../coordination/validate.js';
import { REASON, type ReasonCode } from '../events/reason-codes.js';
import { UNNAMED_SOURCE } from '../events/source-id.js';
import type { AggregateItem, Quarantine } from '../state/aggregate-item.js';
import type { DerivedWrite } from '../state/derived-update.js';
import { UnstorableError } from '../state/errors.js';
import { changeKeys, type ParkedItem, type ParkedRecord } from '../state/parked-item.js';
import type { ParkedLabel, ParkedStorePort } from '../state/parked-store-port.js';
import type { StateMutation, StateStorePort, WriteGuard, WriteOutcome } from '../state/state-store-port.js';
import type { AggregateLocks, Fences } from './aggregate-locks.js';
import {
  type AggregateOutcome,
  type Attempt,
  attemptsOf,
  behindMessage,
  done,
  failureMessage,
  isPermanent,
  lost,
  maxKey,
  poisonOf,
  reasonOf,
  withoutLastApplied,
} from './apply-steps.js';
import { type ConflictPolicy, isCovered, SINGLE_SOURCE, sourceOf } from './conflicts.js';
import { ProcessingError } from './errors.js';
import {
  type FoldFailure,
  type FoldInput,
  type FoldResult,
  foldChanges,
  type PendingChange,
  pendingOfParked,
} from './fold.js';
import { FoldCommit, type FoldOutcome } from './fold-commit.js';
import type { Projection } from './projection.js';
import { noTracing, type ProcessingTracer } from './tracing.js';
import { retryTransient, type TransientRetry } from './transient-retry.js';

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
  /** Sleeps between tries after a transient store failure. @default systemClock */
  readonly clock?: Pick<Clock, 'sleep'>;
  /**
   * Tries of an aggregate when the store fails transiently (throttling, timeouts, 5xx), with jittered
   * exponential backoff from `retryBaseDelayMs`; then the failure is the aggregate's, and its batch is
   * redelivered. @default 3
   */
  readonly transientAttempts?: number;
  /** @default 50 */
  readonly retryBaseDelayMs?: number;
  /** Where the fold is a step of the trace (the writes are when `stateStore` is a `TracedStateStore`). @default noTracing */
  readonly tracer?: ProcessingTracer;
  /**
   * How a table resolves changes of several sources (docs/state.md, "Sources and conflict strategies"); see
   * `conflictPolicies`. @default every table `single-source`
   */
  readonly conflictPolicy?: (table: string) => ConflictPolicy;
  /**
   * Takes the locks of a projection that declares `holdLocks`; without it such a projection runs on
   * conditional writes alone. @default none
   */
  readonly locks?: AggregateLocks;
  /**
   * Tries of a transaction with derived updates that DynamoDB cancels for a concurrent transaction on one of
   * its items (`TransactionConflict`), with jittered backoff from `retryBaseDelayMs`; then the last change is
   * parked as `DERIVED_CONFLICT`. @default 5
   */
  readonly conflictAttempts?: number;
}

/** The raw record each pending change came from, to park it with its full payload. */
interface PayloadSource {
  recordOf(item: PendingChange): ParkedRecord;
}

/** One call of `apply`: the aggregate, where its payloads come from, and what it did to the parked store. */
interface Run {
  readonly aggregateId: string;
  readonly payloads: PayloadSource;
  parked: number;
  unparked: number;
  /** Of `parked`, what was parked as DEFERRED. */
  deferred: number;
  /** Told the changes a committed write applied, as it commits (their latency is measured there). */
  readonly onApplied: ((changes: readonly PendingChange[]) => void) | undefined;
  /** Changes applied and skipped by writes that committed part of the batch (a full transaction). */
  applied: number;
  duplicates: number;
  /** The fences of the locks held while applying (a projection that declares `holdLocks`). */
  fences?: Fences;
}

/** Lost races (a concurrent replay or writer) retried before the aggregate is reported as failed. */
const MAX_RACES = 8;

/** What we know of the stored item: `unknown` lets a blind projection skip the read. */
type Known = AggregateItem | undefined | 'unknown';

/** The aggregate's table was resumed: what its resume folds and how it writes. */
interface Resumption {
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

/**
 * Applies one aggregate's changes of a batch (docs/architecture.md contracts 2, 4, 5, 6): fold, then one
 * conditional write. A failing change stops the aggregate; its attempts are counted on the state item, and
 * once they are used up the change is parked, the aggregate quarantined and its later changes parked behind
 * it. A change whose state DynamoDB would refuse for good is parked at once (`UNSTORABLE`), the same way.
 * While the aggregate's table is deferred its changes are parked in order, and folded first once it is
 * resumed. A transient store failure is retried with backoff, then left to redelivery.
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
  readonly #retry: TransientRetry;
  readonly #tracer: ProcessingTracer;
  readonly #foldCommit: FoldCommit;

  public constructor(options: AggregateApplierOptions) {
    positiveInteger('maxAttempts', options.maxAttempts);
    this.#retry = {
      clock: options.clock ?? systemClock,
      attempts: positiveInteger('transientAttempts', options.transientAttempts ?? 3),
      baseDelayMs: positiveInteger('retryBaseDelayMs', options.retryBaseDelayMs ?? 50),
    };
    this.#foldCommit = new FoldCommit({
      stateStore: options.stateStore,
      clock: this.#retry.clock,
      conflictAttempts: options.conflictAttempts,
      baseDelayMs: this.#retry.baseDelayMs,
    });
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#tracer = options.tracer ?? noTracing;
  }

  #fold(input: Parameters<typeof foldChanges>[0]): FoldResult {
    return this.#tracer.traceSync('fold', () => foldChanges(input));
  }

  /**
   * Applies the changes: again with the item that won when a write loses its condition, and again from a
   * fresh read after a transient store failure (with backoff, `transientAttempts` tries in all). `prefetched`
   * carries the stored item when the caller read it already (`item` undefined: the aggregate is new).
   * `onApplied` is told the changes each committed write applied, as it commits.
   */
  public async apply(
    aggregateId: string,
    changes: readonly PendingChange[],
    payloads: PayloadSource,
    prefetched?: { readonly item: AggregateItem | undefined },
    onApplied?: (changes: readonly PendingChange[]) => void,
  ): Promise<AggregateOutcome> {
    const run: Run = {
      aggregateId,
      payloads,
      parked: 0,
      unparked: 0,
      deferred: 0,
      applied: 0,
      duplicates: 0,
      onApplied,
    };
    let first = true;
    // A try after a transient failure reads the item again: what was prefetched may be stale by then.
    const known = () => {
      const item = first ? prefetched : undefined;
      first = false;
      return item;
    };
    const { locks, projection } = this.#options;
    // Under locks the item is read again once they are held: the previous holder may have just written it.
    const outcome = await retryTransient(
      projection.holdLocks === true && locks !== undefined
        ? () => this.#holding(locks, run, changes, known(), () => this.#applyRacing(run, changes, undefined))
        : () => this.#applyRacing(run, changes, known()),
      this.#retry,
    );
    return {
      ...outcome,
      applied: outcome.applied + run.applied,
      duplicates: outcome.duplicates + run.duplicates,
      parked: run.parked,
      unparked: run.unparked,
      ...(run.deferred > 0 ? { deferred: run.deferred } : {}),
    };
  }

  /**
   * Holds the locks of the aggregate and of the aggregates its changes derive updates of (learnt by folding
   * them onto the item as read: derived targets are expected to depend on the changes, not on the state),
   * then applies with their fences. The fold under the locks reads the item again.
   */
  async #holding(
    locks: AggregateLocks,
    run: Run,
    changes: readonly PendingChange[],
    prefetched: { readonly item: AggregateItem | undefined } | undefined,
    apply: () => Promise<AggregateOutcome>,
  ): Promise<AggregateOutcome> {
    const item =
      prefetched !== undefined ? prefetched.item : await this.#options.stateStore.get(run.aggregateId);
    const probe = this.#fold({ ...this.#foldBase(item, changes), changes });
    const ids = [run.aggregateId, ...probe.derived.map((d) => d.aggregateId)];
    return locks.hold(ids, async (fences) => {
      run.fences = fences;
      try {
        return await apply();
      } finally {
        run.fences = undefined;
      }
    });
  }

  /** Folds and writes, again with the item that won whenever a write loses its race. */
  async #applyRacing(
    run: Run,
    batch: readonly PendingChange[],
    prefetched: { readonly item: AggregateItem | undefined } | undefined,
  ): Promise<AggregateOutcome> {
    const { stateStore, projection } = this.#options;
    let changes = batch;
    // Deferral needs the stored item (is the aggregate already deferred?), and so does every conflict
    // strategy but single-source over one source: they skip the blind write; so do writes under locks, which
    // carry their fence in a transaction that returns no previous item.
    let known: Known =
      prefetched !== undefined
        ? prefetched.item
        : projection.needsPreviousState ||
            this.#deferred(changes) ||
            !this.#blindable(changes) ||
            run.fences !== undefined
          ? await stateStore.get(run.aggregateId)
          : 'unknown';
    let writes = 0;
    for (let race = 0; race < MAX_RACES; race++) {
      const attempt =
        known === 'unknown'
          ? await this.#applyBlind(run, changes)
          : await this.#applyKnown(run, changes, known);
      writes += attempt.writes;
      if (attempt.outcome !== undefined) return { ...attempt.outcome, writes };
      if (attempt.next !== undefined) {
        // Part of the changes committed with a full transaction: the rest follows, not a lost race.
        run.applied += attempt.next.applied;
        run.duplicates += attempt.next.duplicates;
        changes = attempt.next.changes;
        race--;
      }
      known = attempt.current ?? (await stateStore.get(run.aggregateId));
    }
    throw new ProcessingError(
      `aggregate ${run.aggregateId}: lost ${MAX_RACES} write races in a row; retrying later`,
    );
  }

  /**
   * A projection that does not read the state writes without reading it, on the position alone. When the
   * fold fails (attempts are counted on the item), the write loses, or DynamoDB refuses the state, the item is
   * read and the batch applied knowing it.
   */
  async #applyBlind(run: Run, changes: readonly PendingChange[]): Promise<Attempt> {
    const { stateStore, projection } = this.#options;
    const fold = this.#fold({ item: undefined, changes, projection, policy: SINGLE_SOURCE });
    // Derived updates need the position known: only it tells which changes of the batch are duplicates.
    if (fold.failure !== undefined || fold.next === undefined || fold.derived.length > 0)
      return { current: undefined, writes: 0 };
    let out: WriteOutcome;
    try {
      out = await stateStore.write(
        run.aggregateId,
        { value: fold.next, pendingFailure: null },
        { kind: 'newer' },
      );
    } catch (error) {
      if (error instanceof UnstorableError) return { current: undefined, writes: 0 };
      throw error;
    }
    if (!out.committed) return lost(out.current);
    // The write proves the stored mark of the changes' one source was older than our last change, not than
    // every change.
    const source = sourceOf(changes[0]!.change);
    const before = out.previous?.positions.get(source) ?? out.previous?.positions.get(UNNAMED_SOURCE);
    const applied = this.#committed(
      run,
      before === undefined ? fold.applied : fold.applied.filter((c) => c.change.position > before),
    );
    return done({ applied, duplicates: changes.length - applied }, 1);
  }

  /**
   * One try knowing the stored item: resume the aggregate if its table is no longer deferred; hold its
   * changes back while it is quarantined or deferred; otherwise fold them onto the item and settle the fold.
   * When DynamoDB refuses a write the check before writing let through, the last change applied is blamed.
   */
  async #applyKnown(
    run: Run,
    changes: readonly PendingChange[],
    item: AggregateItem | undefined,
  ): Promise<Attempt> {
    const deferred = this.#deferred(changes);
    if (item?.quarantine?.reason === 'DEFERRED' && !deferred) return this.#resume(run, changes, item);
    if (item?.quarantine !== undefined || deferred) return this.#holdBack(run, changes, item);
    const base = this.#foldBase(item, changes);
    let fold = this.#fold({ ...base, changes });
    for (;;) {
      try {
        return await this.#settle(run, item, fold);
      } catch (error) {
        fold = await this.#blameEarlier(run, error, fold, changes, base);
      }
    }
  }

  /**
   * DynamoDB refused a write the check before writing let through: the fold again with its last applied
   * change failing (see `withoutLastApplied`). A change parked as the one to blame by the refused try is
   * behind the new one now.
   */
  async #blameEarlier(
    run: Run,
    error: unknown,
    fold: FoldResult,
    changes: readonly PendingChange[],
    base: Omit<FoldInput, 'changes'>,
  ): Promise<FoldResult> {
    const next = withoutLastApplied(error, fold, changes, base);
    if (fold.failure !== undefined)
      await this.#options.parkedStore.relabel([
        this.#parked(run, fold.failure.item, REASON.QUARANTINED, behindMessage(run.aggregateId), 0),
      ]);
    return next;
  }

  /**
   * Writes a fold: its result (nothing failed), the attempt counted (a change failed with attempts left), or
   * the quarantine (attempts used up, or the change's state is unstorable: parked at once).
   */
  async #settle(run: Run, item: AggregateItem | undefined, fold: FoldResult): Promise<Attempt> {
    await this.#parkConflicting(run, fold);
    if (fold.failure === undefined) return this.#writeFolded(run, item, fold);
    if (isPermanent(fold.failure.error)) return this.#quarantine(run, item, fold, fold.failure, 1);
    const attempts = attemptsOf(item, fold.failure);
    if (attempts < this.#options.maxAttempts)
      return this.#countAttempt(run, item, fold, fold.failure, attempts);
    return this.#quarantine(run, item, fold, fold.failure, attempts);
  }

  /**
   * Parks the changes of a held-back aggregate in order: behind its poison quarantine, or as deferred while
   * its table is (which starts a deferral on an aggregate that had none). Changes the state covers are
   * duplicates; a redelivered change already parked keeps its item (parking is once, with the first reason).
   */
  async #holdBack(
    run: Run,
    changes: readonly PendingChange[],
    item: AggregateItem | undefined,
  ): Promise<Attempt> {
    const deferring = item?.quarantine === undefined || item.quarantine.reason === 'DEFERRED';
    const reason = deferring ? REASON.DEFERRED : REASON.QUARANTINED;
    const message = deferring
      ? `deferred while table ${changes[0]!.change.table} is paused or shed`
      : behindMessage(run.aggregateId);
    const fresh = changes.filter((c) => !isCovered(item?.positions, c.change));
    const parked = fresh
      .map((c) => this.#parked(run, c, reason, message, 0))
      .filter((p) => item?.lastParkedKey === undefined || p.sk > item.lastParkedKey);
    const added = await this.#park(run, parked);
    if (deferring) run.deferred += added;
    const lastParkedKey = maxKey(item?.lastParkedKey, parked);
    const first = item?.quarantine === undefined ? fresh[0] : undefined;
    const counts = { duplicates: changes.length - fresh.length };
    if (lastParkedKey === item?.lastParkedKey && first === undefined) return done(counts, 0);
    const out = await this.#options.stateStore.write(
      run.aggregateId,
      { lastParkedKey, ...(first === undefined ? {} : { quarantine: this.#deferral(first, message) }) },
      { kind: 'revision', expected: item },
    );
    return out.committed ? done(counts, 1) : lost(out.current);
  }

  /**
   * Nothing failed: one write of the folded state with its derived updates (none when every change was a
   * duplicate or conflicting). When the derived updates filled one transaction, the changes left follow in the
   * next write.
   */
  async #writeFolded(run: Run, item: AggregateItem | undefined, fold: FoldResult): Promise<Attempt> {
    const counts = {
      applied: fold.applied.length + fold.superseded.length,
      duplicates: fold.duplicates.length,
    };
    if (fold.next === undefined) return done(counts, 0);
    const out = await this.#commit(
      run,
      { value: fold.next, pendingFailure: null },
      { kind: 'revision', expected: item },
      fold.derived,
    );
    if (!out.committed) return lost(out.current);
    this.#committed(run, [...fold.applied, ...fold.superseded]);
    if (fold.remaining.length > 0)
      return { current: undefined, writes: 1, next: { changes: fold.remaining, ...counts } };
    return done(counts, 1);
  }

  /** Writes the aggregate with the fold's derived updates and the fences of the locks held (see `FoldCommit`). */
  #commit(
    run: Run,
    mutation: StateMutation,
    guard: WriteGuard,
    derived: readonly DerivedWrite[],
  ): Promise<FoldOutcome> {
    return this.#foldCommit.write(run.aggregateId, mutation, guard, { derived, fences: run.fences });
  }

  /**
   * A change failed with attempts left: the changes before it are written with the attempt counted, and the
   * aggregate reports the change to redeliver from.
   */
  async #countAttempt(
    run: Run,
    item: AggregateItem | undefined,
    fold: FoldResult,
    failure: FoldFailure,
    attempts: number,
  ): Promise<Attempt> {
    const { sequenceNumber } = failure.item.origin;
    const out = await this.#commit(
      run,
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
      fold.derived,
    );
    if (!out.committed) return lost(out.current);
    return done(
      {
        applied: this.#committed(run, [...fold.applied, ...fold.superseded]),
        duplicates: fold.duplicates.length,
        failure: { sequenceNumber, txId: failure.item.change.txId, error: failure.error },
      },
      1,
    );
  }

  /**
   * Attempts used up, or the change's state is unstorable: park the change and everything after it, in
   * order, and quarantine the aggregate with the changes before it written.
   */
  async #quarantine(
    run: Run,
    item: AggregateItem | undefined,
    fold: FoldResult,
    failure: FoldFailure,
    attempts: number,
  ): Promise<Attempt> {
    const message = failureMessage(failure.error);
    const reachedNow = fold.next?.positions ?? item?.positions;
    const poison = this.#parked(run, failure.item, reasonOf(failure), message, attempts);
    const behind = fold.rest
      .filter((c) => !isCovered(reachedNow, c.change))
      .map((c) => this.#parked(run, c, REASON.QUARANTINED, behindMessage(run.aggregateId), 0));
    await this.#park(run, [poison, ...behind]);
    const out = await this.#commit(
      run,
      {
        value: fold.next,
        pendingFailure: null,
        quarantine: this.#poisonQuarantine(failure.item, message),
        lastParkedKey: maxKey(item?.lastParkedKey, [poison, ...behind]),
      },
      { kind: 'revision', expected: item },
      fold.derived,
    );
    if (!out.committed) return lost(out.current);
    return done(
      {
        applied: this.#committed(run, [...fold.applied, ...fold.superseded]),
        duplicates: fold.duplicates.length + fold.rest.length - behind.length,
        quarantined: true,
        poison: poisonOf(failure.item, message),
      },
      1,
    );
  }

  /**
   * The aggregate's table is no longer deferred: its parked changes go first, then this batch's, in one fold
   * and one write that lifts the deferral (conditional on nothing having been parked since it was read). A
   * change that fails here (or whose state is unstorable) quarantines the aggregate at once, with what follows
   * parked behind it.
   */
  async #resume(run: Run, changes: readonly PendingChange[], item: AggregateItem): Promise<Attempt> {
    // Changes of a refused source wait for an operator, not for the table's resume.
    const waiting = (await this.#options.parkedStore.listAggregate(run.aggregateId)).filter(
      (p) => p.change !== undefined && p.reason !== REASON.CONFLICTING_SOURCE,
    );
    const combined = [...waiting.map(pendingOfParked), ...changes];
    const base = this.#foldBase(item, combined);
    const guard: WriteGuard =
      item.lastParkedKey === undefined
        ? { kind: 'revision', expected: item }
        : { kind: 'lift-quarantine', expected: item };
    let fold = this.#fold({ ...base, changes: combined });
    for (;;) {
      const settledCount =
        fold.failure === undefined ? combined.length - fold.remaining.length : fold.failure.index;
      const refused = new Set(fold.conflicting.map((c) => c.item));
      const r: Resumption = {
        item,
        waiting,
        combined,
        fold,
        guard,
        settled: waiting
          .slice(0, Math.min(settledCount, waiting.length))
          .filter((_, i) => !refused.has(combined[i]!)),
      };
      try {
        await this.#holdConflictingOnResume(run, r);
        return fold.failure === undefined
          ? await this.#liftDeferral(run, r, changes)
          : await this.#poisonOnResume(run, r, fold.failure);
      } catch (error) {
        fold = await this.#blameEarlier(run, error, fold, combined, base);
      }
    }
  }

  /**
   * Changes of a source the table's strategy refuses stay parked through a resume, as `CONFLICTING_SOURCE`:
   * a deferred one is relabelled, one of this batch parked.
   */
  async #holdConflictingOnResume(run: Run, r: Resumption): Promise<void> {
    const relabelled: ParkedLabel[] = [];
    const added: ParkedItem[] = [];
    for (const c of r.fold.conflicting) {
      const waitingItem = r.waiting[r.combined.indexOf(c.item)];
      if (waitingItem === undefined)
        added.push(this.#parked(run, c.item, REASON.CONFLICTING_SOURCE, c.message, 0));
      else if (waitingItem.reason !== REASON.CONFLICTING_SOURCE)
        relabelled.push({
          ...waitingItem,
          reason: REASON.CONFLICTING_SOURCE,
          message: c.message,
          attempts: 0,
        });
    }
    if (relabelled.length > 0) await this.#options.parkedStore.relabel(relabelled);
    await this.#park(run, added);
  }

  /**
   * Every change applied: one write lifts the deferral, then the settled parked changes leave the store. When
   * derived updates filled the transaction first, the write keeps the deferral and the resume goes on from a
   * fresh read with the parked changes left (the batch's applied changes are duplicates then).
   */
  async #liftDeferral(run: Run, r: Resumption, batch: readonly PendingChange[]): Promise<Attempt> {
    const partial = r.fold.remaining.length > 0;
    const out = await this.#commit(
      run,
      partial
        ? { value: r.fold.next, pendingFailure: null }
        : { value: r.fold.next, quarantine: null, pendingFailure: null },
      r.guard,
      r.fold.derived,
    );
    if (!out.committed) return lost(out.current);
    await this.#unpark(run, r.settled);
    const counts = {
      applied: this.#committed(run, [...r.fold.applied, ...r.fold.superseded]),
      duplicates: r.fold.duplicates.length,
    };
    if (!partial) return done(counts, 1);
    // This batch's changes the write recorded are duplicates of the next round.
    const recordedOfBatch = [...r.fold.applied, ...r.fold.superseded].filter((c) => batch.includes(c)).length;
    return {
      current: undefined,
      writes: 1,
      next: { changes: batch, applied: counts.applied, duplicates: counts.duplicates - recordedOfBatch },
    };
  }

  /** A change failed on resume: it is parked as the poison, and what follows it is parked behind it. */
  async #poisonOnResume(run: Run, r: Resumption, failure: FoldFailure): Promise<Attempt> {
    const message = failureMessage(failure.error);
    const { relabelled, added, covered } = this.#heldBackFrom(run, r, failure, message);
    await this.#options.parkedStore.relabel(relabelled);
    await this.#park(run, added);
    const out = await this.#commit(
      run,
      {
        value: r.fold.next,
        pendingFailure: null,
        quarantine: this.#poisonQuarantine(failure.item, message),
        lastParkedKey: maxKey(r.item.lastParkedKey, [...relabelled, ...added] as ParkedItem[]),
      },
      r.guard,
      r.fold.derived,
    );
    if (!out.committed) return lost(out.current);
    await this.#unpark(run, r.settled);
    return done(
      {
        applied: this.#committed(run, [...r.fold.applied, ...r.fold.superseded]),
        duplicates: r.fold.duplicates.length + covered,
        quarantined: true,
        poison: poisonOf(failure.item, message),
      },
      1,
    );
  }

  /**
   * From the failing change on, everything is held back as a poison quarantine: the failing change is parked
   * (or relabelled, when it was waiting) as POISON (or UNSTORABLE), the ones after it as QUARANTINED. This
   * batch's changes already covered by the state, or already waiting (a redelivery, or parked by an earlier
   * try of this resume), are not parked again: they are counted as duplicates (`covered`).
   */
  #heldBackFrom(
    run: Run,
    r: Resumption,
    failure: FoldFailure,
    message: string,
  ): { relabelled: ParkedLabel[]; added: ParkedItem[]; covered: number } {
    const reachedNow = r.fold.next?.positions ?? r.item.positions;
    const behind = behindMessage(run.aggregateId);
    const waitingKeys = new Set(r.waiting.map((w) => w.sk));
    const relabelled: ParkedLabel[] = [];
    const added: ParkedItem[] = [];
    let covered = 0;
    for (let i = failure.index; i < r.combined.length; i++) {
      const poison = i === failure.index;
      const [reason, text, attempts]: [ReasonCode, string, number] = poison
        ? [reasonOf(failure), message, 1]
        : [REASON.QUARANTINED, behind, 0];
      const waitingItem = r.waiting[i];
      if (waitingItem !== undefined) {
        if (waitingItem.reason !== reason)
          relabelled.push({ ...waitingItem, reason, message: text, attempts });
        continue;
      }
      const c = r.combined[i]!;
      const item = this.#parked(run, c, reason, text, attempts);
      if ((!poison && isCovered(reachedNow, c.change)) || waitingKeys.has(item.sk)) covered++;
      else added.push(item);
    }
    return { relabelled, added, covered };
  }

  /** A write that applied `changes` committed: tells the caller, and counts them. */
  #committed(run: Run, changes: readonly PendingChange[]): number {
    if (changes.length > 0) run.onApplied?.(changes);
    return changes.length;
  }

  /** Parks items and counts those parked now (an item parked before stays as it is, uncounted). */
  async #park(run: Run, items: readonly ParkedItem[]): Promise<number> {
    if (items.length === 0) return 0;
    const added = await this.#options.parkedStore.put(items);
    run.parked += added;
    return added;
  }

  /** Deletes parked items that applied (or that the state covered), counting them. */
  async #unpark(run: Run, items: readonly ParkedItem[]): Promise<void> {
    if (items.length === 0) return;
    await this.#options.parkedStore.delete(items);
    run.unparked += items.length;
  }

  /** The fold's start: the item, the projection, and the policy of the changes' table. */
  #foldBase(item: AggregateItem | undefined, changes: readonly PendingChange[]): Omit<FoldInput, 'changes'> {
    return { item, projection: this.#options.projection, policy: this.#policyOf(changes) };
  }

  #policyOf(changes: readonly PendingChange[]): ConflictPolicy {
    const first = changes[0];
    return first === undefined
      ? SINGLE_SOURCE
      : (this.#options.conflictPolicy?.(first.change.table) ?? SINGLE_SOURCE);
  }

  /** A blind write needs single-source and one source among the changes (the condition checks the item's). */
  #blindable(changes: readonly PendingChange[]): boolean {
    if (this.#policyOf(changes).strategy !== 'single-source') return false;
    const source = changes[0] === undefined ? undefined : sourceOf(changes[0].change);
    return changes.every((c) => sourceOf(c.change) === source);
  }

  /**
   * Parks the changes of a source the table's strategy refuses, as `CONFLICTING_SOURCE`, before the write
   * that records the rest (a failure between them leaves the state as it was; the redelivery parks again,
   * once). The aggregate goes on with its own source: no quarantine.
   */
  async #parkConflicting(run: Run, fold: FoldResult): Promise<void> {
    await this.#park(
      run,
      fold.conflicting.map((c) => this.#parked(run, c.item, REASON.CONFLICTING_SOURCE, c.message, 0)),
    );
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

  /** The quarantine a change that keeps failing (or cannot be stored) puts on its aggregate. */
  #poisonQuarantine(item: PendingChange, message: string): Quarantine {
    return {
      reason: 'POISON',
      position: item.change.position,
      sequenceNumber: item.origin.sequenceNumber,
      error: message,
      at: new Date(this.#now()).toISOString(),
    };
  }

  #parked(run: Run, item: PendingChange, reason: ReasonCode, message: string, attempts: number): ParkedItem {
    const record = run.payloads.recordOf(item);
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
