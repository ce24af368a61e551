import { REASON } from '../events/reason-codes.js';
import { AGGREGATE_PREFIX, BAD_INPUT_PREFIX, type ParkedItem } from '../state/parked-item.js';
import type { ParkedLabel, ParkedStorePort } from '../state/parked-store-port.js';
import type { StateMutation, StateStorePort, WriteGuard } from '../state/state-store-port.js';
import type { BatchProcessor } from './batch-processor.js';
import { type ConflictPolicy, SINGLE_SOURCE } from './conflicts.js';
import { DISCARD_ONLY_REASONS } from './discard.js';
import { ProcessingError } from './errors.js';
import { type FoldResult, foldChanges, pendingOfParked } from './fold.js';
import { FoldCommit } from './fold-commit.js';
import type { Projection } from './projection.js';

/** What replaying one aggregate (or one bad record) did. */
interface ReplayOutcome {
  readonly target: string;
  /** Parked changes applied now. */
  readonly replayed: number;
  /** Parked changes already covered by the state (duplicates), removed. */
  readonly skipped: number;
  /** Parked changes still parked (from a change that failed again on). */
  readonly remaining: number;
  /** True when the aggregate is no longer quarantined. */
  readonly lifted: boolean;
  /** Why the replay stopped early, if it did. */
  readonly error: string | undefined;
  /**
   * True for a record no replay applies (a truncate, a logical message: `DISCARD_ONLY_REASONS`): left parked
   * until an operator acknowledges it with `cdcp parked discard`; not a failure of the replay.
   */
  readonly waitsForDiscard?: boolean;
}

interface ParkedReplayerOptions {
  readonly stateStore: StateStorePort;
  readonly parkedStore: ParkedStorePort;
  readonly projection: Projection;
  /** Re-processes bad-input records (after, say, key columns were configured). */
  readonly processor?: BatchProcessor;
  /** How a table resolves changes of several sources, as the consumer does. @default every table single-source */
  readonly conflictPolicy?: (table: string) => ConflictPolicy;
  readonly now?: () => number;
}

const MAX_RACES = 8;

/** A record no replay applies, left for `cdcp parked discard`. */
function waitingForDiscard(item: ParkedItem): ReplayOutcome {
  return {
    target: `${item.pk}/${item.sk}`,
    replayed: 0,
    skipped: 0,
    remaining: 1,
    lifted: false,
    error: `${item.reason} is never replayed: act on it, then acknowledge it with \`cdcp parked discard --reason ${item.reason}\``,
    waitsForDiscard: true,
  };
}

/**
 * Puts parked changes back through the same fold and conditional write as the consumer, in source order,
 * and lifts the quarantine once they all apply (`cdcp parked replay`). Safe to run while consumers run: the
 * lift is conditional on no change having been parked behind the quarantine since the replay read the list.
 *
 * @example
 * ```ts
 * const outcome = await replayer.replayAggregate('public.orders#42');
 * ```
 */
class ParkedReplayer {
  readonly #o: ParkedReplayerOptions;
  readonly #now: () => number;
  readonly #commit: FoldCommit;

  public constructor(options: ParkedReplayerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#commit = new FoldCommit({ stateStore: options.stateStore });
  }

