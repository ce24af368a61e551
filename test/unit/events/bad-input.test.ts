import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createDecodeContext,
  createDefaultRegistry,
  decodeKinesisRecord,
  REASON,
  type ReasonCode,
} from '../../../core/events/index.js';
import { bytesOf, fixtureJson, fixtureLines } from './fixtures.js';

const debeziumCreate = fixtureJson('debezium/debezium-mysql-create-without-schema.json') as Record<
  string,
  unknown
>;
const dmsInsert = fixtureJson(
  'aws-dms/dms-docs-data-insert-all-metadata-primary-key-partition.json',
) as Record<string, unknown>;
const [ddbInsert] = fixtureLines(
  'dynamodb-kinesis/ddb-kds-insert-modify-remove-composite-key-microsecond-lorrystream.jsonl',
) as Record<string, unknown>[];
const source = debeziumCreate.source as Record<string, unknown>;
const ddb = ddbInsert!.dynamodb as Record<string, unknown>;
const dmsMetadata = dmsInsert.metadata as Record<string, unknown>;

function kpl(body: Uint8Array, digest: Uint8Array = createHash('md5').update(body).digest()): Uint8Array {
  return Uint8Array.from([0xf3, 0x89, 0x9a, 0xc2, ...body, ...digest]);
}
const oneSubRecord = Uint8Array.from([0x0a, 0x01, 0x61, 0x1a, 0x05, 0x08, 0x00, 0x1a, 0x01, 0x7b]);

/** Each bad input and the reason code it must be parked with. */
const CORPUS: readonly (readonly [string, Uint8Array, ReasonCode])[] = [
  ['truncated JSON', bytesOf(JSON.stringify(debeziumCreate).slice(0, 120)), REASON.NOT_JSON],
  ['invalid UTF-8', Uint8Array.of(0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d), REASON.NOT_JSON],
  ['plain text', bytesOf('INSERT INTO customers VALUES (1)'), REASON.NOT_JSON],
  [
    'a JSON object of no known format',
    bytesOf({ message: 'test message', username: 'test' }),
    REASON.UNKNOWN_FORMAT,
  ],
  ['a JSON array', bytesOf([debeziumCreate]), REASON.UNKNOWN_FORMAT],
  ['a JSON number', bytesOf('42'), REASON.UNKNOWN_FORMAT],
  ['Debezium "after" as a string', bytesOf({ ...debeziumCreate, after: 'id=1004' }), REASON.INVALID_ENVELOPE],
  ['Debezium unknown op', bytesOf({ ...debeziumCreate, op: 'x' }), REASON.INVALID_ENVELOPE],
  [
    'Debezium table as a number',
    bytesOf({ ...debeziumCreate, source: { ...source, table: 7 } }),
    REASON.INVALID_ENVELOPE,
  ],
  ['Debezium create without after', bytesOf({ ...debeziumCreate, after: null }), REASON.INVALID_ENVELOPE],
  ['Debezium row without key', bytesOf({ ...debeziumCreate, after: { name: 'no key' } }), REASON.MISSING_KEY],
  [
    'Debezium binlog position as text',
    bytesOf({ ...debeziumCreate, source: { ...source, pos: 'x' } }),
    REASON.MISSING_POSITION,
  ],
  ['Debezium truncate', bytesOf({ ...debeziumCreate, op: 't', after: null }), REASON.TRUNCATE],
  ['Debezium message', bytesOf({ ...debeziumCreate, op: 'm', after: null }), REASON.LOGICAL_MESSAGE],
  [
    'DMS unknown operation',
    bytesOf({ ...dmsInsert, metadata: { ...dmsMetadata, operation: 'merge' } }),
    REASON.INVALID_ENVELOPE,
  ],
  [
    'DMS unknown record-type',
    bytesOf({ ...dmsInsert, metadata: { ...dmsMetadata, 'record-type': 'x' } }),
    REASON.INVALID_ENVELOPE,
  ],
  ['DMS data as a list', bytesOf({ ...dmsInsert, data: [1, 2] }), REASON.INVALID_ENVELOPE],
  [
    'DMS without table-name',
    bytesOf({ ...dmsInsert, metadata: { ...dmsMetadata, 'table-name': '' } }),
    REASON.MISSING_TABLE,
  ],
  ['DMS row without key', bytesOf({ ...dmsInsert, data: { fname: 'x' } }), REASON.MISSING_KEY],
  [
    'DynamoDB number as words',
    bytesOf({ ...ddbInsert, dynamodb: { ...ddb, NewImage: { t: { N: 'ten' } } } }),
    REASON.INVALID_ENVELOPE,
  ],
  [
    'DynamoDB attribute with two types',
    bytesOf({ ...ddbInsert, dynamodb: { ...ddb, NewImage: { t: { S: 'a', N: '1' } } } }),
    REASON.INVALID_ENVELOPE,
  ],
  ['DynamoDB unknown eventName', bytesOf({ ...ddbInsert, eventName: 'UPSERT' }), REASON.INVALID_ENVELOPE],
  ['DynamoDB without Keys', bytesOf({ ...ddbInsert, dynamodb: { ...ddb, Keys: {} } }), REASON.MISSING_KEY],
  [
    'DynamoDB time as text',
    bytesOf({ ...ddbInsert, dynamodb: { ...ddb, ApproximateCreationDateTime: 'now' } }),
    REASON.MISSING_POSITION,
  ],
  ['unwrapped row without table', bytesOf({ id: 1, __op: 'c' }), REASON.MISSING_TABLE],
  ['oversized record', new Uint8Array(1_048_577).fill(0x20), REASON.TOO_LARGE],
  ['KPL with a bad checksum', kpl(oneSubRecord, new Uint8Array(16)), REASON.KPL_CORRUPT],
  ['KPL with a truncated protobuf', kpl(oneSubRecord.subarray(0, 8)), REASON.KPL_CORRUPT],
  ['KPL shorter than its trailer', Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2, 0x0a), REASON.KPL_CORRUPT],
  [
    'KPL with a bad magic (read as plain data)',
    Uint8Array.from([0xf3, 0x89, 0x9a, 0xc3, ...oneSubRecord]),
    REASON.NOT_JSON,
  ],
];

