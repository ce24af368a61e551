import type { ChangeEvent, RowImage } from '../../core/events/change.js';
import type { Projection } from '../../core/processing/projection.js';
import { UnstorableError } from '../../core/state/errors.js';
import { checkStorable } from '../../core/state/state-item.js';

/** What one aggregate must look like once everything was processed. */
interface ExpectedAggregate {
  readonly aggregateId: string;
  deleted: boolean;
  state: RowImage | null;
  /** Undefined for an aggregate whose first change was parked (its item holds only the quarantine). */
  position: string | undefined;
  /** Positions that must be parked for this aggregate (a poison change and all later ones), in order. */
  parkedPositions: string[];
  quarantined: boolean;
}

/**
 * What the changes and records the model saw must come to: each is applied, skipped as a duplicate (its
 * position is not newer), parked, or carries no change (a tombstone, a control record).
 */
interface ExpectedCounts {
  applied: number;
  duplicates: number;
  parked: number;
  noChange: number;
}

/**
 * The expected final state, built by replaying each aggregate's changes in source order — independently of
 * the consumer's code — so a run can be verified against it. A change whose state DynamoDB would refuse
 * (`checkStorable`, the documented limits) is parked and quarantines its aggregate, as a poison change does.
 */
class ExpectedModel {
  readonly #aggregates = new Map<string, ExpectedAggregate>();
  readonly #projection: Projection | undefined;
  readonly #counts: ExpectedCounts = { applied: 0, duplicates: 0, parked: 0, noChange: 0 };

  /** @param projection folds each change as the consumer's projection does; the mirror (the row's image) if absent */
  public constructor(options: { readonly projection?: Projection } = {}) {
    this.#projection = options.projection;
  }

  public get size(): number {
    return this.#aggregates.size;
  }

  public aggregates(): IterableIterator<ExpectedAggregate> {
    return this.#aggregates.values();
  }

  public get(aggregateId: string): ExpectedAggregate | undefined {
    return this.#aggregates.get(aggregateId);
  }

  /** What the changes and records seen so far come to. */
  public get counts(): Readonly<ExpectedCounts> {
    return { ...this.#counts };
  }

  /** Records a record that cannot be decoded: parked as bad input. */
  public badInput(): void {
    this.#counts.parked++;
  }

  /** Records a record that decodes to no change (a tombstone, a control record). */
  public noChange(): void {
    this.#counts.noChange++;
  }

  /** Records a change that must apply (unless its aggregate is quarantined by then, or it is unstorable). */
  public apply(change: ChangeEvent): void {
    const current = this.#aggregates.get(change.aggregateId);
    if (current?.quarantined) {
      current.parkedPositions.push(change.position);
      this.#counts.parked++;
      return;
    }
    if (current?.position !== undefined && change.position <= current.position) {
      this.#counts.duplicates++;
      return;
    }
    const next: ExpectedAggregate = current ?? {
      aggregateId: change.aggregateId,
      deleted: false,
      state: null,
      position: change.position,
      parkedPositions: [],
      quarantined: false,
    };
    const folded =
      this.#projection === undefined
        ? { deleted: change.op === 'delete', state: change.op === 'delete' ? null : change.after }
        : this.#projection.apply(
            current === undefined ? undefined : { deleted: current.deleted, state: current.state },
            change,
          );
    if (folded.state !== null && unstorable(change, folded.deleted, folded.state)) {
      if (current === undefined) this.#aggregates.set(change.aggregateId, { ...next, position: undefined });
      this.poison(change);
      return;
    }
    next.position = change.position;
    next.deleted = folded.deleted;
    next.state = folded.state;
    this.#aggregates.set(change.aggregateId, next);
    this.#counts.applied++;
  }

  /** Records a poison change: it and every later change of its aggregate must end up parked, in order. */
  public poison(change: ChangeEvent): void {
    const current = this.#aggregates.get(change.aggregateId);
    if (current === undefined) throw new Error(`model: poison for unknown aggregate ${change.aggregateId}`);
    current.quarantined = true;
    current.parkedPositions.push(change.position);
    this.#counts.parked++;
  }
}

/** Whether DynamoDB would refuse the state `change` leads to, by the documented limits. */
function unstorable(change: ChangeEvent, deleted: boolean, state: RowImage): boolean {
  try {
    checkStorable(change.aggregateId, { table: change.table, position: change.position, deleted, state });
    return false;
  } catch (error) {
    if (error instanceof UnstorableError) return true;
    throw error;
  }
}

export type { ExpectedAggregate, ExpectedCounts };
export { ExpectedModel };
