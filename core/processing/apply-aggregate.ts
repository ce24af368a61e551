import { REASON, type ReasonCode } from '../events/reason-codes.js';
import type { AggregateItem, Quarantine } from '../state/aggregate-item.js';
import { changeKeys, type ParkedItem, type ParkedRecord } from '../state/parked-item.js';
import type { ParkedStorePort } from '../state/parked-store-port.js';
import type { StateStorePort, WriteGuard } from '../state/state-store-port.js';
import { ProcessingError } from './errors.js';
import { type FoldResult, foldChanges, type PendingChange, pendingOfParked } from './fold.js';
import type { Projection } from './projection.js';

/** How one aggregate of a batch ended. */
interface AggregateOutcome {
  readonly applied: number;
  readonly duplicates: number;
  readonly parked: number;
  /** True when this batch quarantined the aggregate. */
  readonly quarantined: boolean;
  /** State writes made (0 or 1, more only after lost races). */
  readonly writes: number;
  /** The change to redeliver from, when the aggregate stopped at a failing change with attempts left. */
  readonly failure: { readonly sequenceNumber: string; readonly error: Error } | undefined;
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
}

/** Lost races (a concurrent replay or writer) retried before the aggregate is reported as failed. */
const MAX_RACES = 8;

/** What we know of the stored item: `unknown` lets a blind projection skip the read. */
type Known = AggregateItem | undefined | 'unknown';

function parkedRecordOf(item: PendingChange, eventSourceArn: string, data: string): ParkedRecord {
  return {
    data,
    partitionKey: item.origin.partitionKey,
    sequenceNumber: item.origin.sequenceNumber,
    subSequenceNumber: item.origin.subSequenceNumber,
    shardId: item.origin.shardId,
    approximateArrivalTimestamp: item.origin.approximateArrivalTimestamp,
    eventSourceArn,
  };
}

/** Raw record data and source ARN for each pending change, to park it with its full payload. */
interface PayloadSource {
  payloadOf(item: PendingChange): { readonly data: string; readonly eventSourceArn: string };
}

/**
 * Applies one aggregate's changes of a batch (docs/architecture.md contracts 2, 4, 5): fold, then one conditional
 * write. A failing change stops the aggregate; its attempts are counted on the state item, and once they are
 * used up the change is parked, the aggregate quarantined and its later changes parked behind it.
 */
class AggregateApplier {
  readonly #options: AggregateApplierOptions;
  readonly #now: () => number;

  public constructor(options: AggregateApplierOptions) {
    if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1)
      throw new ProcessingError(`maxAttempts must be an integer >= 1, received ${options.maxAttempts}`);
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  public async apply(
    aggregateId: string,
    changes: readonly PendingChange[],
    payloads: PayloadSource,
    prefetched: Known = 'unknown',
  ): Promise<AggregateOutcome> {
    const { stateStore, projection } = this.#options;
    // Deferral needs the stored item (is the aggregate already deferred?), so it skips the blind write.
    const deferred = this.#deferred(changes);
    let known: Known =
      (projection.needsPreviousState || deferred) && prefetched === 'unknown'
        ? await stateStore.get(aggregateId)
        : prefetched;
    let writes = 0;
    for (let race = 0; race < MAX_RACES; race++) {
      if (known === 'unknown') {
        const fold = foldChanges({ position: undefined, state: undefined, changes, projection });
        if (fold.failure !== undefined || fold.next === undefined) {
          known = await stateStore.get(aggregateId);
          continue;
        }
        writes++;
        const out = await stateStore.write(
          aggregateId,
          { value: fold.next, pendingFailure: null },
          { kind: 'newer' },
        );
        if (out.committed) {
          // The write proves the stored position was older than our last change, not than every change.
          const before = out.previous?.position;
          const applied =
            before === undefined
              ? fold.applied.length
              : fold.applied.filter((c) => c.change.position > before).length;
          return this.#outcome({ applied, duplicates: changes.length - applied, writes });
        }
        known = out.current ?? (await stateStore.get(aggregateId));
        continue;
      }
      const result = await this.#applyKnown(aggregateId, changes, known, payloads);
      writes += result.writes;
      if (result.outcome !== undefined) return { ...result.outcome, writes };
      known = result.current ?? (await stateStore.get(aggregateId));
    }
    throw new ProcessingError(
      `aggregate ${aggregateId}: lost ${MAX_RACES} write races in a row; retrying later`,
    );
  }

