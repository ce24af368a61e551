import { readFileSync } from 'node:fs';
import { messageOf } from '../../core/errors.js';
import { isObject, parseJsonExact, stringifyJsonExact } from '../../core/events/index.js';

/** One record to publish from an input file: its data and, when the file says, its partition key. */
interface InputRecord {
  readonly data: Buffer;
  readonly partitionKey: string | undefined;
}

const NEWLINE = 0x0a;

/**
 * The records of a parsed document: a Lambda Kinesis event's records keep their own data (base64, byte for
 * byte) and partition key; any other value is one record, written back with its exact numbers.
 */
function fromDocument(doc: unknown, text?: Buffer): InputRecord[] {
  if (Array.isArray(doc)) return doc.flatMap((d) => fromDocument(d));
  if (isObject(doc) && Array.isArray(doc.Records))
    return doc.Records.flatMap((r: unknown) => {
      const k = isObject(r) && isObject(r.kinesis) ? r.kinesis : undefined;
      if (k === undefined || typeof k.data !== 'string') return fromDocument(r);
      return [
        {
          data: Buffer.from(k.data, 'base64'),
          partitionKey: typeof k.partitionKey === 'string' ? k.partitionKey : undefined,
        },
      ];
    });
  // Read with parseJsonExact, written with stringifyJsonExact: 9223372036854775807 stays that number (a
  // JSON.parse round trip would publish 9223372036854776000).
  return [{ data: text ?? Buffer.from(stringifyJsonExact(doc)), partitionKey: undefined }];
}

/** The lines of `bytes`, as bytes: a line that is not UTF-8 is published as it is. */
function linesOf(bytes: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = bytes.indexOf(NEWLINE); i >= 0; i = bytes.indexOf(NEWLINE, start)) {
    lines.push(bytes.subarray(start, i));
    start = i + 1;
  }
  lines.push(bytes.subarray(start));
  return lines;
}

/** JSON's white space: space, tab, line feed, carriage return. */
const isBlank = (byte: number | undefined) =>
  byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;

function trimmed(bytes: Buffer): Buffer {
  let start = 0;
  let end = bytes.length;
  while (start < end && isBlank(bytes[start])) start++;
  while (end > start && isBlank(bytes[end - 1])) end--;
  return bytes.subarray(start, end);
}

function parsed(text: Buffer): { value: unknown } | undefined {
  try {
    return { value: parseJsonExact(text.toString('utf8')) };
  } catch {
    return undefined;
  }
}

/**
 * Reads change events for `--input`: a JSON document, a JSON array, JSON Lines (lines that start with
 * neither `{` nor `[` are ignored, as in license headers), or a Lambda KinesisStreamEvent. Records keep their
 * bytes: a JSON Lines line is published as it is written (a line that does not parse, or is not UTF-8, too:
 * the consumer parks it), and a value of a document with its exact numbers.
 */
function readInput(path: string): InputRecord[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path === '-' ? 0 : path);
  } catch (error) {
    throw new Error(
      `cannot read the --input file ${JSON.stringify(path)} (${(error as NodeJS.ErrnoException).code ?? messageOf(error)}); give a readable JSON, JSON Lines or Lambda event file, or - for stdin`,
    );
  }
  const whole = trimmed(bytes);
  if (whole.length === 0) return [];
  const document = parsed(whole);
  if (document !== undefined && (Array.isArray(document.value) || isObject(document.value)))
    return fromDocument(document.value, Array.isArray(document.value) ? undefined : whole);
  const records: InputRecord[] = [];
  for (const line of linesOf(bytes)) {
    const t = trimmed(line);
    if (t[0] !== 0x7b /* { */ && t[0] !== 0x5b /* [ */) continue;
    const value = parsed(t)?.value;
    // A Lambda event (or an array) on one line holds records of its own; any other line is one record.
    if (Array.isArray(value) || (isObject(value) && Array.isArray(value.Records)))
      records.push(...fromDocument(value));
    else records.push({ data: Buffer.from(t), partitionKey: undefined });
  }
  return records;
}

export type { InputRecord };
export { readInput };
