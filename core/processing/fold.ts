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
import type { FieldStamps } from '../state/source-marks.js';
import { compareStamps } from '../state/source-marks.js';
import { checkStorable } from '../state/state-item.js';
import type { StateValue } from '../state/state-store-port.js';
import {
  type ConflictPolicy,
  decideChange,
  marksOf,
  SINGLE_SOURCE,
  type SourceMarks,
  sourceOf,
  stampOf,
  takeUnnamedMark,
} from './conflicts.js';
import { mergeFields } from './field-merge.js';
import type { ProjectedState, Projection, ProjectionResult } from './projection.js';

/** A decoded change and the record it came from. */
interface PendingChange {
  readonly change: ChangeEvent;
  readonly origin: RecordOrigin;
  /** The user record's own bytes when it came inside a KPL aggregate (parked instead of the aggregate). */
  readonly data?: Uint8Array;
}

interface FoldInput {
  /**
   * The stored item the changes fold onto: its state, and the marks of its sources that tell duplicates;
   * undefined when unknown (a blind projection) or new.
   */
  readonly item: AggregateItem | undefined;
  readonly changes: readonly PendingChange[];
  readonly projection: Projection;
  /** How changes of several sources resolve. @default SINGLE_SOURCE */
  readonly policy?: ConflictPolicy;
}

interface FoldFailure {
  readonly index: number;
  readonly item: PendingChange;
  /** The projection's error, or an `UnstorableError` when DynamoDB would refuse the state for good. */
  readonly error: Error;
}

/** A change its table's conflict strategy refuses: to park as `CONFLICTING_SOURCE`, with the reason. */
interface Conflicting {
  readonly item: PendingChange;
  readonly message: string;
}

interface FoldResult {
  /** Changes that set the state (applied through the projection, or merged). */
  readonly applied: readonly PendingChange[];
  /** Changes at or below their own source's position: redeliveries and late duplicates. */
  readonly duplicates: readonly PendingChange[];
  /** Changes the conflict strategy kept out of the state; their source's position moved. */
  readonly superseded: readonly PendingChange[];
  /** Changes of a source the conflict strategy refuses, in order; nothing of them is recorded. */
  readonly conflicting: readonly Conflicting[];
  /** The state and source marks after the changes; undefined when none was applied or superseded. */
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
  // Merged onto copies of the aggregates it touches: a change whose updates clash with earlier ones (text set,
  // then added to) fails without leaving half of them in the write.
  const staged: Gathered = new Map();
  for (const id of own.keys()) staged.set(id, new Map(gathered.get(id)));
  mergeDerived(staged, aggregateId, updates);
  for (const [id, fields] of staged) if (fields.size > 0) gathered.set(id, fields);
  return 'added';
}

/** The fold's running state. */
interface Folding {
  readonly input: FoldInput;
  readonly marks: SourceMarks;
  state: ProjectedState | undefined;
  fieldStamps: FieldStamps | undefined;
  last: PendingChange | undefined;
  /** The source of `last`, as resolved (a change parked before sources is of the item's one source). */
  lastSource: string | undefined;
  readonly applied: PendingChange[];
  readonly duplicates: PendingChange[];
  readonly superseded: PendingChange[];
  readonly conflicting: Conflicting[];
  /** The derived updates of the applied changes, merged per aggregate. */
  readonly gathered: Gathered;
}

/**
 * Folds one aggregate's changes, in batch order, onto its state (docs/architecture.md contracts 1, 2, 5, 9): a
 * change at or below its own source's position is a duplicate and skipped; a change of another source than
 * the state's writer is applied, kept out (superseded), merged or refused (conflicting) as the table's
 * conflict policy says; the first change the projection rejects, or whose state DynamoDB would refuse, stops
 * the fold, so a later change of the aggregate is never applied before it.
 *
 * @example
 * ```ts
 * const result = foldChanges({ item, changes, projection: mirrorProjection, policy: SINGLE_SOURCE });
 * ```
 */
function foldChanges(input: FoldInput): FoldResult {
  const f: Folding = {
    input,
    marks: marksOf(input.item?.positions, input.item?.writer),
    state: projectedStateOf(input.item),
    fieldStamps: input.item?.fieldStamps,
    last: undefined,
    lastSource: undefined,
    applied: [],
    duplicates: [],
    superseded: [],
    conflicting: [],
    gathered: new Map(),
  };
  for (let index = 0; index < input.changes.length; index++) {
    const item = input.changes[index]!;
    try {
      if (step(f, item) === 'full') return { ...resultOf(f), remaining: input.changes.slice(index) };
    } catch (error) {
      return {
        ...resultOf(f),
        failure: { index, item, error: error instanceof Error ? error : new Error(String(error)) },
        rest: input.changes.slice(index + 1),
      };
    }
  }
  return resultOf(f);
}

