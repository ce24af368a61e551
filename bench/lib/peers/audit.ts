import { isDeepStrictEqual } from 'node:util';
import type { ChangeEvent, RowImage } from '../../../core/events/change.js';
import type { ExpectedModel } from '../../../localstack/workload/model.js';

/** One aggregate as a system left it: live or not, its row, and (when counted) the changes applied to it. */
interface ObservedAggregate {
  readonly live: boolean;
  readonly state: RowImage | null;
  /** Changes applied since the aggregate was last created, when the run counts them. */
  readonly applied?: number;
}

/**
 * How many changes each aggregate must have taken since its last delete: the generated ones, not the
 * duplicates injected on purpose (the same rule as the counting projection of `npm start`'s effect audit,
 * as numbers rather than sentences).
 */
class ExpectedEffects {
  readonly #counts = new Map<string, number>();

  public produced(change: ChangeEvent): void {
    this.#counts.set(
      change.aggregateId,
      change.op === 'delete' ? 0 : (this.#counts.get(change.aggregateId) ?? 0) + 1,
    );
  }

  public expected(aggregateId: string): number {
    return this.#counts.get(aggregateId) ?? 0;
  }
}

interface AuditResult {
  readonly aggregates: number;
  /** Aggregates whose final row (or deletion) is the model's. */
  readonly correct: number;
  /** Live with a row other than the model's: an older change applied after a newer one, in effect. */
  readonly stale: number;
  /** Live although the model deleted it: a change older than the delete applied after it. */
  readonly resurrected: number;
  /** Deleted or absent although the model has it live. */
  readonly missing: number;
  /** Changes that took effect more than once since their aggregate's last delete (counted runs only). */
  readonly appliedTwice: number;
  /**
   * Changes whose effect is not in the final count (counted runs only): never applied, or erased by a change
   * applied again out of order (a late duplicate of a delete wipes the changes made since).
   */
  readonly withoutEffect: number;
  /** A few differences, each a sentence naming the aggregate. */
  readonly examples: readonly string[];
}

const EXAMPLES = 5;

/**
 * Compares what a system left in its state table with the generator's model, aggregate by aggregate, and,
 * when `counted`, the changes applied to each live aggregate with the changes produced for it.
 */
function auditAgainstModel(
  model: ExpectedModel,
  effects: ExpectedEffects,
  observed: ReadonlyMap<string, ObservedAggregate>,
  counted: boolean,
): AuditResult {
  let correct = 0;
  let stale = 0;
  let resurrected = 0;
  let missing = 0;
  let appliedTwice = 0;
  let withoutEffect = 0;
  const examples: string[] = [];
  const note = (sentence: string) => {
    if (examples.length < EXAMPLES) examples.push(sentence);
  };
  for (const expected of model.aggregates()) {
    const actual = observed.get(expected.aggregateId);
    const live = actual?.live === true;
    if (expected.deleted && live) {
      resurrected++;
      note(`${expected.aggregateId}: live with ${JSON.stringify(actual?.state)}, deleted in the model`);
    } else if (!expected.deleted && !live) {
      missing++;
      note(`${expected.aggregateId}: ${actual === undefined ? 'absent' : 'deleted'}, live in the model`);
    } else if (!expected.deleted && !isDeepStrictEqual(actual?.state, expected.state)) {
      stale++;
      note(
        `${expected.aggregateId}: ${JSON.stringify(actual?.state)}, expected ${JSON.stringify(expected.state)}`,
      );
    } else correct++;
    if (counted) {
      const got = live ? (actual?.applied ?? 0) : 0;
      const want = expected.deleted ? 0 : effects.expected(expected.aggregateId);
      if (got > want) appliedTwice += got - want;
      else withoutEffect += want - got;
    }
  }
  return {
    aggregates: model.size,
    correct,
    stale,
    resurrected,
    missing,
    appliedTwice,
    withoutEffect,
    examples,
  };
}

export type { AuditResult, ObservedAggregate };
export { auditAgainstModel, ExpectedEffects };
