import type { ChangeEvent, RecordOrigin, RowImage } from '../events/change.js';
import type { AggregateItem } from '../state/aggregate-item.js';
import type { ParkedItem } from '../state/parked-item.js';
import type { StateValue } from '../state/state-store-port.js';
import { ProjectionError } from './errors.js';
import type { ProjectedState, Projection } from './projection.js';

/** A decoded change and the record it came from. */
interface PendingChange {
  readonly change: ChangeEvent;
  readonly origin: RecordOrigin;
  /** The user record's own bytes when it came inside a KPL aggregate (parked instead of the aggregate). */
  readonly data?: Uint8Array;
}

/** State items are limited to 400 KB; leave room for the position and bookkeeping attributes. */
const MAX_STATE_BYTES = 380_000;
/** DynamoDB numbers: magnitudes from 1E-130 to below 1E+126. */
const MAX_NUMBER = 1e126;
const MIN_NUMBER = 1e-130;
/** DynamoDB nests documents at most 32 levels deep. */
const MAX_DEPTH = 32;

/**
 * Why DynamoDB would refuse this state whatever the retries, or undefined: such a state is the projection's
 * failure (counted as attempts, then parked), not a transient error that would block the shard.
 */
function unstorable(state: RowImage): string | undefined {
  const bytes = Buffer.byteLength(JSON.stringify(state));
  if (bytes > MAX_STATE_BYTES)
    return `${bytes} bytes of JSON, above ${MAX_STATE_BYTES} (DynamoDB items are limited to 400 KB)`;
  const walk = (value: unknown, path: string, depth: number): string | undefined => {
    if (typeof value === 'number') {
      const magnitude = Math.abs(value);
      if (magnitude >= MAX_NUMBER || (magnitude !== 0 && magnitude < MIN_NUMBER))
        return `${path} is ${value}, outside DynamoDB's number range (1E-130 to 1E+126); carry it as a string`;
      return undefined;
    }
    if (typeof value !== 'object' || value === null) return undefined;
    if (depth > MAX_DEPTH) return `${path} is nested more than ${MAX_DEPTH} levels deep`;
    for (const [key, child] of Object.entries(value)) {
      const problem = walk(child, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`, depth + 1);
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
  return walk(state, 'state', 1);
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
 * projection rejects stops the fold, so a later change of the aggregate is never applied before it.
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
      if (next.state !== null) {
        const problem = unstorable(next.state);
        if (problem !== undefined)
          throw new ProjectionError(
            'STATE_NOT_STORABLE',
            `projected state of ${item.change.aggregateId} cannot be stored in DynamoDB: ${problem}`,
          );
      }
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
