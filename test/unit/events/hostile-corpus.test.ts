/**
 * Every record of the hostile corpus (test/fixtures/hostile) through the decoders, the way the consumer's
 * first pass reads a Kinesis record: KPL de-aggregation, then the registry for each user record.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type ChangeEvent,
  createDefaultRegistry,
  decodeKinesisRecord,
  getOwn,
  type KinesisRecordOutcome,
  REASON,
  type RowImage,
  type UserRecordOutcome,
  wasJsonNumber,
} from '../../../core/events/index.js';
import {
  jsonDifferences as differences,
  type ExpectedChange,
  type ExpectedOutcome,
  HOSTILE_CATEGORIES,
  type HostileEntry,
  hostileCorpus,
} from '../../helpers/hostile-corpus.js';

const corpus = hostileCorpus();
// UNSTORABLE is decided on the write path: its records decode.
const DECODE_REASONS: ReadonlySet<string> = new Set(
  Object.values(REASON).filter((r) => r !== REASON.UNSTORABLE),
);

/** Paths of the values `row` holds as exact number text. */
function exactNumberPaths(value: unknown, path = ''): string[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.keys(value).flatMap((key) => {
    const where = Array.isArray(value) ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;
    const here = wasJsonNumber(value, key) ? [where] : [];
    return [...here, ...exactNumberPaths(getOwn(value as RowImage, key), where)];
  });
}

function checkChange(change: ChangeEvent, expected: ExpectedChange): string[] {
  const problems: string[] = [];
  for (const field of ['aggregateId', 'op', 'position'] as const)
    if (change[field] !== expected[field])
      problems.push(`${field} ${change[field]} instead of ${expected[field]}`);
  if ('before' in expected) problems.push(...differences(change.before, expected.before, 'before'));
  if ('after' in expected) problems.push(...differences(change.after, expected.after, 'after'));
  if (expected.afterSha256 !== undefined) {
    const digest = createHash('sha256').update(JSON.stringify(change.after)).digest('hex');
    if (digest !== expected.afterSha256) problems.push(`after has digest ${digest}`);
  }
  const exact = expected.exactNumbers ?? exactNumberPaths(expected.after);
  expect(exactNumberPaths(change.after)).toEqual(exact);
  return problems;
}

function checkUserOutcome(outcome: UserRecordOutcome, expected: ExpectedOutcome): void {
  if ('parked' in expected) {
    expect(outcome.error?.code ?? 'applied').toBe(expected.parked);
    // Bounded, whatever the record quoted.
    expect(outcome.error?.message.length).toBeLessThanOrEqual(1100);
    return;
  }
  expect(outcome.error?.message ?? 'decoded').toBe('decoded');
  const decoded = outcome.decoded!;
  if ('tombstone' in expected) expect(decoded.tombstone).toBe(true);
  else if ('metadata' in expected) expect([decoded.tombstone, decoded.changes]).toEqual([false, []]);
  else if ('changes' in expected) {
    expect(decoded.changes.map((c) => c.aggregateId)).toEqual(expected.changes.map((c) => c.aggregateId));
    for (const [i, change] of decoded.changes.entries())
      expect(checkChange(change, expected.changes[i]!)).toEqual([]);
  } else throw new Error(`unexpected outcome ${JSON.stringify(expected)}`);
}

function checkRecord(result: KinesisRecordOutcome, expected: ExpectedOutcome): void {
  if ('subRecords' in expected) {
    expect(result.aggregated).toBe(true);
    expect(result.outcomes).toHaveLength(expected.subRecords.length);
    for (const [i, outcome] of result.outcomes.entries()) checkUserOutcome(outcome, expected.subRecords[i]!);
    return;
  }
  expect(result.outcomes).toHaveLength(1);
  checkUserOutcome(result.outcomes[0]!, expected);
}

/** Applies changes in delivery order by the position rule: a change applies when its position is greater. */
function fold(changes: readonly ChangeEvent[]): Map<string, { position: string; after: RowImage | null }> {
  const state = new Map<string, { position: string; after: RowImage | null }>();
  for (const change of changes) {
    const current = state.get(change.aggregateId);
    if (current === undefined || change.position > current.position)
      state.set(change.aggregateId, { position: change.position, after: change.after });
  }
  return state;
}

function decodeEntry(entry: HostileEntry): KinesisRecordOutcome[] {
  const registry = createDefaultRegistry();
  return entry.records.map((record) => decodeKinesisRecord(registry, record, entry.context));
}

describe('Hostile corpus: decoders', () => {
  it('holds at least 40 records in every category', () => {
    const records = corpus.reduce((n, e) => n + e.records.length, 0);

    expect(records).toBeGreaterThanOrEqual(40);
    expect(new Set(corpus.map((e) => e.category))).toEqual(new Set(HOSTILE_CATEGORIES));
    for (const entry of corpus) expect(entry.decoded).toHaveLength(entry.records.length);
  });

  for (const entry of corpus)
    it(`${entry.category}: ${entry.name}`, () => {
      const results = decodeEntry(entry);
      for (const [i, result] of results.entries()) checkRecord(result, entry.decoded[i]!);

      const outcomes = results.flatMap((r) => r.outcomes);
      const changes = outcomes.flatMap((o) => o.decoded?.changes ?? []);
      const codes = new Set(outcomes.flatMap((o) => (o.error === undefined ? [] : [o.error.code])));
      const { parked, applied } = entry.expect;
      if (parked !== undefined && DECODE_REASONS.has(parked) && applied === undefined) {
        // Parked at decode time: nothing of the entry applies.
        expect([...codes]).toEqual([parked]);
        expect(changes).toEqual([]);
      } else if (parked !== undefined && applied === undefined) {
        // The write path parks it (beyond a DynamoDB limit): every record decodes.
        expect([...codes]).toEqual([]);
        expect(changes.length).toBeGreaterThan(0);
      } else {
        expect([...codes]).toEqual(parked === undefined ? [] : [parked]);
        const state = fold(changes);
        expect([...state.keys()].sort()).toEqual(Object.keys(applied ?? {}).sort());
        for (const [aggregateId, expected] of Object.entries(applied ?? {}))
          if (expected !== '$after') expect(differences(state.get(aggregateId)?.after, expected)).toEqual([]);
      }
    });
});