/**
 * Decides one change and records what it does; throws what the projection or the resolver throws. `full`: the
 * change's derived updates do not fit in the write with those gathered before it; nothing of it is recorded,
 * it goes to the next write.
 */
function step(f: Folding, item: PendingChange): 'done' | 'full' {
  const { change } = item;
  const source = takeUnnamedMark(f.marks, sourceOf(change), change.position);
  const policy = f.input.policy ?? SINGLE_SOURCE;
  const decision = decideChange(policy, f.marks, change, source, f.state);
  switch (decision.kind) {
    case 'duplicate':
      f.duplicates.push(item);
      return 'done';
    case 'conflict':
      f.conflicting.push({ item, message: decision.message });
      return 'done';
    case 'supersede':
      // The state does not move, so neither does what it derives: a superseded change's updates are dropped.
      f.marks.positions.set(source, change.position);
      f.superseded.push(item);
      f.last = item;
      f.lastSource = source;
      return 'done';
    default:
      break;
  }
  const stamp = stampOf(change, source);
  let next: ProjectionResult;
  let fieldStamps: FieldStamps | undefined;
  if (decision.kind === 'merge') {
    // Each change's contribution is the projection of it alone: what it adds cannot depend on the order.
    const own = f.input.projection.apply(undefined, change);
    if (own.derived !== undefined && own.derived.length > 0) throw mergedDerivedError(change);
    const merged = mergeFields(f.state, f.fieldStamps, f.marks.writer, own, stamp);
    next = merged.state;
    fieldStamps = merged.fieldStamps;
  } else next = f.input.projection.apply(f.state, change);
  const writer =
    decision.kind === 'merge' && f.marks.writer !== undefined && compareStamps(f.marks.writer, stamp) > 0
      ? f.marks.writer
      : stamp;
  const positions = new Map(f.marks.positions).set(source, change.position);
  // Decided before writing, change by change, so the change that makes the state unstorable is the one
  // that fails (UnstorableError: parked at once, never retried).
  if (next.state !== null)
    checkStorable(
      change.aggregateId,
      {
        table: change.table,
        source,
        position: change.position,
        deleted: next.deleted,
        state: next.state,
        positions,
        writer,
        ...(fieldStamps === undefined ? {} : { fieldStamps }),
      },
      f.input.item,
    );
  // Gathered last: a change that fails above leaves nothing of its derived updates in the write.
  if (gatherDerived(f.gathered, change.aggregateId, next.derived) === 'full') return 'full';
  f.state = { deleted: next.deleted, state: next.state };
  f.fieldStamps = fieldStamps;
  f.marks.positions.set(source, change.position);
  f.marks.writer = writer;
  f.last = item;
  f.lastSource = source;
  f.applied.push(item);
  return 'done';
}

/**
 * `field-merge` folds each change as the projection of it alone, so derived updates (deltas of the state a
 * change moves from) would not follow the merged state: a change that derives under it is refused.
 */
function mergedDerivedError(change: ChangeEvent): DerivedUpdateError {
  return new DerivedUpdateError(
    `${change.aggregateId}: table ${change.table} has conflict strategy field-merge, which cannot carry derived updates (each change is projected alone); set its conflictStrategy to last-writer-wins or source-priority, then replay this change`,
    REASON.DERIVED_INVALID,
  );
}

function resultOf(f: Folding): FoldResult {
  return {
    applied: f.applied,
    duplicates: f.duplicates,
    superseded: f.superseded,
    conflicting: f.conflicting,
    next: stateValue(f),
    failure: undefined,
    rest: [],
    derived: derivedWrites(f.gathered),
    remaining: [],
  };
}

function stateValue(f: Folding): StateValue | undefined {
  const { last, state, marks } = f;
  if (last === undefined || state === undefined || marks.writer === undefined) return undefined;
  return {
    table: last.change.table,
    source: f.lastSource ?? sourceOf(last.change),
    position: last.change.position,
    deleted: state.deleted,
    state: state.state,
    positions: new Map(marks.positions),
    writer: marks.writer,
    ...(f.input.policy?.strategy === 'field-merge' && f.fieldStamps !== undefined
      ? { fieldStamps: f.fieldStamps }
      : {}),
  };
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

export type { Conflicting, FoldFailure, FoldInput, FoldResult, PendingChange };
export { foldChanges, pendingOfParked, projectedStateOf };
