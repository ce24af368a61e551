import type { ChangeEvent, RowImage } from '../../core/events/change.js';
import type { Projection } from '../../core/processing/projection.js';
import type { StateRow } from './state-scan.js';

/** State field in which {@link countingProjection} counts the changes applied to an aggregate. */
const APPLIED_CHANGES_FIELD = '__appliedChanges';

/**
 * The mirror projection plus a count of the changes applied since the aggregate was last created: a change
 * that took effect twice (or was lost) shows as a wrong count, which the mirror alone cannot show (applying
 * the same row image twice leaves the same row). For runs that must prove exactly-once effects (worker kill
 * tests); it reads the previous state, so it costs a read per 100 aggregates per batch.
 */
const countingProjection: Projection = {
  name: 'mirror-counting',
  needsPreviousState: true,
  apply: (previous, change) => {
    if (change.op === 'delete') return { deleted: true, state: null };
    const before = previous?.deleted === false ? Number(previous.state?.[APPLIED_CHANGES_FIELD] ?? 0) : 0;
    return { deleted: false, state: { ...change.after, [APPLIED_CHANGES_FIELD]: before + 1 } };
  },
};

/**
 * What the counts must be: per aggregate, the changes produced since its last delete. Aggregates that got a
 * poison change are left out (their later changes are parked, not applied).
 */
class EffectCounts {
  readonly #counts = new Map<string, number>();
  readonly #skipped = new Set<string>();

  /** Records one produced change (not a duplicate injected on purpose). */
  public produced(change: ChangeEvent, poison: boolean): void {
    if (poison) this.#skipped.add(change.aggregateId);
    this.#counts.set(
      change.aggregateId,
      change.op === 'delete' ? 0 : (this.#counts.get(change.aggregateId) ?? 0) + 1,
    );
  }

  /**
   * Checks every live aggregate's count and strips the counting field from its state, so the state can be
   * compared with the model. Returns a sentence per difference.
   */
  public verify(state: Map<string, StateRow>): string[] {
    const differences: string[] = [];
    for (const [id, row] of state) {
      if (row.state === null) continue;
      const { [APPLIED_CHANGES_FIELD]: applied, ...rest } = row.state as RowImage;
      state.set(id, { ...row, state: rest });
      if (row.deleted || this.#skipped.has(id)) continue;
      const expected = this.#counts.get(id);
      if (expected !== undefined && Number(applied) !== expected)
        differences.push(
          `${id}: ${String(applied)} changes took effect since it was last created, expected ${expected} (a change applied twice, or lost)`,
        );
    }
    return differences;
  }
}

export { APPLIED_CHANGES_FIELD, countingProjection, EffectCounts };
