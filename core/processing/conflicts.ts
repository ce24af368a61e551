/**
 * Conflict resolution across sources (docs/architecture.md contract 9; docs/state.md, "Sources and conflict
 * strategies"). A change is a duplicate only against its own source's high-water mark; what a change of
 * another source than the state's writer does is its table's strategy's decision. Pure functions: the fold
 * asks, change by change, and keeps the marks.
 */
import type { ChangeEvent } from '../events/change.js';
import { UNNAMED_SOURCE } from '../events/source-id.js';
import { compareStamps, continuesUnnamedMark, type WriterStamp } from '../state/source-marks.js';
import { ProjectionError } from './errors.js';
import type { ConflictDecision, ConflictInput, ProjectedState } from './projection.js';

/** The strategies (the configuration's `source-position` is the former name of `single-source`). */
type ConflictStrategyName =
  | 'single-source'
  | 'source-priority'
  | 'last-writer-wins'
  | 'field-merge'
  | 'custom';

/** How one table resolves changes of several sources. */
interface ConflictPolicy {
  readonly strategy: ConflictStrategyName;
  /** `source-priority`: source ids, highest priority first. */
  readonly sourcePriority?: readonly string[];
  /** `custom`: the projection's resolver. */
  readonly resolve?: (input: ConflictInput) => ConflictDecision;
}

/** The default: one source per aggregate, a second one parked. */
const SINGLE_SOURCE: ConflictPolicy = { strategy: 'single-source' };

/** What the fold knows of the aggregate's sources, updated change by change. */
interface SourceMarks {
  readonly positions: Map<string, string>;
  writer: WriterStamp | undefined;
}

/**
 * What a change does:
 * - `duplicate`: at or below its own source's mark; skipped.
 * - `apply`: folded onto the state through the projection; its source becomes the writer.
 * - `supersede`: the rule keeps the state as it is; the change's mark moves, so a redelivery is a duplicate.
 * - `merge`: `field-merge`: its fields join the state's, each by its stamp.
 * - `conflict`: parked as `CONFLICTING_SOURCE` with the message; nothing of it is recorded.
 */
type ChangeDecision =
  | { readonly kind: 'duplicate' | 'apply' | 'supersede' | 'merge' }
  | { readonly kind: 'conflict'; readonly message: string };

/**
 * The stamp of a change: its source (as {@link takeUnnamedMark} resolved it, by default its own), commit time
 * (0 when the format carries none) and position.
 */
function stampOf(change: ChangeEvent, source: string = sourceOf(change)): WriterStamp {
  return { source, ts: change.ts ?? 0, position: change.position };
}

/** A change's source; `unnamed` for a change parked before changes named their source. */
function sourceOf(change: ChangeEvent): string {
  return (change as Partial<ChangeEvent>).source ?? UNNAMED_SOURCE;
}

/**
 * The marks of a stored item as the fold starts from them, for a change of `source` at `position`. An item
 * written before sources has its one position under the unnamed source: the first source that comes with a
 * position of the same format takes it (one source per aggregate was the rule then), and becomes its writer
 * (see `continuesUnnamedMark`); a position of another format is another source, left to the strategy. A
 * change that predates sources itself (parked then) is of the item's one source, when it has one.
 *
 * @example
 * ```ts
 * const marks = marksOf(item?.positions, item?.writer);
 * const source = takeUnnamedMark(marks, 'debezium:dbserver1', change.position);
 * ```
 */
function takeUnnamedMark(marks: SourceMarks, source: string, position: string): string {
  if (source === UNNAMED_SOURCE && marks.positions.size === 1) return [...marks.positions.keys()][0]!;
  const unnamed = marks.positions.get(UNNAMED_SOURCE);
  if (
    unnamed === undefined ||
    source === UNNAMED_SOURCE ||
    marks.positions.has(source) ||
    !continuesUnnamedMark(unnamed, position)
  )
    return source;
  marks.positions.delete(UNNAMED_SOURCE);
  marks.positions.set(source, unnamed);
  if (marks.writer === undefined || marks.writer.source === UNNAMED_SOURCE)
    marks.writer = { source, ts: marks.writer?.ts ?? 0, position: marks.writer?.position ?? unnamed };
  return source;
}

/** A fresh copy of stored marks for the fold to update. */
function marksOf(
  positions: ReadonlyMap<string, string> | undefined,
  writer: WriterStamp | undefined,
): SourceMarks {
  return { positions: new Map(positions), writer };
}

/** True when `change` is at or below its own source's mark (after the unnamed mark is taken). */
function isCovered(positions: ReadonlyMap<string, string> | undefined, change: ChangeEvent): boolean {
  if (positions === undefined) return false;
  const marks = marksOf(positions, undefined);
  const mark = marks.positions.get(takeUnnamedMark(marks, sourceOf(change), change.position));
  return mark !== undefined && change.position <= mark;
}

