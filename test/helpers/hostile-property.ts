/**
 * The property the consumer must have for every possible record (docs/architecture.md contract 6), and the
 * records it is checked on: generated ones, and mutations of the real fixtures (test/fixtures) and of the
 * hostile corpus. One delivery of any batch ends with each record's changes applied (or covered by the state)
 * or parked, and each undecodable record parked; nothing throws, no batch fails, and memory stays bounded.
 * Used by `test/integration/consumer/hostile-property.test.ts` (fixed seed, bounded cases) and by
 * `npm run bench -- hostile` (many more cases).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import fc from 'fast-check';
import { parseConfig } from '../../core/config/schema.js';
import { PARKED_TABLE } from '../../core/constants.js';
import { lambdaContext } from '../../core/esm/lambda-event.js';
import { createDecodeContext } from '../../core/events/decode-context.js';
import {
  createDefaultRegistry,
  decodeKinesisRecord,
  isObject,
  type KinesisEventRecord,
  parseJsonExact,
  splitJsonDocuments,
  stringifyJsonExact,
  TableKeyMemory,
} from '../../core/events/index.js';
import { parkedRecordOf } from '../../core/processing/stream-record.js';
import { badInputKeys, changeKeys, ParkedStore, StateStore } from '../../core/state/index.js';
import { createConsumerHandler } from '../../functions/consumer/create-handler.js';
import { hostileCorpus, lambdaEventOf } from './hostile-corpus.js';
import { createStoreTable } from './state-tables.js';

/** The peak resident memory a process may reach while the property runs (a decimal bomb took 1.7 GB). */
const MAX_RSS_BYTES = 1_536 * 1024 * 1024;

const FIXTURE_FOLDERS = [
  'debezium',
  'aws-dms',
  'dynamodb-kinesis',
  'kpl-aggregation',
  'lambda-kinesis-events',
];

/** The records of a fixture document: a Lambda event's record data, or the document's own text. */
function recordsOf(value: unknown, text: string): Buffer[] {
  if (isObject(value) && Array.isArray(value.Records))
    return value.Records.flatMap((r: unknown) =>
      isObject(r) && isObject(r.kinesis) && typeof r.kinesis.data === 'string'
        ? [Buffer.from(r.kinesis.data, 'base64')]
        : [],
    );
  return [Buffer.from(text)];
}

/** Every record of the real fixtures and of the hostile corpus: what the mutations start from. */
function seedRecords(): Buffer[] {
  const seeds: Buffer[] = [];
  for (const folder of FIXTURE_FOLDERS) {
    const dir = new URL(`../fixtures/${folder}/`, import.meta.url);
    for (const file of readdirSync(dir)) {
      const text = readFileSync(new URL(file, dir), 'utf8');
      for (const doc of splitJsonDocuments(text))
        if (doc.error === undefined) seeds.push(...recordsOf(doc.value, doc.text));
    }
  }
  for (const entry of hostileCorpus())
    for (const record of entry.records) seeds.push(Buffer.from(record.data));
  return seeds;
}

/** JSON text fragments that have broken decoders and writers: numbers, names, nesting, sizes, text. */
function fragment(): fc.Arbitrary<string> {
  const digits = (min: number, max: number) =>
    fc.integer({ min, max }).chain((n) => fc.stringMatching(new RegExp(`^[1-9][0-9]{${n - 1}}$`)));
  return fc.oneof(
    { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: digits(15, 60).map((d) => d) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(digits(1, 40), fc.integer({ min: -400, max: 400 }), fc.boolean())
        .map(([d, e, negative]) => `${negative ? '-' : ''}${d}e${e}`),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('-0', '0.30000000000000004', '5e-324', '1.7976931348623157e308', '1e400'),
    },
    {
      weight: 2,
      arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((s) => JSON.stringify(`\u0001${s}`)),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 1, max: 300 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom('__proto__', '', 'constructor', 'toString', 'hasOwnProperty', 'é😀')
        .chain((name) =>
          fc
            .jsonValue({ maxDepth: 1 })
            .map((v) => `{${JSON.stringify(name)}: ${JSON.stringify(v)}, "id": 7}`),
        ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(1_000, 60_000, 420_000).map((n) => JSON.stringify('x'.repeat(n))),
    },
    { weight: 1, arbitrary: fc.constantFrom(10_000, 150_000).map((n) => `[${'7,'.repeat(n - 1)}7]`) },
    { weight: 1, arbitrary: fc.constant(`{${JSON.stringify('k'.repeat(50_001))}: 1, "id": 1}`) },
  );
}

const SENTINEL = '\u0000mutation\u0000';

/** The paths into a parsed document, to pick one to mutate. */
function pathsOf(value: unknown, limit = 200): (string | number)[][] {
  const paths: (string | number)[][] = [[]];
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0 && paths.length < limit) {
    const { value: v, path } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    for (const key of Object.keys(v)) {
      const next = [...path, Array.isArray(v) ? Number(key) : key];
      paths.push(next);
      stack.push({ value: (v as Record<string, unknown>)[key], path: next });
    }
  }
  return paths;
}