  async #applyKnown(
    aggregateId: string,
    changes: readonly PendingChange[],
    item: AggregateItem | undefined,
    payloads: PayloadSource,
  ): Promise<{ outcome?: AggregateOutcome; current?: AggregateItem; writes: number }> {
    const { stateStore, parkedStore, projection, maxAttempts } = this.#options;
    const reached = item?.position;
    const deferred = this.#deferred(changes);
    if (item?.quarantine?.reason === 'DEFERRED' && !deferred)
      return this.#resume(aggregateId, changes, item, payloads);
    if (item?.quarantine !== undefined || deferred) {
      // Held back: a poison quarantine parks behind it; a deferral (new or ongoing) parks as DEFERRED.
      const deferring = item?.quarantine === undefined || item.quarantine.reason === 'DEFERRED';
      const reason = deferring ? REASON.DEFERRED : REASON.QUARANTINED;
      const message = deferring
        ? `deferred while table ${changes[0]!.change.table} is paused or shed`
        : `parked behind the quarantine of ${aggregateId}`;
      const fresh = changes.filter((c) => reached === undefined || c.change.position > reached);
      // A redelivered change that is already parked (the poison itself, or one parked behind it) keeps its
      // item: re-parking it would overwrite its reason, error and attempts.
      const parked = fresh
        .map((c) => this.#parked(c, payloads, reason, message, 0))
        .filter((p) => item?.lastParkedKey === undefined || p.sk > item.lastParkedKey);
      await parkedStore.put(parked);
      const lastParkedKey = maxKey(item?.lastParkedKey, parked);
      const starts = item?.quarantine === undefined && fresh.length > 0;
      const counts = { parked: parked.length, duplicates: changes.length - fresh.length };
      if (lastParkedKey === item?.lastParkedKey && !starts)
        return { outcome: this.#outcome(counts), writes: 0 };
      const first = fresh[0];
      const out = await stateStore.write(
        aggregateId,
        {
          lastParkedKey,
          ...(starts && first !== undefined
            ? {
                quarantine: {
                  reason: 'DEFERRED' as const,
                  position: first.change.position,
                  sequenceNumber: first.origin.sequenceNumber,
                  error: message,
                  at: new Date(this.#now()).toISOString(),
                },
              }
            : {}),
        },
        { kind: 'revision', expected: item },
      );
      if (!out.committed) return { current: out.current, writes: 1 };
      return { outcome: this.#outcome({ ...counts, writes: 1 }), writes: 1 };
    }

    const fold: FoldResult = foldChanges({
      position: reached,
      state: item === undefined ? undefined : { deleted: item.deleted, state: item.state },
      changes,
      projection,
    });
    const counts = { applied: fold.applied.length, duplicates: fold.duplicates.length };
    if (fold.failure === undefined) {
      if (fold.next === undefined) return { outcome: this.#outcome(counts), writes: 0 };
      const out = await stateStore.write(
        aggregateId,
        { value: fold.next, pendingFailure: null },
        { kind: 'revision', expected: item },
      );
      return out.committed
        ? { outcome: this.#outcome(counts), writes: 1 }
        : { current: out.current, writes: 1 };
    }

    const { failure } = fold;
    const pending = item?.pendingFailure;
    const attempts =
      pending !== undefined && pending.position === failure.item.change.position ? pending.attempts + 1 : 1;
    const message = `${failure.error.name}: ${failure.error.message}`;
    if (attempts < maxAttempts) {
      const out = await stateStore.write(
        aggregateId,
        {
          value: fold.next,
          pendingFailure: {
            position: failure.item.change.position,
            sequenceNumber: failure.item.origin.sequenceNumber,
            attempts,
            error: message,
          },
        },
        { kind: 'revision', expected: item },
      );
      if (!out.committed) return { current: out.current, writes: 1 };
      return {
        outcome: this.#outcome({
          ...counts,
          writes: 1,
          failure: { sequenceNumber: failure.item.origin.sequenceNumber, error: failure.error },
        }),
        writes: 1,
      };
    }

    // Attempts used up: park the change and everything after it, in order, and quarantine the aggregate.
    const reachedNow = fold.next?.position ?? reached;
    const poison = this.#parked(failure.item, payloads, REASON.POISON, message, attempts);
    const behind = fold.rest
      .filter((c) => reachedNow === undefined || c.change.position > reachedNow)
      .map((c) =>
        this.#parked(c, payloads, REASON.QUARANTINED, `parked behind the quarantine of ${aggregateId}`, 0),
      );
    await parkedStore.put([poison, ...behind]);
    const out = await stateStore.write(
      aggregateId,
      {
        value: fold.next,
        pendingFailure: null,
        quarantine: this.#poisonQuarantine(failure.item, message),
        lastParkedKey: maxKey(item?.lastParkedKey, [poison, ...behind]),
      },
      { kind: 'revision', expected: item },
    );
    if (!out.committed) return { current: out.current, writes: 1 };
    return {
      outcome: this.#outcome({
        ...counts,
        duplicates: counts.duplicates + fold.rest.length - behind.length,
        parked: 1 + behind.length,
        quarantined: true,
        writes: 1,
      }),
      writes: 1,
    };
  }

  #deferred(changes: readonly PendingChange[]): boolean {
    const first = changes[0];
    return first !== undefined && (this.#options.isDeferred?.(first.change.table) ?? false);
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
  ): Promise<{ outcome?: AggregateOutcome; current?: AggregateItem; writes: number }> {
    const { stateStore, parkedStore, projection } = this.#options;
    const waiting = (await parkedStore.listAggregate(aggregateId)).filter((p) => p.change !== undefined);
    const combined = [...waiting.map(pendingOfParked), ...changes];
    const fold = foldChanges({
      position: item.position,
      state: item.position === undefined ? undefined : { deleted: item.deleted, state: item.state },
      changes: combined,
      projection,
    });
    const guard: WriteGuard =
      item.lastParkedKey === undefined
        ? { kind: 'revision', expected: item }
        : { kind: 'lift-quarantine', expected: item };
    const settledCount = fold.failure === undefined ? combined.length : fold.failure.index;
    const settledParked = waiting.slice(0, Math.min(settledCount, waiting.length));
    if (fold.failure === undefined) {
      const out = await stateStore.write(
        aggregateId,
        { value: fold.next, quarantine: null, pendingFailure: null },
        guard,
      );
      if (!out.committed) return { current: out.current, writes: 1 };
      await parkedStore.delete(settledParked);
      return {
        outcome: this.#outcome({
          applied: fold.applied.length,
          duplicates: fold.duplicates.length,
          writes: 1,
        }),
        writes: 1,
      };
    }
    const { failure } = fold;
    const message = `${failure.error.name}: ${failure.error.message}`;
    // From the failing change on, everything is held back as a poison quarantine: the failing change is parked
    // (or re-parked, when it was waiting) as POISON, the ones after it as QUARANTINED; this batch's changes
    // already covered by the state are not parked again.
    const reachedNow = fold.next?.position ?? item.position;
    const behind = `parked behind the quarantine of ${aggregateId}`;
    const parked: ParkedItem[] = [];
    for (let i = failure.index; i < combined.length; i++) {
      const c = combined[i]!;
      const poison = i === failure.index;
      const waitingItem = waiting[i];
      if (waitingItem !== undefined)
        parked.push({
          ...waitingItem,
          reason: poison ? REASON.POISON : REASON.QUARANTINED,
          message: poison ? message : behind,
          attempts: poison ? 1 : 0,
        });
      else if (poison || reachedNow === undefined || c.change.position > reachedNow)
        parked.push(
          poison
            ? this.#parked(c, payloads, REASON.POISON, message, 1)
            : this.#parked(c, payloads, REASON.QUARANTINED, behind, 0),
        );
    }
    await parkedStore.put(parked);
    const out = await stateStore.write(
      aggregateId,
      {
        value: fold.next,
        pendingFailure: null,
        quarantine: this.#poisonQuarantine(failure.item, message),
        lastParkedKey: maxKey(item.lastParkedKey, parked),
      },
      guard,
    );
    if (!out.committed) return { current: out.current, writes: 1 };
    await parkedStore.delete(settledParked);
    return {
      outcome: this.#outcome({
        applied: fold.applied.length,
        duplicates: fold.duplicates.length,
        parked: parked.length,
        quarantined: true,
        writes: 1,
      }),
      writes: 1,
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
    const { data, eventSourceArn } = payloads.payloadOf(item);
    const record = parkedRecordOf(item, eventSourceArn, data);
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

  #outcome(partial: Partial<AggregateOutcome>): AggregateOutcome {
    return {
      applied: partial.applied ?? 0,
      duplicates: partial.duplicates ?? 0,
      parked: partial.parked ?? 0,
      quarantined: partial.quarantined ?? false,
      writes: partial.writes ?? 0,
      failure: partial.failure,
    };
  }
}

function maxKey(current: string | undefined, items: readonly ParkedItem[]): string | undefined {
  let max = current;
  for (const i of items) if (max === undefined || i.sk > max) max = i.sk;
  return max;
}

export type { AggregateApplierOptions, AggregateOutcome, PayloadSource };
export { AggregateApplier };