  /** A replay's write, with the derived updates of the changes it applies (no locks: replays take none). */
  #write(aggregateId: string, derived: FoldResult['derived'], mutation: StateMutation, guard: WriteGuard) {
    return this.#commit.write(aggregateId, mutation, guard, { derived });
  }

  /** Replays one aggregate's parked changes. */
  public async replayAggregate(aggregateId: string): Promise<ReplayOutcome> {
    const { stateStore, parkedStore, projection } = this.#o;
    /** Changes replayed and skipped by rounds that wrote part of them (a full transaction). */
    const before = { replayed: 0, skipped: 0 };
    for (let race = 0; race < MAX_RACES; race++) {
      const item = await stateStore.get(aggregateId);
      const parked = (await parkedStore.listAggregate(aggregateId)).filter((p) => p.change !== undefined);
      const changes = parked.map(pendingOfParked);
      const table = changes[0]?.change.table;
      const fold = foldChanges({
        item,
        changes,
        projection,
        policy: table === undefined ? SINGLE_SOURCE : (this.#o.conflictPolicy?.(table) ?? SINGLE_SOURCE),
      });
      // Parked changes the fold settled (applied, or covered by the state) leave the store; the failing one
      // and those after it stay, in order, and so do those of a source the table's strategy still refuses.
      const settledCount =
        fold.failure === undefined ? parked.length - fold.remaining.length : fold.failure.index;
      const refused = new Set(fold.conflicting.map((c) => c.item));
      const finished = parked.slice(0, settledCount).filter((_, i) => !refused.has(changes[i]!));
      // What stays for its table's strategy waits no longer for a quarantine or a deferral: it says so.
      const stillRefused: ParkedLabel[] = fold.conflicting
        .map((c) => ({ item: parked[changes.indexOf(c.item)]!, message: c.message }))
        .filter(({ item }) => item.reason !== REASON.CONFLICTING_SOURCE)
        .map(({ item, message }) => ({ ...item, reason: REASON.CONFLICTING_SOURCE, message, attempts: 0 }));
      if (fold.failure !== undefined) {
        const message = `${fold.failure.error.name}: ${fold.failure.error.message}`;
        if (
          fold.next !== undefined ||
          item?.quarantine?.reason !== 'POISON' ||
          item.quarantine.position !== fold.failure.item.change.position
        ) {
          const out = await this.#write(
            aggregateId,
            fold.derived,
            {
              value: fold.next,
              quarantine: {
                reason: 'POISON',
                position: fold.failure.item.change.position,
                sequenceNumber: fold.failure.item.origin.sequenceNumber,
                error: message,
                at: new Date(this.#now()).toISOString(),
              },
            },
            { kind: 'revision', expected: item },
          );
          if (!out.committed) continue;
        }
        // The change that failed again is the poison now (it may have been parked as DEFERRED), and what
        // follows waits behind it: the deferral sweep must not pick this aggregate up again by itself.
        const failing = parked.slice(fold.failure.index);
        const relabelled = failing
          .map((p, i) =>
            i === 0
              ? { ...p, reason: REASON.POISON, message, attempts: Math.max(1, p.attempts) }
              : {
                  ...p,
                  reason: REASON.QUARANTINED,
                  message: `parked behind the quarantine of ${aggregateId}`,
                },
          )
          .filter((p, i) => p.reason !== failing[i]!.reason);
        await parkedStore.relabel([...stillRefused, ...relabelled]);
        await parkedStore.delete(finished);
        return {
          target: aggregateId,
          replayed: before.replayed + fold.applied.length + fold.superseded.length,
          skipped: before.skipped + fold.duplicates.length,
          remaining: parked.length - finished.length,
          lifted: false,
          error: message,
        };
      }
      const partial = fold.remaining.length > 0;
      if (partial || (item === undefined && fold.next !== undefined)) {
        // A new aggregate, or derived updates that filled one transaction: write what fits, keeping the
        // quarantine until the rest follows (a next round, from a fresh read).
        const out = await this.#write(
          aggregateId,
          fold.derived,
          { value: fold.next },
          {
            kind: 'revision',
            expected: item,
          },
        );
        if (!out.committed) continue;
        if (partial) {
          await parkedStore.delete(finished);
          before.replayed += fold.applied.length + fold.superseded.length;
          before.skipped += fold.duplicates.length;
          continue;
        }
      } else if (item !== undefined && (fold.next !== undefined || item.quarantine !== undefined)) {
        const guard: WriteGuard =
          item.quarantine !== undefined && item.lastParkedKey !== undefined
            ? { kind: 'lift-quarantine', expected: item }
            : { kind: 'revision', expected: item };
        const out = await this.#write(
          aggregateId,
          fold.derived,
          { value: fold.next, quarantine: null, pendingFailure: null },
          guard,
        );
        if (!out.committed) continue;
      }
      await parkedStore.delete(finished);
      await parkedStore.relabel(stillRefused);
      return {
        target: aggregateId,
        replayed: before.replayed + fold.applied.length + fold.superseded.length,
        skipped: before.skipped + fold.duplicates.length,
        remaining: fold.conflicting.length,
        lifted: true,
        error: fold.conflicting[0]?.message,
      };
    }
    throw new ProcessingError(
      `replay of ${aggregateId}: lost ${MAX_RACES} write races in a row; run it again`,
    );
  }

  /**
   * Re-processes one parked bad-input record through the consumer's normal path; it leaves the parked store
   * only if it now decodes.
   */
  public async replayRecord(item: ParkedItem): Promise<ReplayOutcome> {
    const processor = this.#o.processor;
    if (processor === undefined) throw new ProcessingError('replaying bad input needs a processor');
    const result = await processor.process([
      {
        data: item.record.data,
        partitionKey: item.record.partitionKey,
        sequenceNumber: item.record.sequenceNumber,
        approximateArrivalTimestamp: item.record.approximateArrivalTimestamp / 1000,
        shardId: item.record.shardId,
        eventSourceArn: item.record.eventSourceArn,
        subSequenceNumber: item.record.subSequenceNumber,
      },
    ]);
    const stillBad = result.stats.undecodable > 0;
    const failed = result.batchItemFailures.length > 0;
    if (!stillBad && !failed) await this.#o.parkedStore.delete([item]);
    return {
      target: `${item.pk}/${item.sk}`,
      replayed: stillBad || failed ? 0 : result.stats.applied,
      skipped: stillBad || failed ? 0 : result.stats.duplicates,
      remaining: stillBad || failed ? 1 : 0,
      lifted: !stillBad && !failed,
      error: stillBad ? `still undecodable (${item.reason})` : failed ? 'the change failed again' : undefined,
    };
  }

  /**
   * Replays the aggregates deferred by tables that are no longer deferred (resumed, or shedding lifted), each
   * in source order. Aggregates that receive a new change are resumed by the consumer itself; this sweeps the
   * rest. Returns what it did per aggregate.
   */
  public async replayDeferred(isDeferred: (table: string) => boolean): Promise<ReplayOutcome[]> {
    const items = await this.#o.parkedStore.scanAll();
    const ready = new Set(
      items
        .filter((i) => i.reason === REASON.DEFERRED && i.change !== undefined && !isDeferred(i.change.table))
        .map((i) => i.aggregateId!),
    );
    const outcomes: ReplayOutcome[] = [];
    for (const id of [...ready].sort()) outcomes.push(await this.replayAggregate(id));
    return outcomes;
  }

  /** Replays everything parked (or only `aggregateId`): each aggregate in order, then bad-input records. */
  public async replayAll(filter: { readonly aggregateId?: string } = {}): Promise<ReplayOutcome[]> {
    if (filter.aggregateId !== undefined) return [await this.replayAggregate(filter.aggregateId)];
    const items = await this.#o.parkedStore.scanAll();
    const aggregates = [
      ...new Set(items.filter((i) => i.pk.startsWith(AGGREGATE_PREFIX)).map((i) => i.aggregateId!)),
    ];
    const outcomes: ReplayOutcome[] = [];
    for (const id of aggregates.sort()) outcomes.push(await this.replayAggregate(id));
    for (const item of items.filter((i) => i.pk.startsWith(BAD_INPUT_PREFIX)))
      if (DISCARD_ONLY_REASONS.has(item.reason)) outcomes.push(waitingForDiscard(item));
      else if (this.#o.processor !== undefined) outcomes.push(await this.replayRecord(item));
    return outcomes;
  }
}

export type { ParkedReplayerOptions, ReplayOutcome };
export { ParkedReplayer };
