/**
 * The hostile corpus in `test/fixtures/hostile/` (written by this project; the format is in its README):
 * records that have broken decoders, with the outcome expected of each. Decoder tests assert `decoded`;
 * end-to-end tests through the consumer assert `expect`.
 */
import { readFileSync } from 'node:fs';
import {
  createDecodeContext,
  type DecodeContext,
  getOwn,
  type KinesisEventRecord,
  parseJsonExact,
  type RowImage,
  type TableDecodeSettings,
  wasJsonNumber,
} from '../../core/events/index.js';

const CATEGORIES = [
  'numbers',
  'names',
  'nesting',
  'sizes',
  'encodings',
  'ops',
  'decimals',
  'positions',
  'kpl',
] as const;

type HostileCategory = (typeof CATEGORIES)[number];

/** One change a decoder must produce; `after` or its digest, `before` only when given. */
interface ExpectedChange {
  readonly aggregateId: string;
  readonly op: string;
  readonly position: string;
  readonly before?: unknown;
  readonly after?: unknown;
  /** SHA-256 of `JSON.stringify(after)`, for rows too large to write out. */
  readonly afterSha256?: string;
  /** Paths in `after` (`list[0]`, `m.n`) of numbers kept as their exact text. */
  readonly exactNumbers?: readonly string[];
}

/** What decoding one record (or one KPL sub-record) must give. */
type ExpectedOutcome =
  | { readonly parked: string }
  | { readonly changes: readonly ExpectedChange[] }
  | { readonly tombstone: true }
  | { readonly metadata: true }
  | { readonly subRecords: readonly ExpectedOutcome[] };

/**
 * What the consumer must end with. `parked`: the reason code every change of the entry that is not applied
 * is parked with (a decode reason, or a write-path one such as `UNSTORABLE`). `applied`: the state of each
 * aggregate after every record is delivered in order (`null` for a tombstone, `"$after"` for the `after` of
 * the change that applied last, when it is too large to write out).
 */
interface ExpectedFinal {
  readonly parked?: string;
  readonly applied?: Readonly<Record<string, unknown>>;
}

interface HostileEntry {
  readonly category: HostileCategory;
  readonly name: string;
  /** Why the outcome is what it is, where the write path decides it. */
  readonly note?: string;
  /** Key columns per table the entry is decoded with (`tables[t].keyColumns` in the configuration). */
  readonly keyColumns: Readonly<Record<string, readonly string[]>>;
  /** The decode context of those settings. */
  readonly context: DecodeContext;
  /** Kinesis records, delivered in this order. */
  readonly records: readonly KinesisEventRecord[];
  /** One per record. */
  readonly decoded: readonly ExpectedOutcome[];
  readonly expect: ExpectedFinal;
}

interface RecordSpec {
  readonly text?: string;
  readonly base64?: string;
  /** Pieces concatenated, each repeated its count of times: large records without large files. */
  readonly repeat?: readonly (readonly [string, number])[];
  readonly shardId?: string;
  readonly sequenceNumber?: string;
  readonly partitionKey?: string;
}

interface EntrySpec {
  readonly name: string;
  readonly note?: string;
  readonly context?: { readonly keyColumns?: Readonly<Record<string, readonly string[]>> };
  readonly records: readonly RecordSpec[];
  readonly decoded: readonly ExpectedOutcome[];
  readonly expect: ExpectedFinal;
}

function dataOf(spec: RecordSpec): Uint8Array {
  if (spec.base64 !== undefined) return Buffer.from(spec.base64, 'base64');
  if (spec.text !== undefined) return Buffer.from(spec.text, 'utf8');
  if (spec.repeat !== undefined)
    return Buffer.from(spec.repeat.map(([piece, times]) => piece.repeat(times)).join(''), 'utf8');
  throw new Error(`a hostile record needs text, base64 or repeat: ${JSON.stringify(Object.keys(spec))}`);
}

function contextOf(spec: EntrySpec['context']): DecodeContext {
  const tables: Record<string, TableDecodeSettings> = {};
  for (const [table, keyColumns] of Object.entries(spec?.keyColumns ?? {})) tables[table] = { keyColumns };
  return createDecodeContext(tables);
}

function entriesOf(category: HostileCategory): HostileEntry[] {
  const text = readFileSync(new URL(`../fixtures/hostile/${category}.jsonl`, import.meta.url), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => {
      // Parsed exactly, so that numbers in expected rows carry the marks decoded rows must carry.
      const spec = parseJsonExact(line) as EntrySpec;
      return {
        category,
        name: spec.name,
        ...(spec.note === undefined ? {} : { note: spec.note }),
        keyColumns: spec.context?.keyColumns ?? {},
        context: contextOf(spec.context),
        records: spec.records.map((record, i) => ({
          data: dataOf(record),
          shardId: record.shardId ?? 'shardId-000000000000',
          sequenceNumber: record.sequenceNumber ?? String(1000 + i),
          partitionKey: record.partitionKey ?? '',
          approximateArrivalTimestamp: 1_700_000_000_000,
        })),
        decoded: spec.decoded,
        expect: spec.expect,
      };
    });
}

/**
 * Every entry of the hostile corpus, category by category.
 *
 * @example
 * ```ts
 * for (const entry of hostileCorpus()) for (const record of entry.records) handler(lambdaEventOf([record]));
 * ```
 */
function hostileCorpus(): HostileEntry[] {
  return CATEGORIES.flatMap(entriesOf);
}

/** A Lambda Kinesis event holding `records`, as the consumer receives them. */
function lambdaEventOf(records: readonly KinesisEventRecord[]) {
  return {
    Records: records.map((r) => ({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: r.partitionKey,
        sequenceNumber: r.sequenceNumber,
        data: Buffer.from(r.data).toString('base64'),
        approximateArrivalTimestamp: r.approximateArrivalTimestamp / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${r.shardId}:${r.sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/cdc',
    })),
  };
}

/**
 * Differences between two JSON values, one sentence each: own keys, exact values (`Object.is`), number marks
 * (`wasJsonNumber`), plain prototypes. Empty when they are the same value.
 */
function jsonDifferences(actual: unknown, expected: unknown, path = ''): string[] {
  const at = path === '' ? 'the value' : path;
  if (typeof expected !== 'object' || expected === null)
    return Object.is(actual, expected) ? [] : [`${at}: ${String(actual)} instead of ${String(expected)}`];
  if (typeof actual !== 'object' || actual === null) return [`${at}: ${String(actual)} instead of an object`];
  if (Object.getPrototypeOf(actual) !== Object.getPrototypeOf(expected)) return [`${at}: another prototype`];
  const keys = Object.keys(expected);
  const actualKeys = Object.keys(actual);
  if (actualKeys.length !== keys.length || !keys.every((k) => Object.hasOwn(actual, k)))
    return [`${at}: keys ${actualKeys.join(',')} instead of ${keys.join(',')}`];
  return keys.flatMap((key) => {
    const where = Array.isArray(expected) ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;
    const mark =
      wasJsonNumber(actual, key) === wasJsonNumber(expected, key)
        ? []
        : [`${where}: ${wasJsonNumber(expected, key) ? 'lost its number mark' : 'marked as a number'}`];
    return [
      ...mark,
      ...jsonDifferences(getOwn(actual as object as RowImage, key), getOwn(expected as RowImage, key), where),
    ];
  });
}

export type { ExpectedChange, ExpectedFinal, ExpectedOutcome, HostileCategory, HostileEntry };
export { CATEGORIES as HOSTILE_CATEGORIES, hostileCorpus, jsonDifferences, lambdaEventOf };
