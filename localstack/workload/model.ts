import type { ChangeEvent, RowImage } from '../../core/events/change.js';
import type { Projection } from '../../core/processing/projection.js';

/** What one aggregate must look like once everything was processed. */
interface ExpectedAggregate {
  readonly aggregateId: string;
  deleted: boolean;
  state: RowImage | null;
  position: string;
  /** Positions that must be parked for this aggregate (a poison change and all later ones), in order. */
  parkedPositions: string[];
  quarantined: boolean;
}

/**
 * The expected final state, built by replaying each aggregate's changes in source order — independently of
 * the consumer's code — so a run can be verified against it.
 */
class ExpectedModel {
  readonly #aggregates = new Map<string, ExpectedAggregate>();
  readonly #projection: Projection | undefined;

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

  /** Records a change that must apply (unless its aggregate is quarantined by then). */
  public apply(change: ChangeEvent): void {
    const current = this.#aggregates.get(change.aggregateId);
    if (current?.quarantined) {
      current.parkedPositions.push(change.position);
      return;
    }
    if (current !== undefined && change.position <= current.position) return;
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
    next.position = change.position;
    next.deleted = folded.deleted;
    next.state = folded.state;
    this.#aggregates.set(change.aggregateId, next);
  }

  /** Records a poison change: it and every later change of its aggregate must end up parked, in order. */
  public poison(change: ChangeEvent): void {
    const current = this.#aggregates.get(change.aggregateId);
    if (current === undefined) throw new Error(`model: poison for unknown aggregate ${change.aggregateId}`);
    current.quarantined = true;
    current.parkedPositions.push(change.position);
  }
}

export type { ExpectedAggregate };
export { ExpectedModel };