/** `doc` with the value at `path` replaced by the raw JSON text `replacement` (which may be invalid JSON). */
function replaceAt(doc: unknown, path: readonly (string | number)[], replacement: string): string {
  if (path.length === 0) return replacement;
  let holder = doc as Record<string, unknown>;
  for (const key of path.slice(0, -1)) holder = holder[key] as Record<string, unknown>;
  Object.defineProperty(holder, path.at(-1)!, {
    value: SENTINEL,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return stringifyJsonExact(doc).replace(JSON.stringify(SENTINEL), replacement);
}

/** A mutation of a seed: of its bytes, or of one value of its JSON. */
function mutation(seeds: readonly Buffer[]): fc.Arbitrary<Buffer> {
  const seed = fc.constantFrom(...seeds);
  const byteLevel = fc
    .tuple(seed, fc.nat(), fc.nat(255), fc.constantFrom('flip', 'truncate', 'insert', 'duplicate'))
    .map(([data, at, byte, kind]) => {
      const i = data.length === 0 ? 0 : at % data.length;
      if (kind === 'flip')
        return Buffer.concat([data.subarray(0, i), Buffer.from([byte]), data.subarray(i + 1)]);
      if (kind === 'truncate') return data.subarray(0, i);
      if (kind === 'insert')
        return Buffer.concat([data.subarray(0, i), Buffer.from([byte]), data.subarray(i)]);
      return Buffer.concat([data.subarray(0, i), data.subarray(i / 2)]);
    });
  const jsonLevel = fc
    .tuple(seed, fc.nat(), fragment(), fc.boolean())
    .map(([data, pick, replacement, rename]) => {
      let doc: unknown;
      try {
        doc = parseJsonExact(data.toString('utf8'));
      } catch {
        return data;
      }
      const paths = pathsOf(doc);
      const path = paths[pick % paths.length]!;
      if (rename && path.length > 0 && typeof path.at(-1) === 'string') {
        // The same value under a name that input has used to reach a prototype.
        const holder = path.slice(0, -1).reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], doc);
        const name = ['__proto__', 'constructor', ''][pick % 3]!;
        Object.defineProperty(holder, name, {
          value: (holder as Record<string, unknown>)[path.at(-1) as string],
          enumerable: true,
          writable: true,
          configurable: true,
        });
        return Buffer.from(stringifyJsonExact(doc));
      }
      return Buffer.from(replaceAt(doc, path, replacement));
    });
  return fc.oneof(byteLevel, jsonLevel, jsonLevel);
}

/** A generated Debezium Postgres change around a fragment: the envelope valid, the row anything. */
function generated(): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.integer({ min: 1, max: 50 }), fragment(), fc.constantFrom('c', 'u', 'd', 'r'))
    .map(([id, value, op]) =>
      Buffer.from(
        `{"before": null, "after": {"id": ${id}, "v": ${value}}, "source": {"version": "2.5.0.Final", "connector": "postgresql", "name": "pg", "ts_ms": 1700000000000, "db": "app", "schema": "public", "table": "gen", "txId": 1, "lsn": ${1_000 + id}, "sequence": "[null,\\"${1_000 + id}\\"]"}, "op": "${op}", "ts_ms": 1700000000000}`,
      ),
    );
}

/**
 * Batches of one to three records: generated changes, mutations of the fixtures and the corpus, and the
 * fixtures and the corpus as they are.
 *
 * @example
 * ```ts
 * fc.assert(fc.asyncProperty(hostileBatches(), (batch) => checker.deliver(batch)), { seed: 1, numRuns: 100 });
 * ```
 */
function hostileBatches(): fc.Arbitrary<Buffer[]> {
  const seeds = seedRecords();
  const record = fc.oneof(
    { weight: 3, arbitrary: mutation(seeds) },
    { weight: 2, arbitrary: generated() },
    { weight: 1, arbitrary: fc.constantFrom(...seeds) },
  );
  return fc.array(record, { minLength: 1, maxLength: 3 });
}

/** What one delivery took. */
interface DeliveryReport {
  readonly records: number;
  readonly bytes: number;
  readonly ms: number;
}

/**
 * The consumer on DynamoDB Local, and the check of one delivery. Records get growing sequence numbers over
 * the whole run, as a shard gives them; the tables are shared, so aggregates meet again across batches
 * (later changes of a quarantined aggregate are parked behind it, older ones are duplicates).
 */
