import { describe, expect, it } from 'vitest';
import {
  type ChangeEvent,
  createDecodeContext,
  createDefaultRegistry,
  type DecodeContext,
  DecodeError,
  decodeKinesisRecord,
  dmsPosition,
  kinesisEventRecords,
  REASON,
  TableKeyMemory,
} from '../../../core/events/index.js';
import { codeOf, fixtureJson, fixtureLines, originAt } from './fixtures.js';

const noConfig = createDecodeContext();

function freshRegistry(tableKeys = new TableKeyMemory()) {
  return { registry: createDefaultRegistry({ tableKeys }), tableKeys };
}

/** Decodes values in order as records 1, 2, 3, … of one shard; a DecodeError becomes its code. */
function decodeAll(
  values: readonly unknown[],
  context: DecodeContext = noConfig,
  registry = freshRegistry().registry,
) {
  return values.map((value, i) => {
    try {
      return registry.decodeValue(value, originAt(1000 + i), context).changes;
    } catch (error) {
      if (error instanceof DecodeError) return error.code;
      throw error;
    }
  });
}

describe('Decoder: dms (control records)', () => {
  it('learns the primary key of a create-table: aws-dms/dms-docs-control-create-table.json', () => {
    const { registry, tableKeys } = freshRegistry();
    const decoded = registry.decodeValue(
      fixtureJson('aws-dms/dms-docs-control-create-table.json'),
      originAt(1),
      noConfig,
    );

    expect(decoded).toEqual({ changes: [], tombstone: false, format: 'dms' });
    expect(tableKeys.get('sbtest.sbtest_t1')).toEqual(['id']);
  });

  it('learns nothing from a table-def without primary-key: aws-dms/dms-control-create-table-cratedb-toolkit.json', () => {
    const { registry, tableKeys } = freshRegistry();
    tableKeys.remember('testdrive-data.foobar', ['stale']);

    registry.decodeValue(
      fixtureJson('aws-dms/dms-control-create-table-cratedb-toolkit.json'),
      originAt(1),
      noConfig,
    );

    expect(tableKeys.get('testdrive-data.foobar')).toBeUndefined();
  });

  it('parks a truncate-table control record as TRUNCATE', () => {
    const control = fixtureJson('aws-dms/dms-docs-control-create-table.json') as {
      metadata: Record<string, unknown>;
    };
    const truncate = { control: {}, metadata: { ...control.metadata, operation: 'truncate-table' } };

    expect(codeOf(() => freshRegistry().registry.decodeValue(truncate, originAt(1), noConfig))).toBe(
      REASON.TRUNCATE,
    );
  });
});

