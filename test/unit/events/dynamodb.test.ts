import { describe, expect, it } from 'vitest';
import {
  type ChangeEvent,
  comparePositions,
  createDecodeContext,
  createDefaultRegistry,
  type DecodeError,
  decodeKinesisRecord,
  kinesisEventRecords,
  REASON,
  unmarshallImage,
} from '../../../core/events/index.js';
import { codeOf, fixtureJson, fixtureLines, originAt } from './fixtures.js';

const registry = createDefaultRegistry();
const noConfig = createDecodeContext();

function only(value: unknown, sequenceNumber: string | number = 1): ChangeEvent {
  const { changes } = registry.decodeValue(value, originAt(sequenceNumber), noConfig);
  expect(changes).toHaveLength(1);
  return changes[0]!;
}

/** `dd:<µs>:` prefix of a DynamoDB position. */
const micros = (position: string) => position.slice(0, 24);

describe('Decoder: dynamodb (Kinesis Data Streams for DynamoDB)', () => {
  const lorry = 'dynamodb-kinesis/ddb-kds-insert-modify-remove-composite-key-microsecond-lorrystream.jsonl';

  it(`reads INSERT, MODIFY and REMOVE with a composite key and microseconds: ${lorry}`, () => {
    const [insert, modify, remove] = fixtureLines(lorry).map((r, i) => only(r, 100 + i));

    expect(insert).toEqual({
      format: 'dynamodb',
      table: 'table-testdrive',
      aggregateId: 'table-testdrive#qux|2024-07-12T01:17:42',
      op: 'create',
      // the region and table of the stream: each replica of a global table is its own source
      source: 'dynamodb:us-east-1/table-testdrive',
      // Microsecond precision: the time alone is the position.
      position: 'dd:00001720740233012995',
      before: null,
      after: { humidity: 84.84, temperature: 42.42, device: 'qux', timestamp: '2024-07-12T01:17:42' },
      ts: 1720740233012,
      txId: null,
    });
    expect(modify).toMatchObject({
      op: 'update',
      aggregateId: 'table-testdrive#foo|2024-07-12T01:17:42',
      before: { temperature: 42.42 },
      after: { temperature: 55.66 },
    });
    expect(remove).toMatchObject({ op: 'delete', after: null, before: { temperature: 55.66 } });
    expect(remove?.ttlDelete).toBeUndefined(); // userIdentity null: a user delete
    expect(comparePositions(modify!.position, remove!.position)).toBeLessThan(0);
  });

  it('orders by creation time even when Kinesis delivers out of order, and skips a late duplicate at microsecond precision', () => {
    const [insert, modify, remove] = fixtureLines(lorry);
    const lateModify = only(modify, 900); // redelivered after the REMOVE
    const removeFirst = only(remove, 500);
    const duplicate = only(modify, 901);
    const lateInsert = only(insert, 902); // a late duplicate of an older change

    expect(comparePositions(lateModify.position, removeFirst.position)).toBeLessThan(0);
    // Equal microseconds are the same change: duplicates tie whatever their sequence numbers.
    expect(duplicate.position).toBe(lateModify.position);
    expect(lateModify.position).toBe('dd:00001720742302233719');
    expect(comparePositions(lateInsert.position, lateModify.position)).toBeLessThan(0);
  });

  it('breaks ties of a millisecond by the sequence number, which orders one item in its shard', () => {
    const [, modify] = fixtureLines(lorry) as Record<string, unknown>[];
    const dynamodb = modify!.dynamodb as Record<string, unknown>;
    const millis = {
      ...modify,
      dynamodb: {
        ...dynamodb,
        ApproximateCreationDateTime: 1720742302233,
        ApproximateCreationDateTimePrecision: 'MILLISECOND',
      },
    };
    const first = only(millis, 41);
    const second = only(millis, 42);

    expect(micros(first.position)).toBe('dd:00001720742302233000:');
    expect(comparePositions(first.position, second.position)).toBeLessThan(0);
  });

  it('marks a TTL deletion (userIdentity type Service, principal dynamodb.amazonaws.com)', () => {
    const [, , remove] = fixtureLines(lorry) as Record<string, unknown>[];
    const expired = { ...remove, userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } };

    expect(only(expired)).toMatchObject({ op: 'delete', ttlDelete: true });
  });

  it('reads milliseconds and the same time for two items: dynamodb-kinesis/lambda-kinesis-event-ddb-kds-insert-powertools-ts.json', () => {
    const entries = kinesisEventRecords(
      fixtureJson('dynamodb-kinesis/lambda-kinesis-event-ddb-kds-insert-powertools-ts.json'),
    )!;
    const changes = entries.flatMap(
      (e) => decodeKinesisRecord(registry, e.record!, noConfig).outcomes[0]!.decoded!.changes,
    );

    expect(entries.map((e) => e.record?.partitionKey)).toEqual([
      '859F7C064A4818874FA67ABEC9BF2AF1',
      '6037E47B707479B67E577C989D96E9F8',
    ]);
    // The opaque partition key plays no part in the aggregate id.
    expect(changes.map((c) => c.aggregateId)).toEqual([
      'PowertoolsEventsStack-DynamoDBTable59784FC0-8NKAMTERTAXY#record-1qit2y819gi',
      'PowertoolsEventsStack-DynamoDBTable59784FC0-8NKAMTERTAXY#record-fvxn3q4q5jw',
    ]);
    expect(changes.map((c) => micros(c.position))).toEqual(Array(2).fill('dd:00001731924555370000:'));
    expect(changes.map((c) => c.ts)).toEqual([1731924555370, 1731924555370]);
  });

  it('decodes the derived data the same: dynamodb-kinesis/lambda-kinesis-event-ddb-kds-insert-powertools-ts.decoded-data.jsonl', () => {
    const [first] = fixtureLines(
      'dynamodb-kinesis/lambda-kinesis-event-ddb-kds-insert-powertools-ts.decoded-data.jsonl',
    );

    expect(only(first)).toMatchObject({
      aggregateId: 'PowertoolsEventsStack-DynamoDBTable59784FC0-8NKAMTERTAXY#record-1qit2y819gi',
      after: { id: 'record-1qit2y819gi', data: 'data-x6aq7ckdpgk' },
    });
  });

  it('reads multi-byte UTF-8 from base64: dynamodb-kinesis/lambda-kinesis-event-ddb-kds-insert-korean-utf8-businfo.json', () => {
    const [entry] = kinesisEventRecords(
      fixtureJson('dynamodb-kinesis/lambda-kinesis-event-ddb-kds-insert-korean-utf8-businfo.json'),
    )!;
    const [outcome] = decodeKinesisRecord(registry, entry!.record!, noConfig).outcomes;
    const change = outcome!.decoded!.changes[0]!;

    expect(change.after?.PlateNo).toBe('경기75자8505');
    // Keys RouteId and Timestamp, in name order whatever order the JSON has them in
    expect(change.aggregateId).toBe('dynamodb-businfo#227000019|1649931248');
    expect(outcome!.origin).toMatchObject({
      shardId: 'shardId-000000000001',
      approximateArrivalTimestamp: 1649931249337,
    });
  });

  it("matches the author's decoding: dynamodb-kinesis/ddb-kds-insert-korean-utf8-businfo-decoded.json", () => {
    const change = only(fixtureJson('dynamodb-kinesis/ddb-kds-insert-korean-utf8-businfo-decoded.json'));

    expect(change).toMatchObject({
      table: 'dynamodb-businfo',
      op: 'create',
      position: `dd:00001649931248740000:${'1'.padStart(129, '0')}:0000000000`,
      after: {
        RemainSeatCnt: '37',
        Timestamp: '1649931248',
        PlateNo: '경기75자8505',
        RouteId: '227000019',
        PredictTime: '7',
      },
    });
  });

  it('reads the Python-serialized event: dynamodb-kinesis/lambda-kinesis-event-ddb-kds-insert-lorrystream.json', () => {
    const [entry] = kinesisEventRecords(
      fixtureJson('dynamodb-kinesis/lambda-kinesis-event-ddb-kds-insert-lorrystream.json'),
    )!;
    const change = decodeKinesisRecord(registry, entry!.record!, noConfig).outcomes[0]!.decoded!.changes[0]!;

    expect(change).toMatchObject({
      table: 'foo',
      aggregateId: 'foo#foo|2024-07-12T01:17:42',
      position: 'dd:00001720740233012995',
    });
  });

  it('parks a record without ApproximateCreationDateTime or Keys', () => {
    const [insert] = fixtureLines(lorry) as { dynamodb: Record<string, unknown> }[];
    const { ApproximateCreationDateTime: _, ...noTime } = insert!.dynamodb;
    const { Keys: __, ...noKeys } = insert!.dynamodb;

    expect(codeOf(() => only({ ...insert, dynamodb: noTime }))).toBe(REASON.MISSING_POSITION);
    expect(codeOf(() => only({ ...insert, dynamodb: noKeys }))).toBe(REASON.MISSING_KEY);
  });
});

