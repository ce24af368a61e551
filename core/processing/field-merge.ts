/**
 * `field-merge`: per-field last-writer-wins, a state-based CRDT (an LWW map with a delete register). Every
 * field keeps the stamp of the change that set it; a change's fields replace those with an older stamp, and
 * a delete hides every field set before it. Merging is a join (per field the greater stamp, for the delete
 * the greater stamp), so replicas that saw the same changes hold the same state whatever the order and
 * duplication of delivery.
 */
import type { RowImage } from '../events/change.js';
import { keepJsonNumberMark } from '../events/exact-json.js';
import { setOwn } from '../events/json-value.js';
import { compareStamps, type FieldStamps, type WriterStamp } from '../state/source-marks.js';
import type { ProjectedState } from './projection.js';

/** The stamp of fields stored before their table merged fields: older than any change. */
const ORIGIN_STAMP: WriterStamp = { source: '', ts: 0, position: '' };

/** One field: its value, the object it was read from (for exact-number marks) and its stamp. */
interface Field {
  readonly value: unknown;
  readonly holder: object;
  readonly stamp: WriterStamp;
}

/** The merged state and its stamps. */
interface Merged {
  readonly state: ProjectedState;
  readonly fieldStamps: FieldStamps;
}

function fieldsOf(
  current: ProjectedState | undefined,
  stamps: FieldStamps | undefined,
  writer: WriterStamp | undefined,
): Map<string, Field> {
  const fields = new Map<string, Field>();
  const row = current?.deleted === false ? current.state : null;
  if (row === null || row === undefined) return fields;
  for (const [name, value] of Object.entries(row))
    fields.set(name, { value, holder: row, stamp: stamps?.fields.get(name) ?? writer ?? ORIGIN_STAMP });
  return fields;
}

function maxStamp(a: WriterStamp | undefined, b: WriterStamp): WriterStamp {
  return a === undefined || compareStamps(b, a) > 0 ? b : a;
}

/**
 * Joins one change's contribution (the projection applied to it alone: `deleted`, or the fields it sets) into
 * the current state and its stamps. Fields the state held before stamps were kept take the writer's stamp.
 *
 * @example
 * ```ts
 * const { state, fieldStamps } = mergeFields(current, item.fieldStamps, item.writer, contribution, stampOf(change));
 * ```
 */
function mergeFields(
  current: ProjectedState | undefined,
  stamps: FieldStamps | undefined,
  writer: WriterStamp | undefined,
  contribution: ProjectedState,
  stamp: WriterStamp,
): Merged {
  const fields = fieldsOf(current, stamps, writer);
  let deleted = stamps?.deleted;
  if (contribution.deleted) deleted = maxStamp(deleted, stamp);
  else if (contribution.state !== null)
    for (const [name, value] of Object.entries(contribution.state)) {
      const held = fields.get(name);
      if (held === undefined || compareStamps(stamp, held.stamp) > 0)
        fields.set(name, { value, holder: contribution.state, stamp });
    }
  const row: RowImage = {};
  const kept = new Map<string, WriterStamp>();
  for (const [name, field] of fields) {
    // A delete hides what was set before it, for good: the delete's stamp only grows.
    if (deleted !== undefined && compareStamps(field.stamp, deleted) < 0) continue;
    setOwn(row, name, field.value);
    keepJsonNumberMark(field.holder, name, row, name);
    kept.set(name, field.stamp);
  }
  const isDeleted = kept.size === 0 && deleted !== undefined;
  return {
    state: { deleted: isDeleted, state: isDeleted ? null : row },
    fieldStamps: { fields: kept, deleted },
  };
}

export { mergeFields };