describe('Decoder: dms (data records)', () => {
  it('decodes the documented insert: aws-dms/dms-docs-data-insert-all-metadata-primary-key-partition.json', () => {
    const [changes] = decodeAll([
      fixtureJson('aws-dms/dms-docs-data-insert-all-metadata-primary-key-partition.json'),
    ]);

    expect(changes).toEqual([
      {
        format: 'dms',
        table: 'sbtest.sbtest_x',
        aggregateId: 'sbtest.sbtest_x#100000161',
        op: 'create',
        // DMS data records do not name their task: every DMS change is of the one source `dms`.
        source: 'dms',
        // The time DMS produced the record, then the Kinesis sequence number.
        position: dmsPosition('2019-10-31T22:53:59.721201Z', '1000'),
        before: null,
        after: { id: 100000161, fname: 'val61s', lname: 'val61s', REGION: 'val61s' },
        ts: Date.UTC(2019, 9, 31, 22, 53, 55), // commit-timestamp, not the DMS processing timestamp
        txId: '9324410911751',
      },
    ]);
  });

  it('needs key columns for a table without id: aws-dms/dms-data-load-schema-table-cratedb-toolkit.json', () => {
    const load = fixtureJson('aws-dms/dms-data-load-schema-table-cratedb-toolkit.json');
    const keyed = createDecodeContext({ 'testdrive-data.foobar': { keyColumns: ['rowid'] } });

    expect(decodeAll([load])).toEqual([REASON.MISSING_KEY]);
    const [changes] = decodeAll([load], keyed) as ChangeEvent[][];
    expect(changes?.[0]).toMatchObject({
      aggregateId: 'testdrive-data.foobar#1',
      op: 'read',
      // a JSON document stored in a text column stays a string
      after: { rowid: 1, resource: '{"temperature": 42.42}' },
      ts: Date.parse('2025-06-21T12:06:51.175Z'),
      txId: null,
    });
  });

  it('reads map-record-to-document data from data._doc: aws-dms/dms-docs-kinesis-map-record-to-document-data.json', () => {
    const fragment = fixtureJson('aws-dms/dms-docs-kinesis-map-record-to-document-data.json') as {
      data: unknown;
    };
    const message = {
      data: fragment.data,
      metadata: {
        'record-type': 'data',
        operation: 'insert',
        'schema-name': 'Test',
        'table-name': 'Customers',
        timestamp: '2019-10-31T22:53:59.721201Z',
      },
    };
    const keyed = createDecodeContext({ 'Test.Customers': { keyColumns: ['StoreId', 'LastName'] } });

    // The documentation prints only the data part; alone it names no format.
    expect(decodeAll([fragment])).toEqual([REASON.UNKNOWN_FORMAT]);
    const [changes] = decodeAll([message], keyed) as ChangeEvent[][];
    expect(changes?.[0]?.aggregateId).toBe('Test.Customers#5|Marsh');
    expect(changes?.[0]?.after).toEqual({
      FirstName: 'Randy',
      LastName: 'Marsh',
      StoreId: '5',
      DateOfBirth: '02/29/1988',
    });
  });

  it('reads map-record-to-record data as flat columns: aws-dms/dms-docs-kinesis-map-record-to-record-data.json', () => {
    const data = fixtureJson('aws-dms/dms-docs-kinesis-map-record-to-record-data.json');
    const message = {
      data,
      metadata: {
        'record-type': 'data',
        operation: 'load',
        'schema-name': 'Test',
        'table-name': 'Customers',
        timestamp: '2019-10-31T22:53:59.721201Z',
      },
    };
    const keyed = createDecodeContext({ 'Test.Customers': { keyColumns: ['StoreId'] } });

    expect(decodeAll([data])).toEqual([REASON.UNKNOWN_FORMAT]);
    const [changes] = decodeAll([message], keyed) as ChangeEvent[][];
    expect(changes?.[0]).toMatchObject({ aggregateId: 'Test.Customers#5', op: 'read' });
    expect(changes?.[0]?.after?.WorkPhone).toBe('9876543210');
  });

  it('splits BI_ columns into the before image: aws-dms/dms-insert-delete-update-before-image-BI-prefix-paimon.license-header.jsonl.txt', () => {
    const results = decodeAll(
      fixtureLines('aws-dms/dms-insert-delete-update-before-image-BI-prefix-paimon.license-header.jsonl.txt'),
    ) as ChangeEvent[][];
    const changes = results.flat();

    expect(changes.map((c) => [c.op, c.aggregateId])).toEqual([
      ['create', 'test.product#105'],
      ['delete', 'test.product#101'],
      ['update', 'test.product#105'],
      ['create', 'test.product#107'],
    ]);
    expect(changes[1]?.before).toEqual({
      id: 101,
      name: 'scooter',
      description: 'Small 2-wheel scooter',
      weight: 3.14,
    });
    expect(changes[2]?.before).toEqual({
      id: 105,
      name: 'hammer',
      description: "14oz carpenter's hammer",
      weight: 0.875,
      address: 'Shanghai',
    });
    expect(changes[2]?.after).toEqual({
      id: 105,
      name: 'hammer',
      description: "14oz carpenter's hammer",
      weight: 0.875,
      address: 'Beijing',
    });
    // The four records share one DMS time: their sequence numbers order them.
    expect(changes.map((c) => c.position)).toEqual(
      [1000, 1001, 1002, 1003].map((n) => dmsPosition('2024-10-27T12:39:03.210671Z', String(n))),
    );
    expect(changes.every((c) => c.txId === '670014899490')).toBe(true);
  });

  it('turns a BI_ primary-key change into a delete and a create', () => {
    const [, , update] = fixtureLines(
      'aws-dms/dms-insert-delete-update-before-image-BI-prefix-paimon.license-header.jsonl.txt',
    ) as {
      data: Record<string, unknown>;
    }[];
    const moved = { ...update, data: { ...update!.data, id: 205 } };

    const [changes] = decodeAll([moved]) as ChangeEvent[][];
    expect(changes?.map((c) => [c.op, c.aggregateId])).toEqual([
      ['delete', 'test.product#105'],
      ['create', 'test.product#205'],
    ]);
  });
});

