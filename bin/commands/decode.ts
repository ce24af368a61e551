/**
 * `cdcp decode`: reads CDC records from a file or stdin and prints what the consumer would make of them, one
 * JSON line per change, without touching AWS.
 */
import { readFile } from 'node:fs/promises';
import { messageOf } from '../../core/errors.js';
import {
  type ChangeEvent,
  createDecodeContext,
  createDefaultRegistry,
  type DecodeContext,
  type DecodedRecord,
  DecodeError,
  type DecoderRegistry,
  decodeKinesisRecord,
  FORMAT_CHOICES,
  type FormatChoice,
  type JsonDocument,
  type KinesisEventRecord,
  kinesisEventRecords,
  REASON,
  type RecordOrigin,
  splitJsonDocuments,
  type TableDecodeSettings,
} from '../../core/events/index.js';
import { CliError, type Command, type CommandContext, parseOptions } from './command.js';

const USAGE = 'decode [--format auto|debezium|dms|dynamodb] [--key TABLE=COL1,COL2]... [FILE|-]';

const HELP = `Decodes CDC records the way the consumer does and prints one JSON line per change, in input order:
  {"format", "table", "aggregateId", "op", "position", "before", "after", "ts", "txId"}
("ttlDelete": true is added for a DynamoDB TTL deletion), or for an input that cannot be decoded:
  {"error": {"code", "message"}, "index"}
with the reason code the consumer would park it with. index counts the input records from 0 (each JSON value,
each array element, each Kinesis record of an event; a KPL sub-record also gets "subSequenceNumber").
Tombstones and metadata records (DMS control records, Debezium transaction markers and schema changes) print
nothing; a summary goes to stderr.

Input (FILE, or - or nothing for stdin): a JSON document, a JSON array, JSON Lines, or several documents in a
row; lines whose first non-blank character is not { or [ are ignored. Each document is decoded from its bytes
exactly as the consumer decodes a record (strict UTF-8, the 1 MiB record limit, the nesting bounds). A Lambda
KinesisStreamEvent (or one of its records, or a Kinesis Analytics preprocessor event) is unpacked: data decoded
from base64 and KPL aggregates de-aggregated. Input holding no JSON document at all (a binary file, a KPL
record) is decoded as one Kinesis record's data. Records outside an event get the input index as Kinesis
sequence number, so formats positioned by sequence number are ordered by input order.

Options:
  --format F           auto (default: detect each record), debezium, dms or dynamodb
  --key TABLE=C1,C2    key columns of TABLE (<schema-or-db>.<table>), used when a record carries no key;
                       repeat for several tables

Exit status: 0 when the input held records (decode errors are output lines), 1 if it could not be read or
held no JSON document and did not decode as one record, 2 for bad options.

Example:
  cdcp decode --key public.orders=id test/fixtures/aws-dms/dms-postgres-load-insert-update-pkchange-delete-sequence-commons-codec.jsonl`;

interface Counts {
  records: number;
  changes: number;
  errors: number;
  tombstones: number;
  metadata: number;
  dropped: number;
}

function parseKeys(values: readonly string[]): Record<string, TableDecodeSettings> {
  const tables: Record<string, TableDecodeSettings> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    const table = eq < 0 ? '' : value.slice(0, eq).trim();
    const columns =
      eq < 0
        ? []
        : value
            .slice(eq + 1)
            .split(',')
            .map((c) => c.trim());
    if (table === '' || columns.length === 0 || columns.some((c) => c === ''))
      throw new CliError(
        `--key ${JSON.stringify(value)} must look like TABLE=COL1,COL2, for example --key public.orders=tenant_id,id`,
      );
    if (Object.hasOwn(tables, table))
      throw new CliError(
        `--key names table ${table} twice; give all its key columns in one --key ${table}=COL1,COL2`,
      );
    tables[table] = { keyColumns: columns };
  }
  return tables;
}

