/**
 * Envelopes of the connectors without a fixture, built from the source fields the Debezium connector
 * documentation lists (SQL Server, Oracle, MongoDB, Db2): what each one's position and table become.
 */
import { describe, expect, it } from 'vitest';
import { createDecodeContext, createDefaultRegistry, kinesisPosition } from '../../../core/events/index.js';
import { originAt } from './fixtures.js';

const registry = createDefaultRegistry();
const context = createDecodeContext();
const row = { id: 1004, first_name: 'Anne' };

function decode(source: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return registry.decodeValue(
    { before: null, after: row, source, op: 'c', ts_ms: 1559729471739, ...extra },
    originAt(77),
    context,
  ).changes[0]!;
}

describe('Decoder: debezium (other connectors)', () => {
  it('positions SQL Server changes by commit LSN, change LSN and event serial number', () => {
    const change = decode({
      connector: 'sqlserver',
      db: 'testDB',
      schema: 'dbo',
      table: 'customers',
      change_lsn: '00000027:00000758:0003',
      commit_lsn: '00000027:00000758:0005',
      event_serial_no: 1,
      ts_ms: 1559729468470,
    });

    expect(change).toMatchObject({
      table: 'dbo.customers',
      aggregateId: 'dbo.customers#1004',
      position: 'ms:00000027:00000758:0005:00000027:00000758:0003:0000000001',
      ts: 1559729468470,
    });
  });

  it('positions Oracle changes by commit SCN, SCN and SSN, with the transaction id', () => {
    const change = decode({
      connector: 'oracle',
      db: 'ORCLPDB1',
      schema: 'DEBEZIUM',
      table: 'CUSTOMERS',
      txId: '6.28.807',
      scn: '2122185',
      commit_scn: '2122187',
      ssn: 0,
    });

    expect(change).toMatchObject({
      table: 'DEBEZIUM.CUSTOMERS',
      position: `or:${'2122187'.padStart(20, '0')}:${'2122185'.padStart(20, '0')}:0000000000`,
      txId: '6.28.807',
    });
  });

  it('reads MongoDB extended-JSON images, keyed by _id, positioned by cluster time and ordinal', () => {
    const change = decode(
      {
        connector: 'mongodb',
        db: 'inventory',
        rs: 'rs0',
        collection: 'customers',
        ord: 31,
        ts_ms: 1558965508000,
      },
      { after: '{"_id": {"$numberLong": "1004"}, "first_name": "Anne"}' },
    );

    expect(change).toMatchObject({
      table: 'inventory.customers',
      aggregateId: 'inventory.customers#{"$numberLong":"1004"}',
      position: expect.stringMatching(/^mg:0*1558965508000:0000000031:\d{129}:\d{10}$/),
      after: { _id: { $numberLong: '1004' }, first_name: 'Anne' },
    });
  });

  it('falls back to the Kinesis sequence number for a connector without a normalised position (Db2)', () => {
    const change = decode({
      connector: 'db2',
      db: 'TESTDB',
      schema: 'DB2INST1',
      table: 'CUSTOMERS',
      change_lsn: '00000000:0000150f:0000000000048fca',
      commit_lsn: '00000000:0000150f:0000000000048fca',
    });

    expect(change.position).toBe(kinesisPosition('77'));
    expect(change.table).toBe('DB2INST1.CUSTOMERS');
  });
});
