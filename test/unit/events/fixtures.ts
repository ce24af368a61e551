/**
 * Access to the real CDC samples in `test/fixtures` (where each comes from: test/fixtures/PROVENANCE.md) and
 * small builders for decoder tests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RecordOrigin } from '../../../core/events/index.js';
import { DecodeError, parseJsonExact } from '../../../core/events/index.js';

/** test/unit/events → test/fixtures. */
const FIXTURES = new URL('../../fixtures/', import.meta.url);

/** The reason code a decoder's DecodeError carries; fails when it throws nothing or something else. */
function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof DecodeError) return error.code;
    throw error;
  }
  throw new Error('expected a DecodeError');
}

function fixturePath(relative: string): string {
  return fileURLToPath(new URL(relative, FIXTURES));
}

function readFixture(relative: string): string {
  return readFileSync(new URL(relative, FIXTURES), 'utf8');
}

/** A fixture holding one JSON document, parsed like the consumer parses records. */
function fixtureJson(relative: string): unknown {
  return parseJsonExact(readFixture(relative));
}

/** A JSON Lines fixture: lines that start with `{`, parsed (license-header lines are skipped). */
function fixtureLines(relative: string): unknown[] {
  return readFixture(relative)
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => parseJsonExact(line));
}

/** The bodies of a `*.snippets.txt` fixture, in order, each with its `BEGIN SNIPPET` header line. */
function fixtureSnippets(relative: string): { header: string; body: string }[] {
  const snippets: { header: string; body: string }[] = [];
  let current: { header: string; lines: string[] } | undefined;
  for (const line of readFixture(relative).split('\n')) {
    if (line.startsWith('##### BEGIN SNIPPET')) current = { header: line, lines: [] };
    else if (line.startsWith('##### END SNIPPET') && current !== undefined) {
      snippets.push({ header: current.header, body: current.lines.join('\n') });
      current = undefined;
    } else current?.lines.push(line);
  }
  return snippets;
}

/**
 * Turns a documentation example into JSON the way a reader would: the elided `"schema": { ... }` becomes
 * `"schema": null` (as JsonConverter writes an envelope without schema), trailing commas go and the AsciiDoc `{context}` attribute (MySQL page), and puts `source` in for an elided one.
 */
function repairDocJson(body: string, source?: Record<string, unknown>): unknown {
  let text = body
    .replace(/"schema": \{ \.\.\. \}/, '"schema": null')
    .replace(/\{context\}/g, 'mysql')
    .replace(/,(\s*[}\]])/g, '$1');
  if (source !== undefined)
    text = text.replace(/"source": \{\s*\.\.\.\s*\}/, `"source": ${JSON.stringify(source)}`);
  return parseJsonExact(text);
}

/**
 * The hostile corpus is written by this project (test/fixtures/hostile/README.md) and read through
 * test/helpers/hostile-corpus.ts; every other folder holds real samples listed in PROVENANCE.md.
 */
const PROJECT_WRITTEN = new Set(['hostile']);

/** Every real fixture file, relative to the fixtures folder (for example `debezium/x.json`). */
function allFixtureFiles(): string[] {
  const files: string[] = [];
  for (const dir of readdirSync(FIXTURES, { withFileTypes: true })) {
    if (!dir.isDirectory() || PROJECT_WRITTEN.has(dir.name)) continue;
    for (const file of readdirSync(new URL(`${dir.name}/`, FIXTURES))) files.push(`${dir.name}/${file}`);
  }
  return files.sort();
}

/** A record origin for a record at `sequenceNumber` of shard 0. */
function originAt(sequenceNumber: string | number, partitionKey = '', subSequenceNumber = 0): RecordOrigin {
  return {
    shardId: 'shardId-000000000000',
    sequenceNumber: String(sequenceNumber),
    subSequenceNumber,
    partitionKey,
    approximateArrivalTimestamp: 1_700_000_000_000,
  };
}

/** A Debezium Postgres `source` block for built records. */
const POSTGRES_SOURCE = {
  connector: 'postgresql',
  schema: 'public',
  table: 't',
  lsn: 10,
  sequence: '["9","10"]',
} as const;

/**
 * The text of a Debezium create in a Kafka Connect `{schema, payload}` envelope whose `after` struct has
 * `fields`; `after` is JSON text, so that it can hold numbers and keys a JavaScript value cannot.
 */
function debeziumWithSchema(fields: readonly object[], after: string): string {
  const schema = { type: 'struct', fields: [{ field: 'after', type: 'struct', fields }] };
  return `{"schema": ${JSON.stringify(schema)}, "payload": {"before": null, "after": ${after}, "source": ${JSON.stringify(POSTGRES_SOURCE)}, "op": "c"}}`;
}

const utf8 = new TextEncoder();

/** A JSON value as record bytes. */
function bytesOf(value: unknown): Uint8Array {
  return utf8.encode(typeof value === 'string' ? value : JSON.stringify(value));
}

export {
  allFixtureFiles,
  bytesOf,
  codeOf,
  debeziumWithSchema,
  fixtureJson,
  fixtureLines,
  fixturePath,
  fixtureSnippets,
  originAt,
  POSTGRES_SOURCE,
  readFixture,
  repairDocJson,
};
