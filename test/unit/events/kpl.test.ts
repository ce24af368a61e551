import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  createDecodeContext,
  createDefaultRegistry,
  deaggregate,
  decodeKinesisRecord,
  effectiveHashKey,
  isKplAggregate,
  type KinesisRecordInput,
  kinesisEventRecords,
  REASON,
} from '../../../core/events/index.js';
import { codeOf, fixtureJson } from './fixtures.js';

interface Expected {
  expected_record_count: number;
  expected_user_records: {
    partitionKey: string;
    explicitHashKey?: string;
    data: string;
    recordId?: string;
  }[];
}

const text = (data: Uint8Array) => Buffer.from(data).toString('utf8');
const MAX_HASH_KEY = ((1n << 128n) - 1n).toString();

/** The Kinesis record of a fixture in one of the Lambda or Kinesis Analytics shapes. */
function recordOf(fixture: string): KinesisRecordInput & { shardId: string } {
  const [entry] = kinesisEventRecords(fixtureJson(`kpl-aggregation/${fixture}`)) ?? [];
  if (entry?.record === undefined) throw new Error(`${fixture} holds no readable Kinesis record`);
  return entry.record;
}

/** A minimal KPL encoder, independent of the decoder under test, for corrupt and edge-case inputs. */
function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
function field(number: number, payload: Uint8Array): number[] {
  return [...varint(number * 8 + 2), ...varint(payload.length), ...payload];
}
function encodeAggregate(
  partitionKeys: string[],
  explicitHashKeys: string[],
  records: { pk: number; ehk?: number; data: string }[],
): { body: Uint8Array; record: Uint8Array } {
  const utf8 = (s: string) => new TextEncoder().encode(s);
  const bytes: number[] = [];
  for (const pk of partitionKeys) bytes.push(...field(1, utf8(pk)));
  for (const ehk of explicitHashKeys) bytes.push(...field(2, utf8(ehk)));
  for (const r of records) {
    const sub = [
      8,
      ...varint(r.pk),
      ...(r.ehk === undefined ? [] : [16, ...varint(r.ehk)]),
      ...field(3, utf8(r.data)),
    ];
    bytes.push(...field(3, Uint8Array.from(sub)));
  }
  const body = Uint8Array.from(bytes);
  return { body, record: withTrailer(body) };
}
function withTrailer(body: Uint8Array): Uint8Array {
  const digest = createHash('md5').update(body).digest();
  return Uint8Array.from([0xf3, 0x89, 0x9a, 0xc2, ...body, ...digest]);
}
function input(data: Uint8Array): KinesisRecordInput {
  return {
    data,
    partitionKey: 'outer',
    sequenceNumber: '49545115243490985018280067714973144582180062593244200961',
  };
}

