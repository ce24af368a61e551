import { describe, expect, it } from 'vitest';
import {
  comparePositions,
  connectorOf,
  DecodeError,
  dmsPosition,
  dynamodbPosition,
  isSnapshot,
  kinesisPosition,
  mongoPosition,
  mysqlPosition,
  oraclePosition,
  REASON,
  sqlServerPosition,
} from '../../../core/events/index.js';

describe('Function: sqlServerPosition', () => {
  it('orders by commit LSN, then change LSN, then event serial number, whatever the hex case', () => {
    const a = sqlServerPosition('0000002A:00000958:0003', '0000002a:00000950:0002', 1);
    const b = sqlServerPosition('0000002a:00000958:0003', '0000002a:00000958:0003', 1);
    const c = sqlServerPosition('0000002a:00000958:0003', '0000002a:00000958:0003', 2);
    const snapshot = sqlServerPosition('0000002a:00000958:0003', null, null);

    expect([snapshot, a, b, c].sort()).toEqual([snapshot, a, b, c]);
    expect(a).toBe('ms:0000002a:00000958:0003:0000002a:00000950:0002:0000000001');
  });

  it('parks an LSN of the wrong shape', () => {
    expect(() => sqlServerPosition('42', null, 0)).toThrow(DecodeError);
  });
});

describe('Functions: oraclePosition, mongoPosition, dynamodbPosition', () => {
  it('orders Oracle changes by commit SCN first', () => {
    expect(comparePositions(oraclePosition('100', '99', 0), oraclePosition('101', '50', 0))).toBeLessThan(0);
    expect(oraclePosition(null, '7', undefined)).toBe(
      `or:${'0'.repeat(20)}:${'7'.padStart(20, '0')}:0000000000`,
    );
  });

  it('orders MongoDB changes by cluster time, ordinal, then arrival', () => {
    expect(
      comparePositions(mongoPosition(1700000000000, 2, '9'), mongoPosition(1700000000000, 10, '1')),
    ).toBeLessThan(0);
    // Two changes of one transaction share time and ordinal: the later record wins, a redelivery ties.
    expect(
      comparePositions(mongoPosition(1700000000000, 2, '41'), mongoPosition(1700000000000, 2, '42')),
    ).toBeLessThan(0);
    expect(
      comparePositions(mongoPosition(1700000000000, 2, '42'), mongoPosition(1700000000000, 2, '42')),
    ).toBe(0);
  });

  it('orders DynamoDB changes by time, then, below microsecond precision, by sequence number', () => {
    const at = (sequenceNumber: string) => ({ sequenceNumber });
    expect(comparePositions(dynamodbPosition(2, at('1')), dynamodbPosition(10, at('0')))).toBeLessThan(0);
    expect(comparePositions(dynamodbPosition(10, at('5')), dynamodbPosition(10, at('40')))).toBeLessThan(0);
    expect(dynamodbPosition(10)).toBe(`dd:${'10'.padStart(20, '0')}`);
    // A microsecond position written by an earlier version (time, then sequence number) still compares by
    // time first, and a same-time change is older than it: a duplicate.
    expect(comparePositions(dynamodbPosition(10), dynamodbPosition(10, at('5')))).toBeLessThan(0);
    expect(comparePositions(dynamodbPosition(11), dynamodbPosition(10, at('5')))).toBeGreaterThan(0);
  });
});

describe('Function: dmsPosition', () => {
  it('orders by the time DMS produced the record, to the microsecond, then by sequence number', () => {
    const earlier = dmsPosition('2024-07-29T00:58:17.983670Z', '900');
    const later = dmsPosition('2024-07-29T00:58:17.983671Z', '100');

    expect(earlier).toBe(`tm:00001722214697983670:${'900'.padStart(129, '0')}:0000000000`);
    expect(comparePositions(earlier, later)).toBeLessThan(0);
    expect(comparePositions(dmsPosition('2024-07-29T00:58:17.98367Z', '1'), earlier)).toBeLessThan(0);
    expect(dmsPosition('2024-07-29T02:58:17.983670+02:00', '900')).toBe(earlier);
    // It sorts after every position DMS changes had before (the Kinesis sequence number alone).
    expect(comparePositions(kinesisPosition('9'.repeat(129)), earlier)).toBeLessThan(0);
  });

  it('parks a record without a usable timestamp as MISSING_POSITION', () => {
    for (const timestamp of [undefined, '', 'yesterday', '1969-12-31T23:59:59Z', 1722214697])
      expect(() => dmsPosition(timestamp, '1')).toThrow(
        expect.objectContaining({ code: REASON.MISSING_POSITION }),
      );
  });
});

describe('Function: mysqlPosition', () => {
  it('tells what to check when the binlog file is empty', () => {
    try {
      mysqlPosition('', 0, 0);
      expect.unreachable('an empty binlog file has no position');
    } catch (error) {
      expect((error as DecodeError).code).toBe(REASON.MISSING_POSITION);
      expect((error as DecodeError).message).toMatch(/"" has no index.*check what produced this event/);
    }
  });
});

describe('Function: connectorOf', () => {
  it('trusts a real name and infers only a missing or placeholder one', () => {
    expect(connectorOf({ connector: 'mariadb' })).toBe('mysql');
    expect(connectorOf({ connector: 'db2', change_lsn: 'x', commit_lsn: 'y' })).toBe('other');
    expect(connectorOf({ connector: '{context}', file: 'mysql-bin.000003', pos: 1 })).toBe('mysql');
    expect(connectorOf({ lsn: 1, schema: 'public' })).toBe('postgresql');
    expect(connectorOf({ change_lsn: null, commit_lsn: '0000002a:00000958:0003' })).toBe('sqlserver');
    expect(connectorOf({ scn: '1' })).toBe('oracle');
    expect(connectorOf({ ord: 1, rs: 'rs0' })).toBe('mongodb');
  });
});

describe('Function: isSnapshot', () => {
  it('reads the boolean and every string of the SnapshotRecord enum', () => {
    expect(
      [
        true,
        'true',
        'first',
        'first_in_data_collection',
        'last_in_data_collection',
        'last',
        'incremental',
      ].map(isSnapshot),
    ).toEqual(Array(7).fill(true));
    expect([false, 'false', null, undefined, ''].map(isSnapshot)).toEqual(Array(5).fill(false));
  });
});