async function hostileChecker(dynamodb: DynamoDBClient) {
  const [stateTable, parkedTable] = await Promise.all([
    createStoreTable(dynamodb, 'state'),
    createStoreTable(dynamodb, 'parked'),
  ]);
  const config = parseConfig({});
  // What the consumer logs about failures, to say why a batch failed (with the SDK's stack).
  const logged: string[] = [];
  const log = (message: string, ...extra: unknown[]) => {
    const error = (extra[0] as { error?: Error | string } | undefined)?.error;
    const cause = typeof error === 'string' ? '' : String((error?.cause as Error | undefined)?.stack ?? '');
    logged.push(
      `${message}: ${typeof error === 'string' ? error : `${error?.name}: ${error?.message}`} ${cause}`,
    );
  };
  const logger = Object.assign(new Logger({ logLevel: 'CRITICAL' }), { error: log, warn: log });
  let lastStats: unknown;
  const handler = createConsumerHandler({
    dynamodb,
    stateTable,
    parkedTable,
    config,
    logger,
    metrics: new Metrics({ namespace: 'test' }),
    tableKeys: new TableKeyMemory(),
    onBatch: (result) => {
      lastStats = result.stats;
    },
  });
  const state = new StateStore({ client: dynamodb, tableName: stateTable, tombstoneTtlSeconds: 3600 });
  const parked = new ParkedStore({ client: dynamodb, tableName: parkedTable });
  // The check decodes the records again, in the same order, with a key memory of its own.
  const registry = createDefaultRegistry({
    maxRecordBytes: config.processing.maxRecordBytes,
    tableKeys: new TableKeyMemory(),
  });
  const context = createDecodeContext(config.tables);
  let sequence = 10n ** 20n;

  /** Delivers one batch once and throws, naming the record, if any part of the property fails. */
  async function deliver(batch: readonly Buffer[]): Promise<DeliveryReport> {
    const records: KinesisEventRecord[] = batch.map((data) => {
      sequence += 1n;
      return {
        data,
        partitionKey: 'p',
        sequenceNumber: String(sequence),
        shardId: 'shardId-000000000000',
        approximateArrivalTimestamp: 1_700_000_000_000,
      };
    });
    const started = performance.now();
    const response = await handler(
      lambdaEventOf(records) as KinesisStreamEvent,
      lambdaContext('property', 60_000),
    );
    const ms = performance.now() - started;
    if (response.batchItemFailures.length > 0)
      throw new Error(
        `one delivery did not settle the batch: redelivery asked from ${JSON.stringify(response.batchItemFailures)}; the consumer logged: ${logged.splice(0).join('; ')}; stats ${JSON.stringify(lastStats)}; records ${records.map((r) => `${r.sequenceNumber} ${excerptOf(r.data)}`).join(', ')}`,
      );
    logged.length = 0;
    for (const record of records) await checkRecord(record);
    const rss = process.resourceUsage().maxRSS * 1024;
    if (rss > MAX_RSS_BYTES) throw new Error(`the process reached ${rss} bytes of resident memory`);
    return { records: records.length, bytes: batch.reduce((n, b) => n + b.byteLength, 0), ms };
  }

  /** Each change of the record applied (or covered by the state), or parked; an undecodable record parked. */
  async function checkRecord(record: KinesisEventRecord): Promise<void> {
    const where = `record ${record.sequenceNumber} (${excerptOf(record.data)})`;
    for (const outcome of decodeKinesisRecord(registry, record, context).outcomes) {
      const parkedRecord = parkedRecordOf({
        data: '',
        partitionKey: outcome.origin.partitionKey,
        sequenceNumber: outcome.origin.sequenceNumber,
        approximateArrivalTimestamp: 0,
        shardId: outcome.origin.shardId,
        eventSourceArn: '',
        subSequenceNumber: outcome.origin.subSequenceNumber,
      });
      if (outcome.error !== undefined) {
        const found = await parkedReason(badInputKeys(parkedRecord));
        if (found !== outcome.error.code)
          throw new Error(`${where}: not parked as ${outcome.error.code} (found ${found ?? 'nothing'})`);
        continue;
      }
      for (const change of outcome.decoded.changes) {
        const item = await state.get(change.aggregateId);
        if (item?.position !== undefined && item.position >= change.position) continue;
        const keys = changeKeys(change, parkedRecord);
        const waiting = await parked.listAggregate(change.aggregateId);
        if (!waiting.some((p) => p.sk === keys.sk))
          throw new Error(
            `${where}: change of ${change.aggregateId} at ${change.position} neither applied nor parked`,
          );
      }
    }
  }

  /** The reason of the parked item with these keys, if there is one. */
  async function parkedReason(keys: { pk: string; sk: string }): Promise<string | undefined> {
    const out = await dynamodb.send(
      new GetItemCommand({
        TableName: parkedTable,
        Key: { [PARKED_TABLE.partitionKey]: { S: keys.pk }, [PARKED_TABLE.sortKey]: { S: keys.sk } },
        ProjectionExpression: 'reason',
        ConsistentRead: true,
      }),
    );
    return out.Item?.reason?.S;
  }

  return { deliver };
}

function excerptOf(data: Uint8Array): string {
  const text = Buffer.from(data.subarray(0, 120)).toString('utf8');
  return data.byteLength > 120 ? `${JSON.stringify(text)}… (${data.byteLength} bytes)` : JSON.stringify(text);
}

export type { DeliveryReport };
export { hostileBatches, hostileChecker, seedRecords };