describe('Function: deaggregate (the awslabs/kinesis-aggregation test vectors)', () => {
  for (const [name, withEhk] of [
    ['kpl-aggregated-lambda-kinesis-record-with-explicit-hash-keys', true],
    ['kpl-aggregated-lambda-kinesis-record-no-explicit-hash-keys', false],
    ['kpl-aggregated-kinesis-analytics-preprocessor-record', true],
  ] as const) {
    it(`matches kpl-aggregation/${name}.expected.json`, () => {
      const record = recordOf(`${name}.input.json`);
      const expected = fixtureJson(`kpl-aggregation/${name}.expected.json`) as Expected;
      const result = deaggregate(record);

      expect(result.aggregated).toBe(true);
      expect(result.records).toHaveLength(expected.expected_record_count);
      expect(
        result.records.map((r) => ({
          partitionKey: r.partitionKey,
          ...(withEhk ? { explicitHashKey: r.explicitHashKey } : {}),
          data: text(r.data),
        })),
      ).toEqual(
        expected.expected_user_records.map(({ partitionKey, explicitHashKey, data }) => ({
          partitionKey,
          ...(withEhk ? { explicitHashKey } : {}),
          data,
        })),
      );
      if (!withEhk) expect(result.records.every((r) => r.explicitHashKey === undefined)).toBe(true);
      // every sub-record keeps the Kinesis sequence number and gets its index as sub-sequence number
      expect(result.records.map((r) => r.subSequenceNumber)).toEqual(
        expected.expected_user_records.map((_, i) => i),
      );
      expect(new Set(result.records.map((r) => r.sequenceNumber))).toEqual(new Set([record.sequenceNumber]));
      for (const e of expected.expected_user_records)
        if (e.recordId) expect(e.recordId).toBe(record.sequenceNumber);
    });
  }

  it('passes a non-aggregated record through: kpl-aggregation/kpl-non-aggregated-kinesis-analytics-preprocessor-record.expected.json', () => {
    const record = recordOf('kpl-non-aggregated-kinesis-analytics-preprocessor-record.input.json');
    const expected = fixtureJson(
      'kpl-aggregation/kpl-non-aggregated-kinesis-analytics-preprocessor-record.expected.json',
    ) as Expected;
    const result = deaggregate(record);

    expect(result.aggregated).toBe(false);
    expect(
      result.records.map((r) => ({
        partitionKey: r.partitionKey,
        data: text(r.data),
        recordId: r.sequenceNumber,
      })),
    ).toEqual(expected.expected_user_records);
    expect(result.records[0]?.subSequenceNumber).toBe(0);
    expect(result.records[0]?.data).toBe(record.data); // the same bytes, not a copy
  });

  it('unpacks 100 records, as the independent aws-kinesis-agg does: kpl-aggregation/kpl-aggregated-lambda-kinesis-event-java-sample-no-expected.json', () => {
    const event = fixtureJson(
      'kpl-aggregation/kpl-aggregated-lambda-kinesis-event-java-sample-no-expected.json',
    ) as {
      Records: { kinesis: unknown }[];
    };
    const agg = createRequire(import.meta.url)('aws-kinesis-agg') as {
      deaggregateSync: (
        r: unknown,
        checksums: boolean,
        done: (e: Error | null, records?: { partitionKey: string; data: string }[]) => void,
      ) => void;
    };
    let reference: { partitionKey: string; data: string }[] = [];
    agg.deaggregateSync(event.Records[0]!.kinesis, true, (error, records) => {
      if (error) throw error;
      reference = records ?? [];
    });
    const ours = deaggregate(
      recordOf('kpl-aggregated-lambda-kinesis-event-java-sample-no-expected.json'),
    ).records;

    expect(ours).toHaveLength(100);
    expect(ours.map((r) => [r.partitionKey, Buffer.from(r.data).toString('base64')])).toEqual(
      reference.map((r) => [r.partitionKey, r.data]),
    );
    expect(ours.slice(0, 2).map((r) => text(r.data))).toEqual([
      'abcdefghijklmnopqrstuvwxyz',
      'zyxwvutsrqponmlkjihgfedcba',
    ]);
  });

  it('unpacks the SAM Kinesis Analytics template: kpl-aggregation/kinesis-analytics-kpl-event-sam-cli-template-with-placeholders.json', () => {
    const entries = kinesisEventRecords(
      fixtureJson('kpl-aggregation/kinesis-analytics-kpl-event-sam-cli-template-with-placeholders.json'),
    )!;
    const [aggregated, plain] = entries.map((e) => deaggregate(e.record!));

    // (cross-checked with aws-kinesis-agg's deaggregateSync)
    expect(
      aggregated?.records.map((r) => [r.partitionKey, r.explicitHashKey, text(r.data).slice(0, 5)]),
    ).toEqual([
      ['1505169645250', '8609709655146403552205292824963571537', '40,aa'],
      ['1505169645250', '79513714133811955591130583141298653698', '41,aa'],
    ]);
    expect(plain?.aggregated).toBe(false);
    expect(entries[1]?.record?.shardId).toBe('shardId-000000000002');
  });
});

describe('Function: deaggregate (shard hash range)', () => {
  const record = recordOf('kpl-aggregated-lambda-kinesis-record-with-explicit-hash-keys.input.json');

  it('keeps an aggregate whose sub-records all fall in the range', () => {
    const result = deaggregate(record, {
      hashKeyRange: { startingHashKey: '0', endingHashKey: MAX_HASH_KEY },
    });

    expect(result.records).toHaveLength(4);
    expect(result.droppedOutsideHashRange).toBe(0);
  });

  it('drops the whole aggregate, as the KCL does, when one sub-record falls outside, and counts it', () => {
    // The fourth sub-record's explicit hash key is 339606600942967391854603552402021847292.
    const result = deaggregate(record, {
      hashKeyRange: { startingHashKey: '0', endingHashKey: '300000000000000000000000000000000000000' },
    });

    expect(result.records).toEqual([]);
    expect(result.droppedOutsideHashRange).toBe(4);
  });

  it('hashes the partition key with MD5 when there is no explicit hash key', () => {
    const noEhk = recordOf('kpl-aggregated-lambda-kinesis-record-no-explicit-hash-keys.input.json');
    const hashes = deaggregate(noEhk).records.map((r) => effectiveHashKey(r.partitionKey, r.explicitHashKey));
    const first = BigInt(
      `0x${createHash('md5').update('78feb12a-dba0-45ca-a91e-bb1f2f1819b4').digest('hex')}`,
    );
    const lowest = [...hashes].sort((a, b) => (a < b ? -1 : 1))[0]!;

    expect(hashes[0]).toBe(first);
    const result = deaggregate(noEhk, {
      hashKeyRange: { startingHashKey: (lowest + 1n).toString(), endingHashKey: MAX_HASH_KEY },
    });
    expect(result.droppedOutsideHashRange).toBe(8);
  });
});

