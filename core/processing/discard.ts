import { REASON, type ReasonCode } from '../events/reason-codes.js';
import { AGGREGATE_PREFIX, type ParkedItem } from '../state/parked-item.js';
import type { ParkedStorePort } from '../state/parked-store-port.js';
import type { StateStorePort, WriteGuard } from '../state/state-store-port.js';
import { ProcessingError } from './errors.js';

/**
 * Reasons no replay can ever apply: the record is not a row change. An operator acknowledges them with
 * `cdcp parked discard` once acted on (a truncate: clear the table's state; a logical message: read it).
 */
const DISCARD_ONLY_REASONS: ReadonlySet<ReasonCode> = new Set([REASON.TRUNCATE, REASON.LOGICAL_MESSAGE]);

/** Which parked items to discard; at least one field. Items must match every field given. */
interface DiscardFilter {
  readonly aggregateId?: string;
  readonly reason?: ReasonCode;
  /** One item, by its keys (as `cdcp parked list --json` prints them). */
  readonly key?: { readonly pk: string; readonly sk: string };
}

/** What a discard did. */
interface DiscardOutcome {
  readonly discarded: readonly ParkedItem[];
  /** Aggregates whose quarantine was lifted because nothing is parked behind it any more. */
  readonly lifted: readonly string[];
}

const MAX_RACES = 8;

function matches(item: ParkedItem, filter: DiscardFilter): boolean {
  return (
    (filter.aggregateId === undefined || item.aggregateId === filter.aggregateId) &&
    (filter.reason === undefined || item.reason === filter.reason) &&
    (filter.key === undefined || (item.pk === filter.key.pk && item.sk === filter.key.sk))
  );
}

/**
 * Removes parked items for good (`cdcp parked discard`): what an operator has decided no replay should apply,
 * such as an acknowledged truncate. An aggregate left with nothing parked has its quarantine lifted (on the
 * same condition as a replay's lift: nothing was parked behind it since it was read), so that its later
 * changes apply again instead of waiting behind a quarantine with nothing to replay.
 *
 * @example
 * ```ts
 * const discarder = new ParkedDiscarder({ stateStore, parkedStore });
 * const items = await discarder.select({ reason: 'TRUNCATE' });
 * await discarder.discard(items);
 * ```
 */
class ParkedDiscarder {
  readonly #stateStore: StateStorePort;
  readonly #parkedStore: ParkedStorePort;

  public constructor(options: {
    readonly stateStore: StateStorePort;
    readonly parkedStore: ParkedStorePort;
  }) {
    this.#stateStore = options.stateStore;
    this.#parkedStore = options.parkedStore;
  }

  /** The parked items the filter names, in source order per aggregate. */
  public async select(filter: DiscardFilter): Promise<ParkedItem[]> {
    if (filter.aggregateId === undefined && filter.reason === undefined && filter.key === undefined)
      throw new ProcessingError('a discard names an aggregate, a reason or a key: it never takes everything');
    const items =
      filter.aggregateId !== undefined
        ? await this.#parkedStore.listAggregate(filter.aggregateId)
        : await this.#parkedStore.scanAll();
    return items
      .filter((i) => matches(i, filter))
      .sort((a, b) => (a.pk === b.pk ? (a.sk < b.sk ? -1 : 1) : a.pk < b.pk ? -1 : 1));
  }

  /** Deletes the items, then lifts the quarantine of each aggregate left with nothing parked. */
  public async discard(items: readonly ParkedItem[]): Promise<DiscardOutcome> {
    await this.#parkedStore.delete(items);
    const aggregates = [
      ...new Set(items.filter((i) => i.pk.startsWith(AGGREGATE_PREFIX)).map((i) => i.aggregateId!)),
    ];
    const lifted: string[] = [];
    for (const aggregateId of aggregates.sort())
      if (await this.#liftIfEmpty(aggregateId)) lifted.push(aggregateId);
    return { discarded: items, lifted };
  }

  /** Lifts the aggregate's quarantine when nothing is parked behind it; false when something is, or none. */
  async #liftIfEmpty(aggregateId: string): Promise<boolean> {
    for (let race = 0; race < MAX_RACES; race++) {
      const item = await this.#stateStore.get(aggregateId);
      if (item?.quarantine === undefined) return false;
      // A change of a refused source waits for its table's strategy, not behind the quarantine.
      const waiting = await this.#parkedStore.listAggregate(aggregateId);
      if (waiting.some((p) => p.change !== undefined && p.reason !== REASON.CONFLICTING_SOURCE)) return false;
      const guard: WriteGuard =
        item.lastParkedKey === undefined
          ? { kind: 'revision', expected: item }
          : { kind: 'lift-quarantine', expected: item };
      const out = await this.#stateStore.write(
        aggregateId,
        { quarantine: null, pendingFailure: null },
        guard,
      );
      if (out.committed) return true;
    }
    throw new ProcessingError(
      `discard on ${aggregateId}: lost ${MAX_RACES} write races in a row lifting its quarantine; run it again`,
    );
  }
}

export type { DiscardFilter, DiscardOutcome };
export { DISCARD_ONLY_REASONS, ParkedDiscarder };
