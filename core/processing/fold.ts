import type { ChangeEvent, RecordOrigin } from '../events/change.js';
import { REASON } from '../events/reason-codes.js';
import type { AggregateItem } from '../state/aggregate-item.js';
import {
  type DerivedField,
  type DerivedWrite,
  derivedWrites,
  MAX_TRANSACTION_ITEMS,
  mergeDerived,
} from '../state/derived-update.js';
import { DerivedUpdateError } from '../state/errors.js';
import type { ParkedItem } from '../state/parked-item.js';
import { checkStorable } from '../state/state-item.js';
import type { StateValue } from '../state/state-store-port.js';
import type { ProjectedState, Projection, ProjectionResult } from './projection.js';

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
  /** The derived updates of the applied changes, merged per aggregate, in sorted order. */
  readonly derived: readonly DerivedWrite[];
  /**
   * Changes left for a next write, in order: the applied changes' derived updates filled one transaction
   * (99 derived aggregates) before them. Empty when everything fit.
   */
  readonly remaining: readonly PendingChange[];
}

/** Derived aggregates one transaction holds besides its source aggregate. */
const MAX_DERIVED_AGGREGATES = MAX_TRANSACTION_ITEMS - 1;

type Gathered = Map<string, Map<string, DerivedField>>;

/**
 * Adds a change's derived updates to those gathered for one write: `full` when they would take the write past
 * one transaction (the change then goes to the next write). A change whose own updates are malformed, or alone
 * more than one transaction holds, throws {@link DerivedUpdateError} (it is parked at once).
 */
function gatherDerived(
  gathered: Gathered,
  aggregateId: string,
  updates: ProjectionResult['derived'],
): 'added' | 'full' {
  if (updates === undefined || updates.length === 0) return 'added';
  const own: Gathered = new Map();
  mergeDerived(own, aggregateId, updates);
  if (own.size > MAX_DERIVED_AGGREGATES)
    throw new DerivedUpdateError(
      `${aggregateId}: the change derives updates of ${own.size} aggregates, more than the ${MAX_DERIVED_AGGREGATES} one DynamoDB transaction holds with its own write`,
      REASON.DERIVED_INVALID,
    );
  let added = 0;
  for (const id of own.keys()) if (!gathered.has(id)) added++;
  if (gathered.size + added > MAX_DERIVED_AGGREGATES) return 'full';
  mergeDerived(gathered, aggregateId, updates);
  return 'added';
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
  const gathered: Gathered = new Map();
  let position = input.position;
  let state = input.state;
  let last: PendingChange | undefined;
  for (let index = 0; index < input.changes.length; index++) {
    const item = input.changes[index]!;
    if (position !== undefined && item.change.position <= position) {
      duplicates.push(item);
      continue;
    }
    let next: ProjectionResult;
    try {
      next = input.projection.apply(state, item.change);
      if (gatherDerived(gathered, item.change.aggregateId, next.derived) === 'full')
        return {
          ...settled(applied, duplicates, stateValue(last, state, position), gathered),
          remaining: input.changes.slice(index),
        };
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
        derived: derivedWrites(gathered),
        remaining: [],
      };
    }
    state = { deleted: next.deleted, state: next.state };
    position = item.change.position;
    last = item;
    applied.push(item);
  }
  return settled(applied, duplicates, stateValue(last, state, position), gathered);
}

/** A fold that ended without a failure, with everything it gathered. */
function settled(
  applied: readonly PendingChange[],
  duplicates: readonly PendingChange[],
  next: StateValue | undefined,
  gathered: Gathered,
): FoldResult {
  return {
    applied,
    duplicates,
    next,
    failure: undefined,
    rest: [],
    derived: derivedWrites(gathered),
    remaining: [],
  };
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
