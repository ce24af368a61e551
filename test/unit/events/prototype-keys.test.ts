import { describe, expect, it } from 'vitest';
import {
  createDecodeContext,
  createDefaultRegistry,
  type DecodedRecord,
  REASON,
  unmarshallImage,
} from '../../../core/events/index.js';
import { bytesOf, debeziumWithSchema, originAt, POSTGRES_SOURCE } from './fixtures.js';

const postgres = POSTGRES_SOURCE;
const ddbRecord = (body: string) =>
  `{"eventName": "INSERT", "tableName": "t", "dynamodb": {"ApproximateCreationDateTime": 1700000000000000, "ApproximateCreationDateTimePrecision": "MICROSECOND", ${body}}}`;

function decode(text: string, context = createDecodeContext()): DecodedRecord {
  return createDefaultRegistry().decode(bytesOf(text), originAt(1), context);
}

/** Own keys and prototype of a decoded row: what a write would store. */
function shapeOf(row: unknown) {
  return { keys: Object.keys(row as object), prototype: Object.getPrototypeOf(row) };
}

describe('Input named like an Object.prototype member', () => {
  describe('column and attribute names', () => {
    it('keeps a Debezium column named __proto__ as a column, without a schema', () => {
      const [change] = decode(
        `{"before": null, "after": {"id": 1, "__proto__": {"x": 1}}, "source": ${JSON.stringify(postgres)}, "op": "c"}`,
      ).changes;

      expect(shapeOf(change?.after)).toEqual({ keys: ['id', '__proto__'], prototype: Object.prototype });
      expect(Object.getOwnPropertyDescriptor(change?.after, '__proto__')?.value).toEqual({ x: 1 });
    });

    it('keeps it through a Kafka Connect schema, which copies the row', () => {
      const [change] = decode(
        debeziumWithSchema(
          [
            { field: 'id', type: 'int32' },
            { field: '__proto__', type: 'struct', fields: [{ field: 'x', type: 'int32' }] },
            { field: 'constructor', type: 'string' },
          ],
          '{"id": 1, "__proto__": {"x": 1}, "constructor": "c"}',
        ),
      ).changes;

      expect(shapeOf(change?.after)).toEqual({
        keys: ['id', '__proto__', 'constructor'],
        prototype: Object.prototype,
      });
      expect(Object.getOwnPropertyDescriptor(change?.after, '__proto__')?.value).toEqual({ x: 1 });
    });

    it('keeps a DynamoDB attribute and an M attribute named __proto__', () => {
      const [change] = decode(
        ddbRecord(
          '"Keys": {"id": {"S": "k"}}, "NewImage": {"id": {"S": "k"}, "__proto__": {"S": "top"}, "m": {"M": {"__proto__": {"N": "1"}, "toString": {"S": "x"}}}}',
        ),
      ).changes;
      const m = change?.after?.m as Record<string, unknown>;

      expect(shapeOf(change?.after).keys).toEqual(['id', '__proto__', 'm']);
      expect(Object.getOwnPropertyDescriptor(change?.after, '__proto__')?.value).toBe('top');
      expect(shapeOf(m)).toEqual({ keys: ['__proto__', 'toString'], prototype: Object.prototype });
      expect(Object.getOwnPropertyDescriptor(m, '__proto__')?.value).toBe(1);
    });

    it('unmarshalls a __proto__ attribute into an own property', () => {
      const image = JSON.parse('{"__proto__": {"M": {"polluted": {"BOOL": true}}}}');
      const row = unmarshallImage(image);

      expect(Object.keys(row)).toEqual(['__proto__']);
      expect((row as { polluted?: unknown }).polluted).toBeUndefined();
    });

    it('keeps a flattened Debezium column named __proto__, and DMS BI_ columns whose twin is inherited', () => {
      const [unwrapped] = decode('{"__table": "t", "id": 1, "__proto__": {"id": 77}}').changes;
      const [dms] = decode(
        '{"data": {"id": 1, "BI_constructor": "x", "BI_id": 1}, "metadata": {"record-type": "data", "operation": "update", "table-name": "t", "schema-name": "s", "timestamp": "2024-07-29T00:58:17.983670Z"}}',
      ).changes;

      expect(unwrapped?.aggregateId).toBe('t#1');
      expect(shapeOf(unwrapped?.after).keys).toEqual(['id', '__proto__']);
      // "constructor" is inherited by every object, not a column: BI_constructor is not a before image.
      expect(dms?.after).toEqual({ id: 1, BI_constructor: 'x', BI_id: 1 });
      expect(dms?.before).toBeNull();
    });
  });

  describe('aggregate keys', () => {
    it('never takes a key from an injected prototype', () => {
      expect(() => decode('{"__table": "t", "__proto__": {"id": 77}}')).toThrow(
        expect.objectContaining({ code: REASON.MISSING_KEY }),
      );
    });

    it('never takes an inherited member as a configured or learned key column', () => {
      const context = createDecodeContext({ 's.t': { keyColumns: ['constructor'] } });
      const dmsRow =
        '{"data": {"id": 1}, "metadata": {"record-type": "data", "operation": "insert", "table-name": "t", "schema-name": "s", "timestamp": "2024-07-29T00:58:17.983670Z"}}';
      const registry = createDefaultRegistry();
      registry.decode(
        bytesOf(
          '{"control": {"table-def": {"primary-key": ["toString"]}}, "metadata": {"record-type": "control", "operation": "create-table", "table-name": "u", "schema-name": "s", "timestamp": "2024-07-29T00:58:17.983670Z"}}',
        ),
        originAt(1),
        createDecodeContext(),
      );

      expect(() => decode(dmsRow, context)).toThrow(expect.objectContaining({ code: REASON.MISSING_KEY }));
      expect(() =>
        registry.decode(bytesOf(dmsRow.replace('"t"', '"u"')), originAt(2), createDecodeContext()),
      ).toThrow(expect.objectContaining({ code: REASON.MISSING_KEY }));
    });
  });

  describe('operations', () => {
    const debezium = (op: string) =>
      `{"before": null, "after": {"id": 1}, "source": ${JSON.stringify(postgres)}, "op": ${JSON.stringify(op)}}`;
    const cases = [
      ...['constructor', 'toString', '__proto__', 'hasOwnProperty'].map((op) => [
        `Debezium op ${op}`,
        debezium(op),
      ]),
      [
        'DynamoDB eventName constructor',
        ddbRecord('"Keys": {"id": {"S": "k"}}, "NewImage": {"id": {"S": "k"}}').replace(
          'INSERT',
          'constructor',
        ),
      ],
      [
        'DynamoDB eventName __proto__',
        ddbRecord('"Keys": {"id": {"S": "k"}}, "NewImage": {"id": {"S": "k"}}').replace(
          'INSERT',
          '__proto__',
        ),
      ],
      [
        'DMS operation valueOf',
        '{"data": {"id": 1}, "metadata": {"record-type": "data", "operation": "valueOf", "table-name": "t", "schema-name": "s", "timestamp": "2024-07-29T00:58:17.983670Z"}}',
      ],
      ['flattened Debezium __op toString', '{"__table": "t", "__op": "toString", "id": 1}'],
    ];

    for (const [name, text] of cases)
      it(`parks ${name} as INVALID_ENVELOPE instead of applying it`, () => {
        expect(() => decode(text!)).toThrow(expect.objectContaining({ code: REASON.INVALID_ENVELOPE }));
      });

    it('reads an unknown connector name, constructor included, as a connector without a position', () => {
      const [change] = decode(debezium('c').replace('"postgresql"', '"constructor"')).changes;

      expect(change?.position).toMatch(/^ks:/);
    });
  });
});
