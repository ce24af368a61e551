import { readFileSync } from 'node:fs';

/** One record to publish from an input file: its data and, when the file says, its partition key. */
interface InputRecord {
  readonly data: Buffer;
  readonly partitionKey: string | undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A Lambda Kinesis event's records keep their own data and partition key. */
function fromDocument(doc: unknown): InputRecord[] {
  if (Array.isArray(doc)) return doc.flatMap(fromDocument);
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
  return [{ data: Buffer.from(JSON.stringify(doc)), partitionKey: undefined }];
}

/**
 * Reads change events for `--input`: a JSON document, a JSON array, JSON Lines (lines that start with
 * neither `{` nor `[` are ignored, as in license headers), or a Lambda KinesisStreamEvent.
 */
function readInput(path: string): InputRecord[] {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    throw new Error(
      `cannot read the --input file ${JSON.stringify(path)} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); give a readable JSON, JSON Lines or Lambda event file, or - for stdin`,
    );
  }
  const trimmed = text.trim();
  if (trimmed === '') return [];
  try {
    return fromDocument(JSON.parse(trimmed));
  } catch {
    // Not one document: JSON Lines.
  }
  const records: InputRecord[] = [];
  text.split('\n').forEach((line, index) => {
    const t = line.trim();
    if (!t.startsWith('{') && !t.startsWith('[')) return;
    try {
      records.push(...fromDocument(JSON.parse(t)));
    } catch (error) {
      // Unparseable lines are published as they are: the consumer parks them as NOT_JSON, nothing is lost.
      records.push({ data: Buffer.from(t), partitionKey: `line-${index + 1}` });
      void error;
    }
  });
  return records;
}

export type { InputRecord };
export { readInput };
