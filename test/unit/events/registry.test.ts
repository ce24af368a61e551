import { describe, expect, it } from 'vitest';
import { OptionsError } from '../../../core/errors.js';
import {
  type ChangeDecoder,
  createDecodeContext,
  createDefaultRegistry,
  DecoderRegistry,
  debeziumDecoder,
  REASON,
  TableKeyMemory,
} from '../../../core/events/index.js';
import { bytesOf, codeOf, fixtureJson, originAt } from './fixtures.js';

describe('Class: DecoderRegistry', () => {
  describe('Method: isStateful', () => {
    it('is true for DMS only: its rows take keys learned from earlier control records', () => {
      const registry = createDefaultRegistry();

      expect(registry.isStateful('dms')).toBe(true);
      expect(registry.isStateful('debezium')).toBe(false);
      expect(registry.isStateful('dynamodb')).toBe(false);
      expect(registry.isStateful(null)).toBe(false);
    });
  });

  describe('Method: decode', () => {
    it('reports tombstones apart from changes', () => {
      const registry = createDefaultRegistry();
      const context = createDecodeContext();

      expect(registry.decode(new Uint8Array(), originAt(1), context)).toEqual({
        changes: [],
        tombstone: true,
        format: null,
      });
      expect(registry.decode(bytesOf('null'), originAt(1), context).tombstone).toBe(true);
      expect(
        registry.decode(bytesOf('{"schema": null, "payload": null}'), originAt(1), context).tombstone,
      ).toBe(true);
    });

    it('says which decoder read a record, also for metadata records', () => {
      const registry = createDefaultRegistry();
      const decoded = registry.decode(
        bytesOf(fixtureJson('aws-dms/dms-docs-control-create-table.json')),
        originAt(1),
        createDecodeContext(),
      );

      expect(decoded).toEqual({ changes: [], tombstone: false, format: 'dms' });
    });

    it('keeps large integer keys exact in the aggregate id', () => {
      const registry = createDefaultRegistry();
      const text = JSON.stringify(fixtureJson('debezium/debezium-mysql-create-without-schema.json')).replace(
        '"id":1004',
        '"id":1234567890123456789',
      );
      const { changes } = registry.decode(bytesOf(text), originAt(1), createDecodeContext());

      expect(changes[0]?.aggregateId).toBe('inventory.customers#1234567890123456789');
    });

    it('still serves a context that only knows key columns (existing callers)', () => {
      const registry = new DecoderRegistry({ decoders: [debeziumDecoder] });
      const { changes } = registry.decode(
        bytesOf(fixtureJson('debezium/debezium-mysql-create-without-schema.json')),
        originAt(1),
        { keyColumns: () => ['email'] },
      );

      expect(changes[0]?.aggregateId).toBe('inventory.customers#annek@noanswer.org');
    });
  });

  describe('Method: decodeValue', () => {
    it('names every expected shape and what it received when no decoder matches', () => {
      const registry = createDefaultRegistry();

      expect(() => registry.decodeValue({ hello: 1 }, originAt(1), createDecodeContext())).toThrow(
        /expected a Debezium envelope .*; or an AWS DMS message .*; or a DynamoDB Kinesis record .*Received an object with keys hello/,
      );
    });

    it('rejects an override naming a format the registry lacks, naming the fix', () => {
      const registry = createDefaultRegistry({ format: 'dms' });
      const context = createDecodeContext({ 'sbtest.sbtest_x': { format: 'dynamo' } });
      const insert = fixtureJson('aws-dms/dms-docs-data-insert-all-metadata-primary-key-partition.json');

      expect(codeOf(() => registry.decodeValue(insert, originAt(1), context))).toBe(REASON.UNKNOWN_FORMAT);
      expect(() => registry.decodeValue(insert, originAt(1), context)).toThrow(
        /format "dynamo".*fix the table's format/,
      );
    });

    it('asks decoders in registration order', () => {
      const calls: string[] = [];
      const decoder = (format: string): ChangeDecoder => ({
        format,
        matches: () => {
          calls.push(format);
          return true;
        },
        decode: () => [],
      });
      const registry = new DecoderRegistry({ decoders: [decoder('first'), decoder('second')] });

      expect(registry.decodeValue({}, originAt(1), createDecodeContext()).format).toBe('first');
      expect(calls).toEqual(['first']);
    });
  });
});

describe('Function: createDefaultRegistry', () => {
  it('registers every decoder in detection order', () => {
    expect(createDefaultRegistry().formats).toEqual([
      'debezium',
      'debezium-transaction',
      'debezium-schema-change',
      'dms',
      'dynamodb',
      'debezium-unwrapped',
    ]);
    expect(createDefaultRegistry({ format: 'dynamodb' }).formats).toEqual(['dynamodb']);
  });

  it('rejects an unknown format with the choices', () => {
    expect(() => createDefaultRegistry({ format: 'avro' as never })).toThrow(OptionsError);
    expect(() => createDefaultRegistry({ format: 'avro' as never })).toThrow(
      /auto, debezium, dms, dynamodb; received "avro"/,
    );
  });

  it('shares learned DMS keys through the TableKeyMemory it is given', () => {
    const tableKeys = new TableKeyMemory();
    createDefaultRegistry({ tableKeys }).decodeValue(
      fixtureJson('aws-dms/dms-docs-control-create-table.json'),
      originAt(1),
      createDecodeContext(),
    );

    expect(tableKeys.get('sbtest.sbtest_t1')).toEqual(['id']);
  });
});

describe('Class: TableKeyMemory', () => {
  it('forgets the least recently learned table beyond its bound', () => {
    const keys = new TableKeyMemory({ maxTables: 2 });
    keys.remember('a', ['id']);
    keys.remember('b', ['id']);
    keys.remember('a', ['k']);
    keys.remember('c', ['id']);

    expect([keys.get('a'), keys.get('b'), keys.get('c'), keys.size]).toEqual([['k'], undefined, ['id'], 2]);
  });

  it('rejects a bound that is not a positive integer', () => {
    expect(() => new TableKeyMemory({ maxTables: 0 })).toThrow(
      'maxTables must be a positive integer; received 0',
    );
  });
});