describe('Function: unmarshallImage', () => {
  it('reads every attribute type', () => {
    expect(
      unmarshallImage({
        s: { S: 'text' },
        n: { N: '-12.5' },
        big: { N: '12345678901234567890.123' },
        b: { B: 'AQID' },
        ss: { SS: ['a', 'b'] },
        ns: { NS: ['1', '99999999999999999999'] },
        bs: { BS: ['AQ==', 'Ag=='] },
        m: { M: { nested: { L: [{ S: 'x' }, { BOOL: false }, { NULL: true }] } } },
        yes: { BOOL: true },
        nothing: { NULL: true },
      }),
    ).toEqual({
      s: 'text',
      n: -12.5,
      big: '12345678901234567890.123',
      b: 'AQID',
      ss: ['a', 'b'],
      ns: [1, '99999999999999999999'],
      bs: ['AQ==', 'Ag=='],
      m: { nested: ['x', false, null] },
      yes: true,
      nothing: null,
    });
  });

  it('names the attribute path of a malformed value', () => {
    try {
      unmarshallImage({ m: { M: { price: { N: 'twelve' } } } }, 'NewImage.');
      expect.unreachable('a bad number must not unmarshall');
    } catch (error) {
      expect((error as DecodeError).code).toBe(REASON.INVALID_ENVELOPE);
      expect((error as DecodeError).message).toContain('NewImage.m.price');
    }
  });
});
