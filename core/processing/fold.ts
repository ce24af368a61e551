import type { ChangeEvent, RecordOrigin } from '../events/change.js';
import type { AggregateItem } from '../state/aggregate-item.js';
import type { ParkedItem } from '../state/parked-item.js';
import { checkStorable } from '../state/state-item.js';
import type { StateValue } from '../state/state-store-port.js';
import type { ProjectedState, Projection } from './projection.js';

/** A decoded change and the record it came from. */
interface PendingChange {
  readonly change: ChangeEvent;
  readonly origin: RecordOrigin;
  /** The user record's own bytes when it came inside a KPL aggregate (parked instead of the aggregate). */
  readonly data?: Uint8Array;
}

interface FoldInput {
  /** Position of the last change already applied; undefined when unknown or none. */
  readonly position: string | undefined;
  /** Current state; undefined when unknown (blind projections) or the aggregate is new. */
  readonly state: ProjectedState | undefined;
  readonly changes: readonly PendingChange[];
  readonly projection: Projection;
}

interface FoldFailure {
  readonly index: number;
  readonly item: PendingChange;
  /** The projection's error, or an `UnstorableError` when DynamoDB would refuse the state for good. */
  readonly error: Error;
}

interface FoldResult {
  readonly applied: readonly PendingChange[];
  /** Changes at or below the position already reached: redeliveries and late duplicates. */
  readonly duplicates: readonly PendingChange[];
  /** The state after the applied changes; undefined when none applied. */
  readonly next: StateValue | undefined;
  /** The first change that failed; nothing after it was applied. */
  readonly failure: FoldFailure | undefined;
  /** Changes after the failing one, in order (empty without a failure). */
  readonly rest: readonly PendingChange[];
}

/**
 * Folds one aggregate's changes, in batch order, onto its state (docs/architecture.md contracts 1, 2, 5): a change whose
 * position is not greater than the position reached so far is a duplicate and skipped; the first change the
 * projection rejects, or whose state DynamoDB would refuse, stops the fold, so a later change of the aggregate
 * is never applied before it.
 *
 * @example
 * ```ts
 * const result = foldChanges({ position: item?.position, state, changes, projection: mirrorProjection });
 * ```
 */
function foldChanges(input: FoldInput): FoldResult {
  const applied: PendingChange[] = [];
  const duplicates: PendingChange[] = [];
  let position = input.position;
  let state = input.state;
  let last: PendingChange | undefined;
  for (let index = 0; index < input.changes.length; index++) {
    const item = input.changes[index]!;
    if (position !== undefined && item.change.position <= position) {
      duplicates.push(item);
      continue;
    }
    let next: ProjectedState;
    try {
      next = input.projection.apply(state, item.change);
      // Decided before writing, change by change, so the change that makes the state unstorable is the one
      // that fails (UnstorableError: parked at once, never retried).
      if (next.state !== null)
        checkStorable(item.change.aggregateId, {
          table: item.change.table,
          position: item.change.position,
          deleted: next.deleted,
          state: next.state,
        });
    } catch (error) {
      return {
        applied,
        duplicates,
        next: stateValue(last, state, position),
        failure: { index, item, error: error instanceof Error ? error : new Error(String(error)) },
        rest: input.changes.slice(index + 1),
      };
    }
    state = next;
    position = item.change.position;
    last = item;
    applied.push(item);
  }
  return { applied, duplicates, next: stateValue(last, state, position), failure: undefined, rest: [] };
}

function stateValue(
  last: PendingChange | undefined,
  state: ProjectedState | undefined,
  position: string | undefined,
): StateValue | undefined {
  if (last === undefined || state === undefined || position === undefined) return undefined;
  return { table: last.change.table, position, deleted: state.deleted, state: state.state };
}

/** A parked change as a pending one, to fold it again (replay, resume). */
function pendingOfParked(item: ParkedItem): PendingChange {
  return {
    change: item.change!,
    origin: {
      shardId: item.record.shardId,
      sequenceNumber: item.record.sequenceNumber,
      subSequenceNumber: item.record.subSequenceNumber,
      partitionKey: item.record.partitionKey,
      approximateArrivalTimestamp: item.record.approximateArrivalTimestamp,
    },
  };
}

/**
 * The state a projection folds onto: none for an aggregate no change was applied to yet, even when its item
 * exists (it failed, or was deferred, before its first change applied), so `previous` does not depend on it.
 */
function projectedStateOf(item: AggregateItem | undefined): ProjectedState | undefined {
  return item?.position === undefined ? undefined : { deleted: item.deleted, state: item.state };
}

export type { FoldFailure, FoldInput, FoldResult, PendingChange };
export { foldChanges, pendingOfParked, projectedStateOf };
