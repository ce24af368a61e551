import { describe, expect, it } from 'vitest';
import {
  createDecodeContext,
  createDefaultRegistry,
  DecodeError,
  decodeKinesisRecord,
  kinesisEventRecords,
  REASON,
} from '../../../core/events/index.js';
import { fixtureJson, originAt } from './fixtures.js';

const registry = createDefaultRegistry();
const noConfig = createDecodeContext();

function read(file: string) {
  const entries = kinesisEventRecords(fixtureJson(`lambda-kinesis-events/${file}`));
  if (entries === undefined) throw new Error(`${file} is not a Kinesis event`);
  return entries;
}

function outcomesOf(file: string) {
  return read(file).flatMap((e) => decodeKinesisRecord(registry, e.record!, noConfig).outcomes);
}

function decodeCode(value: unknown): string {
  try {
    registry.decodeValue(value, originAt(1), noConfig);
  } catch (error) {
    if (error instanceof DecodeError) return error.code;
    throw error;
  }
  return 'decoded';
}

describe('Function: kinesisEventRecords', () => {
  it('reads the documented event: lambda-kinesis-events/lambda-kinesis-event-docs-two-records.json', () => {
    const entries = read('lambda-kinesis-event-docs-two-records.json');

    expect(
      entries.map((e) => e.record && { ...e.record, data: Buffer.from(e.record.data).toString() }),
    ).toEqual([
      {
        shardId: 'shardId-000000000006',
        partitionKey: '1',
        sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
        approximateArrivalTimestamp: 1545084650987,
        data: 'Hello, this is a test.',
      },
      {
        shardId: 'shardId-000000000006',
        partitionKey: '1',
        sequenceNumber: '49590338271490256608559692540925702759324208523137515618',
        approximateArrivalTimestamp: 1545084711166,
        data: 'This is only a test.',
      },
    ]);
  });

  it('reads a tab-indented event without trailing newline: lambda-kinesis-events/lambda-kinesis-event-aws-lambda-go.json', () => {
    const entries = read('lambda-kinesis-event-aws-lambda-go.json');

    expect(entries.map((e) => [e.record?.partitionKey, Buffer.from(e.record!.data).toString()])).toEqual([
      ['s1', 'Hello World'],
      ['s1', 'Hello World'],
    ]);
    expect(entries[1]?.record?.approximateArrivalTimestamp).toBe(1480841523477);
  });

  it('reads the records of tumbling-window events and ignores their window state', () => {
    for (const file of [
      'lambda-kinesis-time-window-event-docs.json',
      'lambda-kinesis-time-window-event-aws-lambda-go.json',
    ]) {
      const entries = read(file);

      expect(entries).toHaveLength(1);
      expect(entries[0]?.record).toMatchObject({
        shardId: 'shardId-000000000006',
        approximateArrivalTimestamp: 1607497475000,
      });
    }
  });

  it('reports the SAM template placeholder data as NOT_BASE64: lambda-kinesis-events/lambda-kinesis-event-sam-cli-template-with-placeholders.json', () => {
    const [entry] = read('lambda-kinesis-event-sam-cli-template-with-placeholders.json');

    expect(entry?.error?.code).toBe(REASON.NOT_BASE64);
    expect(entry?.error?.message).toContain('{{{data}}}');
  });

  it('does not take responses and failure records for events', () => {
    for (const file of [
      'lambda-kinesis-batch-item-failures-response-syntax-docs.json',
      'lambda-kinesis-onfailure-destination-invocation-record-docs.json',
      'lambda-kinesis-time-window-response-docs.json',
    ])
      expect(kinesisEventRecords(fixtureJson(`lambda-kinesis-events/${file}`))).toBeUndefined();
  });
});

describe('Decoding the records of the Lambda samples', () => {
  it('parks plain-text data as NOT_JSON, quoting its start', () => {
    const outcomes = [
      ...outcomesOf('lambda-kinesis-event-docs-two-records.json'),
      ...outcomesOf('lambda-kinesis-event-aws-lambda-go.json'),
      ...outcomesOf('lambda-kinesis-time-window-event-docs.json'),
      ...outcomesOf('lambda-kinesis-time-window-event-aws-lambda-go.json'),
    ];

    expect(outcomes.map((o) => o.error?.code)).toEqual(Array(6).fill(REASON.NOT_JSON));
    expect(outcomes[0]?.error?.message).toContain('"Hello, this is a test."');
  });

  it('parks a JSON payload of no known format as UNKNOWN_FORMAT: lambda-kinesis-events/lambda-kinesis-event-one-record-json-payload-powertools-python.json', () => {
    const [outcome] = outcomesOf('lambda-kinesis-event-one-record-json-payload-powertools-python.json');

    expect(outcome?.error?.code).toBe(REASON.UNKNOWN_FORMAT);
    expect(outcome?.error?.message).toContain('Received an object with keys message, username');
    expect(outcome?.error?.message).toContain('a Debezium envelope');
  });

  it('parks the response and failure documents themselves as UNKNOWN_FORMAT', () => {
    expect(
      decodeCode(
        fixtureJson('lambda-kinesis-events/lambda-kinesis-batch-item-failures-response-syntax-docs.json'),
      ),
    ).toBe(REASON.UNKNOWN_FORMAT);
    expect(
      decodeCode(
        fixtureJson('lambda-kinesis-events/lambda-kinesis-onfailure-destination-invocation-record-docs.json'),
      ),
    ).toBe(REASON.UNKNOWN_FORMAT);
    expect(
      decodeCode(fixtureJson('lambda-kinesis-events/lambda-kinesis-time-window-response-docs.json')),
    ).toBe(REASON.UNKNOWN_FORMAT);
  });
});
