import { REASON, type ReasonCode } from '../events/reason-codes.js';
import type { AggregateItem } from '../state/aggregate-item.js';
import { DerivedUpdateError, UnstorableError } from '../state/errors.js';
import type { ParkedItem } from '../state/parked-item.js';
import {
  type FoldFailure,
  type FoldInput,
  type FoldResult,
  foldChanges,
  type PendingChange,
} from './fold.js';

/** How one aggregate of a batch ended. */
interface AggregateOutcome {
  readonly applied: number;
  readonly duplicates: number;
  /** Changes parked now (a change parked before, and delivered again, is not counted again). */
  readonly parked: number;
  /** Parked changes that left the parked store because they applied, or the state covered them (a resume). */
  readonly unparked: number;
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

/**
 * How one try at the aggregate ended: with its outcome, or with a lost condition and the item that won
 * (undefined when unknown: read it again). `writes` counts the state writes the try made.
 */
type Attempt =
  | { readonly outcome: AggregateOutcome; readonly writes: number }
  | {
      readonly outcome?: undefined;
      readonly current: AggregateItem | undefined;
      readonly writes: number;
      /**
       * Set when the try committed part of the changes (their derived updates filled one transaction): the
       * changes to apply next, and what the committed part counted.
       */
      readonly next?: {
        readonly changes: readonly PendingChange[];
        readonly applied: number;
        readonly duplicates: number;
      };
    };

/** The counts of an outcome; parks are counted as they happen (see `AggregateApplier`). */
type Counts = Omit<Partial<AggregateOutcome>, 'parked' | 'unparked' | 'deferred' | 'writes'>;

function done(counts: Counts, writes: number): Attempt {
  return {
    outcome: {
      applied: counts.applied ?? 0,
      duplicates: counts.duplicates ?? 0,
      parked: 0,
      unparked: 0,
      quarantined: counts.quarantined ?? false,
      poison: counts.poison,
      writes,
      failure: counts.failure,
    },
    writes,
  };
}

/** A write that lost its condition. */
function lost(current: AggregateItem | undefined): Attempt {
  return { current, writes: 1 };
}

function failureMessage(error: Error): string {
  return `${error.name}: ${error.message}`;
}

/**
 * The reason a failing change is parked with: `UNSTORABLE` or the derived updates' reason at once, `POISON`
 * once its attempts are used up.
 */
function reasonOf(failure: FoldFailure): ReasonCode {
  if (failure.error instanceof DerivedUpdateError) return failure.error.reason;
  return failure.error instanceof UnstorableError ? REASON.UNSTORABLE : REASON.POISON;
}

/** A failure no retry can cure: the change is parked at once, whatever attempts are left. */
function isPermanent(error: Error): boolean {
  return error instanceof UnstorableError || error instanceof DerivedUpdateError;
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
 * After DynamoDB refused a write for good (`error`, an `UnstorableError` the check before writing did not
 * foresee), or its transaction kept conflicting (a `DerivedUpdateError`): the fold again without its last
 * applied change, which fails with that error, so it is parked at once and the changes before it are written.
 * Rethrows any other error, or when nothing applied is left to blame.
 */
function withoutLastApplied(
  error: unknown,
  fold: FoldResult,
  changes: readonly PendingChange[],
  base: Omit<FoldInput, 'changes'>,
): FoldResult {
  const blamed = fold.applied.at(-1);
  if (!(error instanceof UnstorableError || error instanceof DerivedUpdateError) || blamed === undefined)
    throw error;
  const index = changes.indexOf(blamed);
  const before = foldChanges({ ...base, changes: changes.slice(0, index) });
  return { ...before, failure: { index, item: blamed, error }, rest: changes.slice(index + 1) };
}

export type { AggregateOutcome, Attempt, Counts };
export {
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
};
