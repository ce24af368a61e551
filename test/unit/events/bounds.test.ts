import { describe, expect, it } from 'vitest';
import {
  createDecodeContext,
  createDefaultRegistry,
  DecimalRangeError,
  decimalFromBase64,
  decimalFromUnscaled,
  MAX_DECIMAL_SCALE,
  MAX_ROW_DEPTH,
  MAX_UNSCALED_BYTES,
  plainDecimal,
  REASON,
  twosComplementToBigInt,
  withScale,
} from '../../../core/events/index.js';
import { bytesOf, debeziumWithSchema, originAt, POSTGRES_SOURCE } from './fixtures.js';

const registry = createDefaultRegistry();
const source = POSTGRES_SOURCE;

function decode(text: string) {
  return registry.decode(bytesOf(text), originAt(1), createDecodeContext());
}

/** A Debezium create whose `d` column nests `levels` levels (the row itself is one more). */
function debeziumNesting(levels: number): string {
  return `{"before": null, "after": {"id": 1, "d": ${'['.repeat(levels)}${']'.repeat(levels)}}, "source": ${JSON.stringify(source)}, "op": "c"}`;
}

/** A DynamoDB insert whose `d` attribute holds `levels` nested lists. */
function dynamodbNesting(levels: number): string {
  let value = '{"S": "x"}';
  for (let i = 0; i < levels; i++) value = `{"L": [${value}]}`;
  return `{"eventName": "INSERT", "tableName": "t", "dynamodb": {"ApproximateCreationDateTime": 1700000000000000, "ApproximateCreationDateTimePrecision": "MICROSECOND", "Keys": {"id": {"S": "k"}}, "NewImage": {"id": {"S": "k"}, "d": ${value}}}}`;
}

const tooDeep = expect.objectContaining({ code: REASON.TOO_DEEP });

describe('Nesting bounds', () => {
  it('parks a row nesting thousands of levels as TOO_DEEP, in every format, without a stack overflow', () => {
    const mongo = `{"before": null, "after": ${JSON.stringify(`{"_id": 1, "d": ${'['.repeat(5000)}${']'.repeat(5000)}}`)}, "source": {"connector": "mongodb", "db": "d", "collection": "c", "ord": 1, "ts_ms": 1}, "op": "c"}`;

    expect(() => decode(debeziumNesting(100_000))).toThrow(tooDeep);
    expect(() => decode(dynamodbNesting(20_000))).toThrow(tooDeep);
    expect(() => decode(mongo)).toThrow(tooDeep);
    expect(() =>
      decode(`{"__table": "t", "id": 1, "d": ${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`),
    ).toThrow(tooDeep);
  });

  it(`applies a row of ${MAX_ROW_DEPTH} levels and parks one of ${MAX_ROW_DEPTH + 1}, as DynamoDB would refuse to store it`, () => {
    expect(decode(debeziumNesting(MAX_ROW_DEPTH - 1)).changes).toHaveLength(1);
    expect(() => decode(debeziumNesting(MAX_ROW_DEPTH))).toThrow(tooDeep);
    // DynamoDB's own JSON takes two levels per list: the bound is on the row, not on the record text.
    expect(decode(dynamodbNesting(MAX_ROW_DEPTH - 1)).changes).toHaveLength(1);
    expect(() => decode(dynamodbNesting(MAX_ROW_DEPTH))).toThrow(
      expect.objectContaining({
        code: REASON.TOO_DEEP,
        message: expect.stringContaining('t#k nests more than 31'),
      }),
    );
  });

  it('bounds a value handed in already parsed, as it would its text', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    const envelope = { before: null, after: { id: 1, d: deep }, source, op: 'c' };

    expect(() => registry.decodeValue(envelope, originAt(1), createDecodeContext())).toThrow(tooDeep);
  });
});

describe('Decimal bounds', () => {
  const withSchema = (after: string, parameters: Record<string, string> = { scale: '2' }) =>
    debeziumWithSchema(
      [
        { field: 'id', type: 'int32' },
        { field: 'price', type: 'bytes', name: 'org.apache.kafka.connect.data.Decimal', parameters },
        { field: 'v', type: 'struct', name: 'io.debezium.data.VariableScaleDecimal' },
      ],
      after,
    );
  const outOfRange = expect.objectContaining({ code: REASON.DECIMAL_OUT_OF_RANGE });

  it('parks a Decimal scale of 300,000,000, a huge VariableScaleDecimal scale and a NUMERIC exponent', () => {
    expect(() => decode(withSchema('{"id": 1, "price": "AQ=="}', { scale: '300000000' }))).toThrow(
      outOfRange,
    );
    expect(() => decode(withSchema('{"id": 1, "v": {"scale": 1000000000, "value": "AQ=="}}'))).toThrow(
      outOfRange,
    );
    expect(() => decode(withSchema('{"id": 1, "price": 1e300000000}'))).toThrow(outOfRange);
    expect(() => decode(withSchema('{"id": 1, "price": 1e-300000000}'))).toThrow(outOfRange);
    expect(() => decode(withSchema('{"id": 1, "price": "AQ=="}', { scale: '-200000' }))).toThrow(
      expect.objectContaining({
        code: REASON.DECIMAL_OUT_OF_RANGE,
        message: expect.stringContaining('column price'),
      }),
    );
  });

  it('parks an unscaled value over 64 KiB before decoding it', () => {
    const bytes = Buffer.alloc(MAX_UNSCALED_BYTES + 3, 0x11).toString('base64');

    expect(() => decode(withSchema(`{"id": 1, "v": {"scale": 2, "value": "${bytes}"}}`))).toThrow(outOfRange);
  });

  it('still renders every decimal within the bounds exactly', () => {
    const [change] = decode(
      withSchema(`{"id": 1, "price": "AQ==", "v": {"scale": ${MAX_DECIMAL_SCALE}, "value": "Ag=="}}`, {
        scale: '5',
      }),
    ).changes;

    expect(change?.after?.price).toBe('0.00001');
    expect(change?.after?.v).toBe(`0.${'0'.repeat(MAX_DECIMAL_SCALE - 1)}2`);
  });

  it('bounds each decimal helper, and reads a 64 KiB unscaled value in linear time', () => {
    expect(() => withScale('1', MAX_DECIMAL_SCALE + 1)).toThrow(DecimalRangeError);
    expect(() => decimalFromUnscaled(1n, -(MAX_DECIMAL_SCALE + 1))).toThrow(DecimalRangeError);
    expect(() => plainDecimal('1e100001')).toThrow(DecimalRangeError);
    expect(() => decimalFromBase64('AQ==', 300_000_000)).toThrow(DecimalRangeError);
    // Many digits need no added zeros: only zeros that expansion would add count.
    expect(plainDecimal(`0.${'7'.repeat(150_000)}`)).toBe(`0.${'7'.repeat(150_000)}`);
    const big = Buffer.alloc(MAX_UNSCALED_BYTES, 0x7f);
    expect(twosComplementToBigInt(big)).toBe(BigInt(`0x${big.toString('hex')}`));
    expect(twosComplementToBigInt(Uint8Array.of(0x80, 0x00))).toBe(-32768n);
  });
});