function parseFormat(value: string | undefined): FormatChoice {
  const format = value ?? 'auto';
  if (!(FORMAT_CHOICES as readonly string[]).includes(format))
    throw new CliError(
      `--format must be one of ${FORMAT_CHOICES.join(', ')}, received ${JSON.stringify(format)}`,
    );
  return format as FormatChoice;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/** The input's bytes: decoded strictly per record later, as the consumer does. */
async function readInput(file: string | undefined, context: CommandContext): Promise<Buffer> {
  if (file === undefined || file === '-') return readAll(context.stdin);
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? messageOf(error);
    throw new CliError(`cannot read ${file} (${code}); pass a readable file, or - to read standard input`, 1);
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** 1-based numbers of the lines that are not valid UTF-8 (none, after one check, for almost every input). */
function invalidUtf8Lines(input: Buffer): ReadonlySet<number> {
  const invalid = new Set<number>();
  try {
    strictUtf8.decode(input);
    return invalid;
  } catch {
    // Find the lines: a newline byte never occurs inside a multi-byte UTF-8 sequence.
  }
  let start = 0;
  for (let line = 1; start <= input.length; line++) {
    const newline = input.indexOf(0x0a, start);
    const end = newline < 0 ? input.length : newline;
    try {
      strictUtf8.decode(input.subarray(start, end));
    } catch {
      invalid.add(line);
    }
    start = end + 1;
  }
  return invalid;
}

function changeLine(change: ChangeEvent): string {
  const { format, table, aggregateId, op, position, before, after, ts, txId } = change;
  const line = { format, table, aggregateId, op, position, before, after, ts, txId };
  return JSON.stringify(change.ttlDelete === true ? { ...line, ttlDelete: true } : line);
}

/** Decodes inputs and writes their lines; one instance per run. */
class DecodeRun {
  readonly counts: Counts = { records: 0, changes: 0, errors: 0, tombstones: 0, metadata: 0, dropped: 0 };
  readonly #registry: DecoderRegistry;
  readonly #context: DecodeContext;
  readonly #out: NodeJS.WritableStream;

  public constructor(registry: DecoderRegistry, context: DecodeContext, out: NodeJS.WritableStream) {
    this.#registry = registry;
    this.#context = context;
    this.#out = out;
  }

  public error(index: number, code: string, message: string, subSequenceNumber?: number): void {
    this.counts.errors++;
    const line = { error: { code, message }, index };
    this.#out.write(
      `${JSON.stringify(subSequenceNumber === undefined ? line : { ...line, subSequenceNumber })}\n`,
    );
  }

  public decoded(decoded: DecodedRecord): void {
    if (decoded.tombstone) this.counts.tombstones++;
    else if (decoded.changes.length === 0) this.counts.metadata++;
    for (const change of decoded.changes) {
      this.counts.changes++;
      this.#out.write(`${changeLine(change)}\n`);
    }
  }

  /** A record's bytes outside any Kinesis event: decoded as the consumer decodes a record's data. */
  public record(data: Uint8Array): void {
    const index = this.counts.records++;
    this.#guard(index, () => this.decoded(this.#registry.decode(data, this.#origin(index), this.#context)));
  }

  /** A JSON value outside any Kinesis event (an element of a JSON array). */
  public value(value: unknown): void {
    const index = this.counts.records++;
    this.#guard(index, () =>
      this.decoded(this.#registry.decodeValue(value, this.#origin(index), this.#context)),
    );
  }

  /** The records of a Lambda or Kinesis Analytics event. */
  public event(entries: NonNullable<ReturnType<typeof kinesisEventRecords>>): void {
    for (const entry of entries) {
      const index = this.counts.records++;
      if (entry.error !== undefined) {
        this.error(index, entry.error.code, entry.error.message);
        continue;
      }
      this.#guard(index, () => this.#kinesisRecord(index, entry.record));
    }
  }

  /**
   * Input holding no JSON document, decoded as the data of one Kinesis record (a KPL aggregate is unpacked).
   * Returns false when nothing in it decoded.
   */
  public raw(data: Uint8Array): boolean {
    const index = this.counts.records++;
    const decodedBefore = this.#decodedCount();
    this.#guard(index, () => this.#kinesisRecord(index, { ...this.#origin(index), data }));
    return this.#decodedCount() > decodedBefore;
  }

  #decodedCount(): number {
    return this.counts.changes + this.counts.tombstones + this.counts.metadata;
  }

  #kinesisRecord(index: number, record: KinesisEventRecord): void {
    const result = decodeKinesisRecord(this.#registry, record, this.#context);
    this.counts.dropped += result.droppedOutsideHashRange;
    for (const outcome of result.outcomes) {
      if (outcome.error === undefined) this.decoded(outcome.decoded);
      else
        this.error(
          index,
          outcome.error.code,
          outcome.error.message,
          result.aggregated ? outcome.origin.subSequenceNumber : undefined,
        );
    }
  }

  #origin(index: number): RecordOrigin {
    return {
      shardId: 'cdcp-decode',
      sequenceNumber: String(index),
      subSequenceNumber: 0,
      partitionKey: '',
      approximateArrivalTimestamp: 0,
    };
  }

  /** Runs one record's decoding: whatever goes wrong is that record's error line, never a crash. */
  #guard(index: number, decode: () => void): void {
    try {
      decode();
    } catch (error) {
      if (error instanceof DecodeError) this.error(index, error.code, error.message);
      else
        this.error(index, REASON.INVALID_ENVELOPE, `the record could not be decoded (${messageOf(error)})`);
    }
  }
}