function conflictMessage(change: ChangeEvent, source: string, detail: string): string {
  return `source ${source} conflicts on ${change.aggregateId}: ${detail}`;
}

/** A source as a message names it: the unnamed one by its position. */
function describeSource(source: string, marks: SourceMarks): string {
  return source === UNNAMED_SOURCE
    ? `the source of position ${marks.positions.get(UNNAMED_SOURCE)} (written before changes named their source)`
    : source;
}

/**
 * `single-source`: the aggregate's first source owns it. An item that recorded several sources under another
 * strategy before keeps the source of its writer.
 */
function decideSingleSource(change: ChangeEvent, source: string, marks: SourceMarks): ChangeDecision {
  const others = [...marks.positions.keys()].filter((s) => s !== source);
  if (others.length === 0 || marks.writer?.source === source) return { kind: 'apply' };
  const owner = describeSource(marks.writer?.source ?? others[0]!, marks);
  return {
    kind: 'conflict',
    message: conflictMessage(
      change,
      source,
      `its state comes from ${owner} and table ${change.table} takes one source (conflict strategy single-source); set its conflictStrategy to source-priority, last-writer-wins or field-merge to take both, then replay this change`,
    ),
  };
}

/** `source-priority`: a source earlier in the list overrides a later one; unlisted sources are refused. */
function decideByPriority(
  change: ChangeEvent,
  source: string,
  writer: WriterStamp,
  list: readonly string[],
): ChangeDecision {
  const rank = list.indexOf(source);
  if (rank === -1)
    return {
      kind: 'conflict',
      message: conflictMessage(
        change,
        source,
        `it is not in the sourcePriority list of table ${change.table} (${list.join(', ')}); add it, then replay this change`,
      ),
    };
  const writerRank = list.indexOf(writer.source);
  return writerRank === -1 || rank <= writerRank ? { kind: 'apply' } : { kind: 'supersede' };
}

/** `custom`: the projection's resolver, its answer checked. */
function decideCustom(
  change: ChangeEvent,
  source: string,
  policy: ConflictPolicy,
  marks: SourceMarks,
  current: ProjectedState | undefined,
): ChangeDecision {
  const answer = policy.resolve!({ change, current, writer: marks.writer!, positions: marks.positions });
  if (answer === 'apply') return { kind: 'apply' };
  if (answer === 'skip') return { kind: 'supersede' };
  if (typeof answer === 'object' && answer !== null && typeof answer.park === 'string' && answer.park !== '')
    return { kind: 'conflict', message: conflictMessage(change, source, answer.park) };
  throw new ProjectionError(
    'INVALID_RESOLUTION',
    `resolveConflict must return 'apply', 'skip' or { park: 'reason' }, received ${JSON.stringify(answer) ?? String(answer)}`,
  );
}

/**
 * What `change` of `source` does to an aggregate whose sources are `marks` and whose state is `current`,
 * under `policy`; `source` is what {@link takeUnnamedMark} resolved (which also took the unnamed mark).
 * Within one source changes apply in position order; the policy decides only for a change of another source
 * than the state's writer.
 *
 * @example
 * ```ts
 * const source = takeUnnamedMark(marks, sourceOf(change), change.position);
 * const decision = decideChange(policy, marks, change, source, state);
 * if (decision.kind === 'conflict') park(change, decision.message);
 * ```
 */
function decideChange(
  policy: ConflictPolicy,
  marks: SourceMarks,
  change: ChangeEvent,
  source: string,
  current: ProjectedState | undefined,
): ChangeDecision {
  const mark = marks.positions.get(source);
  if (mark !== undefined && change.position <= mark) return { kind: 'duplicate' };
  switch (policy.strategy) {
    case 'single-source':
      return decideSingleSource(change, source, marks);
    case 'field-merge':
      return { kind: 'merge' };
    default:
      break;
  }
  const writer = marks.writer;
  if (writer === undefined || writer.source === source) return { kind: 'apply' };
  if (policy.strategy === 'source-priority')
    return decideByPriority(change, source, writer, policy.sourcePriority ?? []);
  if (policy.strategy === 'last-writer-wins')
    return compareStamps(stampOf(change, source), writer) > 0 ? { kind: 'apply' } : { kind: 'supersede' };
  return decideCustom(change, source, policy, marks, current);
}

export type { ChangeDecision, ConflictPolicy, ConflictStrategyName, SourceMarks };
export { decideChange, isCovered, marksOf, SINGLE_SOURCE, sourceOf, stampOf, takeUnnamedMark };
