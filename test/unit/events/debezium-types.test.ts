import { describe, expect, it } from 'vitest';
import {
  applyRowSchema,
  createDecodeContext,
  createDefaultRegistry,
  DecodeError,
  decimalFromBase64,
  decimalFromUnscaled,
  plainDecimal,
  REASON,
  renderTemporal,
  rowSchemaOf,
  twosComplementToBigInt,
  withScale,
} from '../../../core/events/index.js';
import { fixtureJson, fixtureLines, originAt } from './fixtures.js';

const registry = createDefaultRegistry();

describe('Function: decimalFromBase64', () => {
  it('reads big-endian two-complement bytes with the schema scale', () => {
    expect(decimalFromBase64('BNI=', 0)).toBe('1234');
    expect(decimalFromBase64('AN3h', 2)).toBe('568.01');
    expect(decimalFromBase64('W6A=', 6)).toBe('0.023456');
    expect(decimalFromBase64('AA==', 2)).toBe('0.00');
  });

  it('reads negative values', () => {
    expect(twosComplementToBigInt(Uint8Array.of(0xff))).toBe(-1n);
    expect(twosComplementToBigInt(Uint8Array.of(0xcf, 0xc7))).toBe(-12345n);
    expect(decimalFromUnscaled(-12345n, 2)).toBe('-123.45');
    expect(decimalFromUnscaled(-5n, 3)).toBe('-0.005');
    expect(decimalFromBase64(Buffer.from([0xcf, 0xc7]).toString('base64'), 1)).toBe('-1234.5');
  });

  it('refuses text that is not base64 instead of guessing', () => {
    expect(decimalFromBase64('12.5', 1)).toBeUndefined();
    expect(decimalFromBase64('{{{data}}}', 0)).toBeUndefined();
  });
});

describe('Function: plainDecimal / withScale', () => {
  it('writes exponents out and pads to the scale without dropping digits', () => {
    expect(plainDecimal('1.2345678987654322e+32')).toBe('123456789876543220000000000000000');
    expect(plainDecimal('-5E-3')).toBe('-0.005');
    expect(plainDecimal('0.000')).toBe('0');
    expect(withScale('12345.11', 3)).toBe('12345.110');
    expect(withScale('7', 2)).toBe('7.00');
    expect(withScale('1.23456', 2)).toBe('1.23456');
  });
});

describe('Decoder: debezium decimals from the artie-labs fixtures', () => {
  const expected = fixtureJson('debezium/debezium-postgres-decimal-expected-values.json') as {
    files: Record<string, { expected_after_decimal_strings: Record<string, string> }>;
  };

  for (const file of [
    'debezium-postgres-update-numeric-decimal-bytes-with-schema.json',
    'debezium-postgres-update-decimal-bytes-with-schema.json',
    'debezium-postgres-money-with-schema.json',
  ]) {
    it(`decodes every expected value of debezium/${file}`, () => {
      const { changes } = registry.decodeValue(
        fixtureJson(`debezium/${file}`),
        originAt(1),
        createDecodeContext(),
      );
      const after = changes[0]?.after ?? {};
      const want = expected.files[file]!.expected_after_decimal_strings;

      expect(Object.keys(want).length).toBeGreaterThan(0);
      for (const [column, value] of Object.entries(want))
        expect([column, after[column]]).toEqual([column, value]);
    });
  }

  it('keeps the before:null update of REPLICA IDENTITY DEFAULT and its position', () => {
    const { changes } = registry.decodeValue(
      fixtureJson('debezium/debezium-postgres-update-numeric-decimal-bytes-with-schema.json'),
      originAt(1),
      createDecodeContext(),
    );

    expect(changes[0]).toMatchObject({
      op: 'update',
      before: null,
      aggregateId: 'inventory.customers#1001',
      position: 'pg:00000000000000000000:00000000000034393728',
      txId: '765',
      ts: 1686688855364,
    });
  });

  it('converts the before image with its own schema', () => {
    const { changes } = registry.decodeValue(
      fixtureJson('debezium/debezium-postgres-update-decimal-bytes-with-schema.json'),
      originAt(1),
      createDecodeContext(),
    );

    expect(changes[0]?.before?.decimal_test).toBeNull();
    expect(changes[0]?.after?.decimal_test_39_6).toBe('585691028598451546227916918584388.123456');
  });

  it('parks a Decimal that is neither base64 nor a number as INVALID_ENVELOPE', () => {
    const event = fixtureJson('debezium/debezium-postgres-money-with-schema.json') as {
      payload: { after: Record<string, unknown> };
    };
    event.payload.after.money_test = 'not base64!';

    try {
      registry.decodeValue(event, originAt(1), createDecodeContext());
      expect.unreachable('a bad Decimal must not decode');
    } catch (error) {
      expect(error).toBeInstanceOf(DecodeError);
      expect((error as DecodeError).code).toBe(REASON.INVALID_ENVELOPE);
      expect((error as DecodeError).message).toContain('column money_test');
    }
  });
});