describe('Function: deaggregate (corrupt input)', () => {
  const { body, record } = encodeAggregate(
    ['a', 'b'],
    ['42'],
    [
      { pk: 0, data: '{"x":1}' },
      { pk: 1, ehk: 0, data: '{"x":2}' },
    ],
  );

  it('reads what the test encoder writes', () => {
    const result = deaggregate(input(record));

    expect(isKplAggregate(record)).toBe(true);
    expect(result.records.map((r) => [r.partitionKey, r.explicitHashKey, text(r.data)])).toEqual([
      ['a', undefined, '{"x":1}'],
      ['b', '42', '{"x":2}'],
    ]);
  });

  it('passes data with a wrong magic through as a plain record', () => {
    const badMagic = Uint8Array.from(record);
    badMagic[0] = 0xf2;

    expect(deaggregate(input(badMagic))).toMatchObject({ aggregated: false, records: [{ data: badMagic }] });
  });

  it('throws KPL_CORRUPT for a bad checksum, a truncated body, a bad index and a short record', () => {
    const badChecksum = Uint8Array.from(record);
    badChecksum[6] = (badChecksum[6]! + 1) % 256;
    const truncated = withTrailer(body.subarray(0, body.length - 3)); // checksum right, protobuf cut short
    const badIndex = encodeAggregate(['a'], [], [{ pk: 3, data: 'x' }]).record;

    expect(codeOf(() => deaggregate(input(badChecksum)))).toBe(REASON.KPL_CORRUPT);
    expect(codeOf(() => deaggregate(input(truncated)))).toBe(REASON.KPL_CORRUPT);
    expect(codeOf(() => deaggregate(input(badIndex)))).toBe(REASON.KPL_CORRUPT);
    expect(codeOf(() => deaggregate(input(Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2, 1, 2))))).toBe(
      REASON.KPL_CORRUPT,
    );
  });

  it('says what is wrong and that the record is parked', () => {
    const badChecksum = Uint8Array.from(record);
    badChecksum[badChecksum.length - 1] = badChecksum.at(-1)! ^ 0xff;

    expect(() => deaggregate(input(badChecksum))).toThrow(/MD5 trailer does not match.*parked/);
  });
});

describe('Function: decodeKinesisRecord', () => {
  it('decodes each sub-record with its own sub-sequence number and parks only the bad one', () => {
    const registry = createDefaultRegistry();
    const dms = (id: number | string) =>
      JSON.stringify({
        data: { id },
        metadata: {
          'record-type': 'data',
          operation: 'insert',
          'schema-name': 's',
          'table-name': 't',
          timestamp: '2024-07-29T00:58:17.983670Z',
        },
      });
    const { record } = encodeAggregate(
      ['k'],
      [],
      [
        { pk: 0, data: dms(1) },
        { pk: 0, data: '{truncated' },
        { pk: 0, data: dms(3) },
      ],
    );
    const result = decodeKinesisRecord(
      registry,
      { ...input(record), shardId: 'shardId-000000000001', approximateArrivalTimestamp: 5 },
      createDecodeContext(),
    );

    expect(result.outcomes.map((o) => o.origin.subSequenceNumber)).toEqual([0, 1, 2]);
    expect(result.outcomes.map((o) => o.error?.code ?? o.decoded?.changes[0]?.aggregateId)).toEqual([
      's.t#1',
      REASON.NOT_JSON,
      's.t#3',
    ]);
    // Positions of sub-records of one Kinesis record differ by their sub-sequence number.
    const positions = result.outcomes.flatMap((o) => o.decoded?.changes.map((c) => c.position) ?? []);
    expect(positions[0]!.endsWith(':0000000000')).toBe(true);
    expect(positions[1]!.endsWith(':0000000002')).toBe(true);
  });

  it('returns corrupt KPL as one outcome instead of throwing', () => {
    const registry = createDefaultRegistry();
    const broken = Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2, ...new Uint8Array(20));
    const result = decodeKinesisRecord(
      registry,
      { ...input(broken), shardId: 's', approximateArrivalTimestamp: 0 },
      createDecodeContext(),
    );

    expect(result.outcomes).toHaveLength(1);
    expect(result.outcomes[0]?.error?.code).toBe(REASON.KPL_CORRUPT);
  });
});
