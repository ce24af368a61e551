import type { ChangeEvent, RowImage } from '../events/change.js';
import type { DerivedUpdate } from '../state/derived-update.js';
import type { WriterStamp } from '../state/source-marks.js';
import { ProjectionError } from './errors.js';

/** The projected state of one aggregate. */
interface ProjectedState {
  readonly deleted: boolean;
  /** Null for a deleted aggregate (its tombstone keeps only the position). */
  readonly state: RowImage | null;
}

/**
 * What `apply` returns: the aggregate's next state and, optionally, updates of other aggregates the change
 * derives (an order line adds to its order's total). Derived updates are written in the same DynamoDB
 * transaction as the aggregate, so they are applied exactly once with the change (docs/state.md, derived
 * aggregates).
 */
interface ProjectionResult extends ProjectedState {
  readonly derived?: readonly DerivedUpdate[];
}

/**
 * Folds changes into per-aggregate state: `apply(previous, change)` returns the next state. It must be a pure
 * function of its arguments: it may run again on redelivery, and only its result is stored.
 *
 * Set `needsPreviousState` when `apply` reads `previous`; the consumer then reads the current state first
 * (one BatchGetItem per 100 aggregates). Projections that do not read it, like the mirror, write blind with a
 * position condition and cost exactly one write per aggregate per batch.
 *
 * Throw {@link ProjectionError} (or any error) for a change that cannot be applied: it is retried, then
 * parked and its aggregate quarantined.
 *
 * Return `derived` updates of other aggregates with the state when a change changes them too; the consumer
 * then reads the aggregate's state (whatever `needsPreviousState` says: only a known position tells which
 * changes of a batch are duplicates) and writes it with its derived updates in one transaction. Set
 * `holdLocks` when the aggregate and its derived aggregates must be held while the change is applied: the
 * consumer takes fenced locks on all of them first (`locks.*` settings); rarely needed, since every write is
 * conditional anyway (docs/state.md, locks).
 *
 * @example
 * ```ts
 * const orderCount: Projection = {
 *   name: 'order-count',
 *   needsPreviousState: true,
 *   apply: (previous, change) => ({
 *     deleted: false,
 *     state: { count: Number(previous?.state?.count ?? 0) + (change.op === 'create' ? 1 : 0) },
 *   }),
 * };
 * ```
 */
interface Projection {
  readonly name: string;
  readonly needsPreviousState: boolean;
  /** Hold fenced locks on the aggregate and its derived aggregates while applying. @default false */
  readonly holdLocks?: boolean;
  apply(previous: ProjectedState | undefined, change: ChangeEvent): ProjectionResult;
  /**
   * The resolver of tables whose conflict strategy is `custom`: asked about every change whose source is not
   * the source of the change that last set the state (a change of that source applies in position order).
   * Must be a pure function of its input, like `apply`. See {@link ConflictInput}.
   */
  resolveConflict?(input: ConflictInput): ConflictDecision;
}

/** What a custom conflict resolver is told about a change of another source than the state's writer. */
interface ConflictInput {
  readonly change: ChangeEvent;
  /** The state before the change; undefined when no change was applied yet. */
  readonly current: ProjectedState | undefined;
  /** The change that last set the state: its source, commit time (epoch ms, 0 unknown) and position. */
  readonly writer: WriterStamp;
  /** The high-water position of each source the aggregate recorded. */
  readonly positions: ReadonlyMap<string, string>;
}

/**
 * `apply`: fold the change onto the state, its source becomes the writer; `skip`: keep the state, record the
 * change's position (a redelivery is a duplicate); `{ park }`: park it as `CONFLICTING_SOURCE` with that
 * one-line reason (the aggregate goes on).
 */
type ConflictDecision = 'apply' | 'skip' | { readonly park: string };

/**
 * The built-in projection: the state is the row's latest `after` image; a delete leaves a tombstone
 * (`deleted = true`, its position, a TTL) so a late older duplicate cannot resurrect it.
 */
const mirrorProjection: Projection = {
  name: 'mirror',
  needsPreviousState: false,
  apply: (_previous, change) =>
    change.op === 'delete' ? { deleted: true, state: null } : { deleted: false, state: change.after },
};

/** Column that makes a change fail in the projection while fault injection is on. */
const FAULT_INJECTION_COLUMN = '__cdcp_fail';

/**
 * Wraps a projection so that a change whose `after` image carries {@link FAULT_INJECTION_COLUMN} fails every
 * time: how `npm start -- --inject-poison` and the tests make poison changes. Enabled by the
 * `processing.faultInjection` setting only.
 */
function withFaultInjection(projection: Projection): Projection {
  return {
    name: projection.name,
    needsPreviousState: projection.needsPreviousState,
    ...(projection.resolveConflict === undefined
      ? {}
      : { resolveConflict: (input: ConflictInput) => projection.resolveConflict!(input) }),
    ...(projection.holdLocks === undefined ? {} : { holdLocks: projection.holdLocks }),
    apply: (previous, change) => {
      const marker = change.after?.[FAULT_INJECTION_COLUMN];
      if (marker !== undefined && marker !== null && marker !== false)
        throw new ProjectionError('INJECTED_FAULT', `injected fault: ${String(marker)}`);
      return projection.apply(previous, change);
    },
  };
}

/**
 * The projection a config runs: `base` (the mirror unless a deployment passes its own), wrapped with fault
 * injection when `processing.faultInjection` is on. The consumer, the replays and the deferred sweep all apply
 * changes through it, so a replay applies a change exactly as the consumer would have.
 */
function configuredProjection(
  config: { readonly processing: { readonly faultInjection: boolean } },
  base: Projection = mirrorProjection,
): Projection {
  return config.processing.faultInjection ? withFaultInjection(base) : base;
}

export type { ConflictDecision, ConflictInput, ProjectedState, Projection, ProjectionResult };
export { configuredProjection, FAULT_INJECTION_COLUMN, mirrorProjection, withFaultInjection };
