import { describe, expect, it } from 'vitest';
import {
  createDecodeContext,
  createDefaultRegistry,
  type RowImage,
  renderTemporal,
  wasJsonNumber,
} from '../../../core/events/index.js';
import { bytesOf, debeziumWithSchema, originAt, POSTGRES_SOURCE } from './fixtures.js';

const source = POSTGRES_SOURCE;
const INT64_MAX = '9223372036854775807';

function decodeAfter(text: string): RowImage {
  const { changes } = createDefaultRegistry().decode(bytesOf(text), originAt(1), createDecodeContext());
  return changes[0]!.after!;
}

/** The columns of `row` holding a number kept as its exact text. */
function exactNumbersOf(row: RowImage): string[] {
  return Object.keys(row).filter((k) => wasJsonNumber(row, k));
}

describe('Integers beyond 2^53', () => {
  it('keep every digit and their number mark in a bare Debezium row', () => {
    const after = decodeAfter(
      `{"before": null, "after": {"id": 1, "big": ${INT64_MAX}, "min": -9223372036854775808, "ns": 1700000000123456789, "s": "${INT64_MAX}"}, "source": ${JSON.stringify(source)}, "op": "c"}`,
    );

    expect(after).toEqual({
      id: 1,
      big: INT64_MAX,
      min: '-9223372036854775808',
      ns: '1700000000123456789',
      s: INT64_MAX,
    });
    expect(exactNumbersOf(after)).toEqual(['big', 'min', 'ns']);
  });

  it('keep their mark through a Kafka Connect schema, which copies the row, but decimals become text', () => {
    const after = decodeAfter(
      debeziumWithSchema(
        [
          { field: 'id', type: 'int64' },
          {
            field: 'price',
            type: 'bytes',
            name: 'org.apache.kafka.connect.data.Decimal',
            parameters: { scale: '2' },
          },
          { field: 'list', type: 'array', items: { type: 'int64' } },
        ],
        `{"id": ${INT64_MAX}, "price": 123456789012345678901.5, "list": [${INT64_MAX}, 1]}`,
      ),
    );

    expect(after).toEqual({ id: INT64_MAX, price: '123456789012345678901.50', list: [INT64_MAX, 1] });
    expect(exactNumbersOf(after)).toEqual(['id']);
    expect(wasJsonNumber(after.list as object, '0')).toBe(true);
  });

  it('keep their mark in flattened Debezium rows, DMS rows and DynamoDB N values', () => {
    const unwrapped = decodeAfter(`{"__table": "t", "id": 1, "big": ${INT64_MAX}}`);
    const dms = decodeAfter(
      `{"data": {"id": 1, "big": ${INT64_MAX}, "BI_id": 1, "BI_big": 1}, "metadata": {"record-type": "data", "operation": "update", "table-name": "t", "schema-name": "s", "timestamp": "2024-07-29T00:58:17.983670Z"}}`,
    );
    const dynamodb = decodeAfter(
      `{"eventName": "INSERT", "tableName": "t", "dynamodb": {"ApproximateCreationDateTime": 1700000000000000, "ApproximateCreationDateTimePrecision": "MICROSECOND", "Keys": {"id": {"N": "${INT64_MAX}"}}, "NewImage": {"id": {"N": "${INT64_MAX}"}, "small": {"N": "1.5"}, "ns": {"NS": ["${INT64_MAX}", "2"]}, "l": {"L": [{"N": "${INT64_MAX}"}]}}}}`,
    );

    expect(exactNumbersOf(unwrapped)).toEqual(['big']);
    expect(exactNumbersOf(dms)).toEqual(['big']);
    expect(dynamodb).toEqual({ id: INT64_MAX, small: 1.5, ns: [INT64_MAX, 2], l: [INT64_MAX] });
    expect(exactNumbersOf(dynamodb)).toEqual(['id']);
    expect(wasJsonNumber(dynamodb.ns as object, '0')).toBe(true);
    expect(wasJsonNumber(dynamodb.l as object, '0')).toBe(true);
  });

  it('render as nanosecond timestamps whether or not they survived a double', () => {
    expect(renderTemporal('io.debezium.time.NanoTimestamp', 1700000000000000000)).toBe(
      '2023-11-14T22:13:20.000000000',
    );
    expect(renderTemporal('io.debezium.time.NanoTimestamp', '1700000000123456789')).toBe(
      '2023-11-14T22:13:20.123456789',
    );
    // No time has 40 digits: left as it came, not parsed.
    expect(renderTemporal('io.debezium.time.NanoTimestamp', '9'.repeat(40))).toBe('9'.repeat(40));
  });
});