describe('Decoder: dms (captured sequences)', () => {
  it('decodes load, insert, update, PK change and delete in order: aws-dms/dms-postgres-load-insert-update-pkchange-delete-sequence-commons-codec.jsonl', () => {
    const results = decodeAll(
      fixtureLines('aws-dms/dms-postgres-load-insert-update-pkchange-delete-sequence-commons-codec.jsonl'),
    );

    expect(results.map((r) => (typeof r === 'string' ? r : r.map((c) => [c.op, c.aggregateId])))).toEqual([
      [], // drop-table
      [], // create-table: learns primary-key [id]
      [['read', 'public.foo#42']],
      [['create', 'public.foo#46']],
      [['update', 'public.foo#42']],
      [
        ['delete', 'public.foo#46'],
        ['create', 'public.foo#45'],
      ],
      [['delete', 'public.foo#45']],
      [], // create-table of awsdms_apply_exceptions
    ]);
    const [update] = results[4] as ChangeEvent[];
    expect(update?.before).toBeNull(); // "before-image": {} carries nothing
    const [oldRow, newRow] = results[5] as ChangeEvent[];
    expect(oldRow).toMatchObject({
      before: { id: 46 },
      after: null,
      txId: '1141',
      position: dmsPosition('2024-07-29T00:59:07.686557Z', '1005'),
    });
    expect(newRow).toMatchObject({
      before: null,
      after: { id: 45, name: 'Jane', age: 31 },
      position: dmsPosition('2024-07-29T00:59:07.686557Z', '1005'),
    });
    const [deleted] = results[6] as ChangeEvent[];
    expect(deleted?.before).toEqual({ age: null, attributes: null, id: 45, name: null });
    expect(deleted?.ts).toBe(Date.parse('2024-07-29T01:09:25.366Z'));
  });

  it('decodes the real DMS capture: aws-dms/dms-kinesis-postgresql-real-capture-with-kinesis-envelope.ndjson', () => {
    const lines = fixtureLines(
      'aws-dms/dms-kinesis-postgresql-real-capture-with-kinesis-envelope.ndjson',
    ) as {
      kinesis: { shard_id: string; seq_no: string; partition: string };
      kinesis_msg_id: string;
    }[];
    const { registry, tableKeys } = freshRegistry();
    const keyed = createDecodeContext({ 'public.json_t': { keyColumns: ['rowid'] } });
    const changes: ChangeEvent[] = [];
    const errors = new Map<string, number>();
    let metadata = 0;
    for (const line of lines) {
      const { kinesis, kinesis_msg_id: _, ...message } = line;
      const origin = { ...originAt(kinesis.seq_no, kinesis.partition), shardId: kinesis.shard_id };
      try {
        const decoded = registry.decodeValue(message, origin, keyed);
        if (decoded.changes.length === 0) metadata++;
        changes.push(...decoded.changes);
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        errors.set(error.code, (errors.get(error.code) ?? 0) + 1);
      }
    }

    expect(lines).toHaveLength(137);
    expect(metadata).toBe(49); // 34 create-table + 15 drop-table control records
    // json_t 14 (configured), astronauts 5 and functional_alltypes 5 (id), awsdms_status 3, awsdms_history 2
    // and films 2 (create-table primary keys)
    expect(changes).toHaveLength(31);
    // The other 57 data records belong to tables without a primary key, an id column or configured keys; the
    // awsdms_suspended_tables delete carries only 2 of its 4 primary key columns.
    expect(Object.fromEntries(errors)).toEqual({ [REASON.MISSING_KEY]: 57 });
    expect(tableKeys.get('awsdms_status')).toEqual(['server_name', 'task_name']);
    const status = changes.filter((c) => c.table === 'awsdms_status');
    expect(status.map((c) => c.aggregateId)).toEqual(
      Array(3).fill('awsdms_status#ip-172-23-0-106|DZ6OKLFYA5BWVG4RYROQUHXU4E'),
    );
    expect(status[0]?.before).toEqual({
      server_name: 'ip-172-23-0-106',
      task_name: 'DZ6OKLFYA5BWVG4RYROQUHXU4E',
    });
    expect(changes.filter((c) => c.table === 'public.films').map((c) => c.aggregateId)).toEqual([
      'public.films#B',
      'public.films#A',
    ]);
    expect(new Set(changes.filter((c) => c.table === 'public.json_t').map((c) => c.aggregateId)).size).toBe(
      14,
    );
    // Each row's positions grow in file order. (Across rows they need not: the parallel full load writes
    // rows out of DMS time order, and rows never compare.)
    for (const id of new Set(changes.map((c) => c.aggregateId))) {
      const positions = changes.filter((c) => c.aggregateId === id).map((c) => c.position);
      expect([...positions].sort()).toEqual(positions);
    }
    expect(changes.map((c) => c.position.slice(0, 3))).toEqual(Array(31).fill('tm:'));
  });

  it('decodes the Lambda event of a create-table and an insert: aws-dms/lambda-kinesis-event-dms-create-table-and-insert-lorrystream.json', () => {
    const { registry } = freshRegistry();
    const entries = kinesisEventRecords(
      fixtureJson('aws-dms/lambda-kinesis-event-dms-create-table-and-insert-lorrystream.json'),
    );
    const outcomes = (entries ?? []).map(
      (e) => decodeKinesisRecord(registry, e.record!, noConfig).outcomes[0]!,
    );

    expect(outcomes.map((o) => o.decoded?.format)).toEqual(['dms', 'dms']);
    expect(outcomes[0]?.decoded?.changes).toEqual([]);
    expect(outcomes[1]?.decoded?.changes[0]).toMatchObject({
      aggregateId: 'public.foo#46',
      op: 'create',
      position: dmsPosition(
        '2024-07-29T00:58:17.983670Z',
        '49590338271490256608559692538361571095921575989136588899',
      ),
      txId: '1139',
    });
    expect(outcomes[1]?.origin).toMatchObject({
      shardId: 'shardId-000000000006',
      approximateArrivalTimestamp: 1545084650998,
    });
  });
});
