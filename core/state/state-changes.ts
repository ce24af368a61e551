import type { RowImage } from '../events/change.js';
import type { AggregateItem, PendingFailure, Quarantine } from './aggregate-item.js';
import { boundedText } from './bounded-text.js';
import type { FieldStamps, WriterStamp } from './source-marks.js';
import { marksOfValue, type StateMutation, type WriteGuard } from './state-store-port.js';

/** Attributes of a state item one write sets (besides adding one to the revision). */
interface SetAttributes {
  readonly updatedAt: string;
  readonly position?: string;
  readonly deleted?: boolean;
  readonly table?: string;
  readonly state?: RowImage;
  readonly pendingFailure?: PendingFailure;
  readonly quarantine?: Quarantine;
  readonly lastParkedKey?: string;
  readonly ttlEpochSeconds?: number;
  readonly positions?: ReadonlyMap<string, string>;
  readonly writer?: WriterStamp;
  readonly fieldStamps?: FieldStamps;
}

type RemovableAttribute = 'state' | 'pendingFailure' | 'quarantine' | 'ttlEpochSeconds' | 'fieldStamps';

/** What one write does to the item's attributes, decided from the mutation and the guard alone. */
interface AttributeChanges {
  readonly set: SetAttributes;
  readonly remove: readonly RemovableAttribute[];
}

/** The item a read-modify-write guard expects; undefined for blind writes and new aggregates. */
function guardExpected(guard: WriteGuard): AggregateItem | undefined {
  return guard.kind === 'newer' ? undefined : guard.expected;
}

/** Refuses guards that cannot be expressed: a caller's mistake, not a lost race. */
function checkGuard(mutation: StateMutation, guard: WriteGuard): void {
  if (guard.kind === 'newer' && mutation.value === undefined)
    throw new TypeError('a blind write (guard newer) needs a value');
  if (guard.kind === 'lift-quarantine' && guard.expected.lastParkedKey === undefined)
    throw new TypeError('guard lift-quarantine needs the lastParkedKey read; use guard revision without one');
}

/**
 * When the item may expire. Tombstones expire (docs/architecture.md contract 4); a live aggregate must not (a
 * re-create after a delete clears the TTL), and neither may an item that holds something back (a quarantine,
 * a deferral, a pending failure): its expiry would drop the position fence and the quarantine with it.
 */
function ttlChange(
  mutation: StateMutation,
  guard: WriteGuard,
  expiresAtEpochSeconds: number,
): { readonly set: number } | 'remove' | 'keep' {
  const expected = guardExpected(guard);
  const holdsBack =
    (mutation.quarantine !== undefined && mutation.quarantine !== null) ||
    (mutation.pendingFailure !== undefined && mutation.pendingFailure !== null) ||
    (mutation.quarantine === undefined && expected?.quarantine !== undefined);
  const deletedAfter = mutation.value?.deleted ?? expected?.deleted ?? false;
  if (deletedAfter && !holdsBack && (mutation.value !== undefined || mutation.quarantine === null))
    return { set: expiresAtEpochSeconds };
  return !deletedAfter || holdsBack ? 'remove' : 'keep';
}

/**
 * The attributes a guarded write sets and removes. Both stores apply these, so they differ only in how they
 * check the guard.
 *
 * @example
 * ```ts
 * const { set, remove } = attributeChanges(mutation, guard, Date.now(), 2_592_000);
 * ```
 */
function attributeChanges(
  mutation: StateMutation,
  guard: WriteGuard,
  nowMs: number,
  tombstoneTtlSeconds: number,
): AttributeChanges {
  checkGuard(mutation, guard);
  const set: { -readonly [K in keyof SetAttributes]: SetAttributes[K] } = {
    updatedAt: new Date(nowMs).toISOString(),
  };
  const remove: RemovableAttribute[] = [];
  const { value } = mutation;
  if (value !== undefined) {
    set.position = value.position;
    set.deleted = value.deleted;
    set.table = value.table;
    const marks = marksOfValue(value);
    set.positions = marks.positions;
    set.writer = marks.writer;
    if (value.fieldStamps === undefined) remove.push('fieldStamps');
    else set.fieldStamps = value.fieldStamps;
    if (value.state === null) remove.push('state');
    else set.state = value.state;
  }
  const ttl = ttlChange(mutation, guard, Math.floor(nowMs / 1000) + tombstoneTtlSeconds);
  if (ttl === 'remove') remove.push('ttlEpochSeconds');
  else if (ttl !== 'keep') set.ttlEpochSeconds = ttl.set;
  // Errors may quote input: bounded, so that recording a failure always fits the item.
  if (mutation.pendingFailure === null) remove.push('pendingFailure');
  else if (mutation.pendingFailure !== undefined)
    set.pendingFailure = { ...mutation.pendingFailure, error: boundedText(mutation.pendingFailure.error) };
  if (mutation.quarantine === null) remove.push('quarantine');
  else if (mutation.quarantine !== undefined)
    set.quarantine = { ...mutation.quarantine, error: boundedText(mutation.quarantine.error) };
  if (mutation.lastParkedKey !== undefined) set.lastParkedKey = mutation.lastParkedKey;
  return { set, remove };
}

export type { AttributeChanges, RemovableAttribute, SetAttributes };
export { attributeChanges };
