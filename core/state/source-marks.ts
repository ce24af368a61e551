/**
 * What a state item records about the sources of its changes (docs/architecture.md contract 9): a high-water
 * position per source, the stamp of the change that last set the state, and, under `field-merge`, the stamp
 * of each field. Stored as three DynamoDB maps; read back as `Map`s, since source ids and column names are
 * input (a column may be called `__proto__`).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { UNNAMED_SOURCE } from '../events/source-id.js';
import { compareUtf8 } from './utf8-order.js';

/** The prefix of positions taken from the Kinesis sequence number (`kinesisPosition`). */
const KINESIS_SEQUENCE_PREFIX = 'ks:';

/** Who set (a part of) a state: the change's source, its commit time (epoch ms, 0 when unknown) and position. */
interface WriterStamp {
  readonly source: string;
  readonly ts: number;
  readonly position: string;
}

/** `field-merge` bookkeeping: the stamp of every field of the state, and of the newest delete seen. */
interface FieldStamps {
  readonly fields: ReadonlyMap<string, WriterStamp>;
  readonly deleted: WriterStamp | undefined;
}

/**
 * The total order of stamps every strategy that compares changes of different sources uses: commit time,
 * then source id, then position (both by UTF-8 bytes, as DynamoDB compares strings). Deterministic, so every
 * replica that saw the same changes picks the same winner whatever the order they came in.
 *
 * @example
 * ```ts
 * compareStamps({ source: 'dms', ts: 5, position: 'tm:…' }, { source: 'debezium:db1', ts: 5, position: 'pg:…' }); // > 0
 * ```
 */
function compareStamps(a: WriterStamp, b: WriterStamp): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  return compareUtf8(a.source, b.source) || compareUtf8(a.position, b.position);
}

function stampAttribute(stamp: WriterStamp): AttributeValue {
  return { M: { s: { S: stamp.source }, t: { N: String(stamp.ts) }, p: { S: stamp.position } } };
}

function stampOf(value: AttributeValue | undefined): WriterStamp | undefined {
  const m = value?.M;
  if (m?.s?.S === undefined || m.p?.S === undefined) return undefined;
  return { source: m.s.S, ts: Number(m.t?.N ?? 0), position: m.p.S };
}

/** A map attribute with own keys only: a key `__proto__` stays a key. */
function ownMap(entries: Iterable<readonly [string, AttributeValue]>): Record<string, AttributeValue> {
  const map: Record<string, AttributeValue> = {};
  for (const [key, value] of entries)
    Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  return map;
}

/**
 * Whether `position` may continue the mark `unnamed` of an item written before sources: a position of the
 * same format (its prefix up to the first `:`, `pg:`, `tm:`, …), or one above a Kinesis-sequence mark (`ks:`,
 * what formats without a source position wrote before, DMS among them). A position of another format is
 * another source: comparing it with the mark would skip or apply changes by accident.
 *
 * @example
 * ```ts
 * continuesUnnamedMark('pg:0…5', 'pg:0…6'); // true
 * continuesUnnamedMark('pg:0…5', 'dd:0…9'); // false
 * ```
 */
function continuesUnnamedMark(unnamed: string, position: string): boolean {
  if (unnamed.startsWith(KINESIS_SEQUENCE_PREFIX)) return compareUtf8(unnamed, position) < 0;
  const family = positionFamily(position);
  return family !== undefined && unnamed.startsWith(family);
}

/** A position's format: its prefix up to and with the first `:` (`pg:`); undefined without one. */
function positionFamily(position: string): string | undefined {
  const end = position.indexOf(':');
  return end > 0 ? position.slice(0, end + 1) : undefined;
}

function positionsAttribute(positions: ReadonlyMap<string, string>): AttributeValue {
  return { M: ownMap([...positions].map(([source, position]) => [source, { S: position }] as const)) };
}

/**
 * The positions of an item as read. An item written before changes named their source has only `position`:
 * it is the mark of its one source, `unnamed` until a source of the same format takes it (see
 * {@link continuesUnnamedMark}).
 */
function positionsOf(
  value: AttributeValue | undefined,
  legacyPosition: string | undefined,
): ReadonlyMap<string, string> {
  if (value?.M !== undefined)
    return new Map(
      Object.entries(value.M).flatMap(([source, v]) => (v.S === undefined ? [] : [[source, v.S] as const])),
    );
  return legacyPosition === undefined ? new Map() : new Map([[UNNAMED_SOURCE, legacyPosition]]);
}

/**
 * Field stamps as stored: the distinct stamps once, in a list (`w`), and each field (`f`) and the delete (`d`)
 * by index, so that a wide row costs a few bytes per field rather than a stamp each.
 */
function fieldStampsAttribute(stamps: FieldStamps): AttributeValue {
  const writers: WriterStamp[] = [];
  const index = new Map<string, number>();
  const indexOf = (stamp: WriterStamp): AttributeValue => {
    const key = `${stamp.ts}\u0000${stamp.source}\u0000${stamp.position}`;
    let i = index.get(key);
    if (i === undefined) {
      i = writers.push(stamp) - 1;
      index.set(key, i);
    }
    return { N: String(i) };
  };
  const fields = ownMap([...stamps.fields].map(([name, stamp]) => [name, indexOf(stamp)] as const));
  const m: Record<string, AttributeValue> = { f: { M: fields } };
  if (stamps.deleted !== undefined) m.d = indexOf(stamps.deleted);
  m.w = { L: writers.map(stampAttribute) };
  return { M: m };
}

function fieldStampsOf(value: AttributeValue | undefined): FieldStamps | undefined {
  const m = value?.M;
  if (m === undefined) return undefined;
  const writers = (m.w?.L ?? []).map(stampOf);
  const at = (v: AttributeValue | undefined) => (v?.N === undefined ? undefined : writers[Number(v.N)]);
  const fields = new Map<string, WriterStamp>();
  for (const [name, v] of Object.entries(m.f?.M ?? {})) {
    const stamp = at(v);
    if (stamp !== undefined) fields.set(name, stamp);
  }
  return { fields, deleted: at(m.d) };
}

export type { FieldStamps, WriterStamp };
export {
  compareStamps,
  continuesUnnamedMark,
  fieldStampsAttribute,
  fieldStampsOf,
  KINESIS_SEQUENCE_PREFIX,
  positionFamily,
  positionsAttribute,
  positionsOf,
  stampAttribute,
  stampOf,
};
