import { describe, expect, it } from 'vitest';
import { createDecodeContext, createDefaultRegistry, REASON } from '../../../core/events/index.js';
import { codeOf, fixtureJson, originAt } from './fixtures.js';

const FIXTURE = 'debezium/debezium-unwrapped-after-state-only.json';
const row = fixtureJson(FIXTURE) as Record<string, unknown>;
const auto = createDefaultRegistry();
const forced = createDefaultRegistry({ format: 'debezium' });
const noConfig = createDecodeContext();

describe('Decoder: debezium-unwrapped (ExtractNewRecordState)', () => {
  it(`cannot tell a bare row's format or table: ${FIXTURE}`, () => {
    expect(row).toEqual({
      id: 1004,
      first_name: 'Anne',
      last_name: 'Kretchmar',
      email: 'annek@noanswer.org',
    });
    expect(codeOf(() => auto.decodeValue(row, originAt(1), noConfig))).toBe(REASON.UNKNOWN_FORMAT);
    // Forced to Debezium it is a flattened row, but nothing names its table.
    expect(codeOf(() => forced.decodeValue(row, originAt(1), noConfig))).toBe(REASON.MISSING_TABLE);
  });

  it('reads the row once add.fields names the table, as an upsert positioned by the Kinesis sequence', () => {
    const { changes, format } = auto.decodeValue(
      { ...row, __table: 'customers', __db: 'inventory' },
      originAt('49590338271490256608559692538361571095921575989136588898'),
      noConfig,
    );

    expect(format).toBe('debezium-unwrapped');
    expect(changes).toEqual([
      {
        format: 'debezium',
        table: 'inventory.customers',
        aggregateId: 'inventory.customers#1004',
        op: 'update',
        // no __name, no __connector: the connector inferred from the fields present ('other')
        source: 'debezium:other',
        position: `ks:${'49590338271490256608559692538361571095921575989136588898'.padStart(129, '0')}:0000000000`,
        before: null,
        after: row,
        ts: null,
        txId: null,
      },
    ]);
  });

  it('uses __op, __source_ts_ms and the Postgres position fields when they are added', () => {
    const { changes } = auto.decodeValue(
      {
        ...row,
        __op: 'c',
        __table: 'customers',
        __schema: 'inventory',
        __lsn: 24023128,
        __source_ts_ms: 1559033904863,
        __connector: 'postgresql',
      },
      originAt(1),
      noConfig,
    );

    expect(changes[0]).toMatchObject({
      op: 'create',
      table: 'inventory.customers',
      position: 'pg:00000000000000000000:00000000000024023128',
      ts: 1559033904863,
      after: row,
    });
  });

  it('reads a rewritten delete (__deleted: "true") with the row as before image', () => {
    const { changes } = auto.decodeValue(
      { ...row, __deleted: 'true', __table: 'customers', __db: 'inventory' },
      originAt(2),
      noConfig,
    );

    expect(changes[0]).toMatchObject({
      op: 'delete',
      aggregateId: 'inventory.customers#1004',
      before: row,
      after: null,
    });
  });

  it('takes the key from the Debezium Server partition key, then from configuration', () => {
    const value = { customer_no: 'C-1', name: 'x', __table: 'customers', __db: 'crm' };

    expect(codeOf(() => auto.decodeValue(value, originAt(1), noConfig))).toBe(REASON.MISSING_KEY);
    expect(
      auto.decodeValue(value, originAt(1, '{"customer_no":"C-1"}'), noConfig).changes[0]?.aggregateId,
    ).toBe('crm.customers#C-1');
    const keyed = createDecodeContext({ 'crm.customers': { keyColumns: ['customer_no'] } });
    expect(auto.decodeValue(value, originAt(1), keyed).changes[0]?.aggregateId).toBe('crm.customers#C-1');
  });

  it('keeps a real column that merely starts with __', () => {
    const { changes } = auto.decodeValue(
      { ...row, __table: 'customers', __db: 'inventory', __audit: 'x' },
      originAt(1),
      noConfig,
    );

    expect(changes[0]?.after).toEqual({ ...row, __audit: 'x' });
  });

  it('honours a per-table format override for a row that looks like an envelope', () => {
    // A table whose columns happen to be named op and source.
    const value = { id: 7, op: 'c', source: { app: 'web' }, __table: 'events', __db: 'audit' };
    const pinned = createDecodeContext({ 'audit.events': { format: 'debezium-unwrapped' } });

    expect(codeOf(() => auto.decodeValue(value, originAt(1), noConfig))).toBe(REASON.INVALID_ENVELOPE);
    expect(auto.decodeValue(value, originAt(1), pinned).changes[0]).toMatchObject({
      aggregateId: 'audit.events#7',
      after: { id: 7, op: 'c', source: { app: 'web' } },
    });
  });
});