describe('Bad input corpus', () => {
  it('holds a well-formed KPL record for the corrupt variants to start from', () => {
    const registry = createDefaultRegistry({ format: 'dms' });
    const result = decodeKinesisRecord(
      registry,
      {
        data: kpl(oneSubRecord),
        partitionKey: 'a',
        sequenceNumber: '1',
        shardId: 's',
        approximateArrivalTimestamp: 0,
      },
      createDecodeContext(),
    );

    // The sub-record's data is "{": it de-aggregates, then fails as JSON.
    expect(result.outcomes.map((o) => o.error?.code)).toEqual([REASON.NOT_JSON]);
  });

  for (const [name, data, code] of CORPUS)
    it(`parks ${name} as ${code}`, () => {
      const registry = createDefaultRegistry();
      const result = decodeKinesisRecord(
        registry,
        {
          data,
          partitionKey: 'pk',
          sequenceNumber: '7',
          shardId: 'shardId-000000000000',
          approximateArrivalTimestamp: 0,
        },
        createDecodeContext(),
      );

      expect(result.outcomes.map((o) => o.error?.code)).toEqual([code]);
      expect(result.outcomes[0]?.error?.message.length).toBeGreaterThan(20);
    });

  it('never stops a batch: every bad record of one batch gets its own outcome', () => {
    const registry = createDefaultRegistry();
    const context = createDecodeContext();
    const good = bytesOf(debeziumCreate);
    const batch = [...CORPUS.map(([, data]) => data), good];

    const results = batch.map((data, i) =>
      decodeKinesisRecord(
        registry,
        {
          data,
          partitionKey: 'pk',
          sequenceNumber: String(100 + i),
          shardId: 's',
          approximateArrivalTimestamp: 0,
        },
        context,
      ),
    );

    expect(results.map((r) => r.outcomes[0]?.error?.code)).toEqual([
      ...CORPUS.map(([, , code]) => code),
      undefined,
    ]);
    expect(results.at(-1)?.outcomes[0]?.decoded?.changes[0]?.aggregateId).toBe('inventory.customers#1004');
  });

  it('honours a smaller configured maximum', () => {
    const registry = createDefaultRegistry({ maxRecordBytes: 100 });
    const result = decodeKinesisRecord(
      registry,
      {
        data: bytesOf(debeziumCreate),
        partitionKey: 'pk',
        sequenceNumber: '1',
        shardId: 's',
        approximateArrivalTimestamp: 0,
      },
      createDecodeContext(),
    );

    expect(result.outcomes[0]?.error?.code).toBe(REASON.TOO_LARGE);
    expect(result.outcomes[0]?.error?.message).toMatch(/above the maximum of 100/);
  });
});