/** One document of the input: a Kinesis event, a JSON array of records, or one record. */
function decodeDocument(run: DecodeRun, document: JsonDocument, invalidLines: ReadonlySet<number>): void {
  for (let line = document.line; line <= document.endLine; line++)
    if (invalidLines.has(line)) {
      run.error(
        run.counts.records++,
        REASON.NOT_JSON,
        `input line ${line}: not valid UTF-8; the consumer parks such a record as NOT_JSON`,
      );
      return;
    }
  if (document.error !== undefined) {
    run.error(run.counts.records++, document.code, `input line ${document.line}: ${document.error}`);
    return;
  }
  const entries = kinesisEventRecords(document.value);
  if (entries !== undefined) run.event(entries);
  else if (Array.isArray(document.value)) for (const value of document.value) run.value(value);
  else run.record(Buffer.from(document.text));
}

/**
 * `cdcp decode`.
 *
 * @example
 * ```sh
 * npx cdcp decode --format dms --key public.films=code capture.ndjson
 * ```
 */
const decodeCommand: Command = {
  path: ['decode'],
  usage: USAGE,
  summary: 'Decode CDC records (Debezium, DMS, DynamoDB, KPL) and print one JSON line per change',
  help: HELP,
  async run(context) {
    const { values, positionals } = parseOptions(
      context.args,
      { format: { type: 'string' }, key: { type: 'string', multiple: true } },
      true,
    );
    if (positionals.length > 1)
      throw new CliError(
        `expected at most one FILE, received ${positionals.length}: ${positionals.join(' ')}`,
      );
    const format = parseFormat(values.format);
    const tables = parseKeys(values.key ?? []);
    const input = await readInput(positionals[0], context);
    const run = new DecodeRun(createDefaultRegistry({ format }), createDecodeContext(tables), context.stdout);
    const documents = splitJsonDocuments(input.toString('utf8'));
    let exitCode = 0;
    if (documents.length > 0) {
      const invalidLines = invalidUtf8Lines(input);
      for (const document of documents) decodeDocument(run, document, invalidLines);
    } else if (input.some((byte) => byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d)) {
      // No JSON document: a binary file, or one record's raw data. Decoded as the consumer would.
      if (!run.raw(input)) exitCode = 1;
    }
    const { records, changes, errors, tombstones, metadata, dropped } = run.counts;
    context.stderr.write(
      `cdcp decode: ${records} record(s): ${changes} change(s), ${errors} error(s), ${tombstones} tombstone(s), ${metadata} metadata record(s)${dropped > 0 ? `, ${dropped} sub-record(s) dropped outside the shard's hash range` : ''}${exitCode === 0 ? '' : '; the input holds no JSON document and is not a record the consumer could decode'}\n`,
    );
    return exitCode;
  },
};

export { decodeCommand };