describe('Function: applyRowSchema on the MySQL all-types row', () => {
  const [event] = fixtureLines(
    'debezium/debezium-mysql-snapshot-read-alltypes-with-schema.license-header.jsonl.txt',
  ) as {
    schema: unknown;
    payload: { after: Record<string, unknown> };
  }[];
  const after = applyRowSchema(event!.payload.after, rowSchemaOf(event!.schema, 'after'));

  it('renders decimals written as JSON numbers (decimal.format=NUMERIC) exactly, with their scale', () => {
    expect(after.pt).toBe('1.1');
    expect(after._numeric).toBe('12345.110');
    expect(after._decimal).toBe('11111');
    expect(after._bigint_unsigned).toBe('20000000000');
    // 36 significant digits: a double would keep 17 of them
    expect(after._fixed).toBe('123456789876543212345678987654321.110');
    expect(after._big_decimal).toBe('2222222222222222300000001111.1234567890');
  });

  it('renders Debezium time types as ISO strings', () => {
    expect(after._date).toBe('2023-03-23');
    expect(after._datetime).toBe('2023-03-23T14:30:05.000');
    expect(after._datetime3).toBe('2023-03-23T14:30:05.123');
    expect(after._datetime6).toBe('2023-03-23T14:30:05.123456');
    expect(after._time).toBe('10:13:23.000000');
    expect(after._timestamp).toBe('2023-03-23T22:00:10.123456Z');
    expect(after._year).toBe(2023);
  });

  it('leaves other logical types as the connector wrote them', () => {
    expect(after._bit).toBe('xwcAAAAAAAA=');
    expect(after._json).toBe('{"a": "b"}');
    expect(after._set).toBe('a,b');
    expect(after._point).toEqual({ x: 1, y: 1, wkb: 'AQEAAAAAAAAAAADwPwAAAAAAAPA/', srid: null });
  });
});

describe('Function: renderTemporal', () => {
  it('renders each temporal type', () => {
    expect(renderTemporal('org.apache.kafka.connect.data.Date', -1)).toBe('1969-12-31');
    expect(renderTemporal('io.debezium.time.Time', 45_296_789)).toBe('12:34:56.789');
    expect(renderTemporal('io.debezium.time.NanoTime', 45_296_789_000_001)).toBe('12:34:56.789000001');
    expect(renderTemporal('io.debezium.time.NanoTimestamp', '1679581805123456789')).toBe(
      '2023-03-23T14:30:05.123456789',
    );
    expect(renderTemporal('io.debezium.time.MicroTimestamp', -1)).toBe('1969-12-31T23:59:59.999999');
    expect(renderTemporal('org.apache.kafka.connect.data.Timestamp', 0)).toBe('1970-01-01T00:00:00.000Z');
  });

  it('leaves values it cannot render unchanged', () => {
    // MySQL TIME may exceed a day
    expect(renderTemporal('io.debezium.time.MicroTime', 90_000_000_000)).toBe(90_000_000_000);
    expect(renderTemporal('io.debezium.time.ZonedTimestamp', '2023-03-23T07:10:00Z')).toBe(
      '2023-03-23T07:10:00Z',
    );
    expect(renderTemporal('io.debezium.time.Date', 'x')).toBe('x');
  });
});
