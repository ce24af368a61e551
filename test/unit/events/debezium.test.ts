import { describe, expect, it } from 'vitest';
import {
  type ChangeEvent,
  createDecodeContext,
  createDefaultRegistry,
  type DecodeContext,
  REASON,
  type RecordOrigin,
  recordKeyOf,
} from '../../../core/events/index.js';
import { codeOf, fixtureJson, fixtureLines, fixtureSnippets, originAt, repairDocJson } from './fixtures.js';

const registry = createDefaultRegistry();
const noConfig = createDecodeContext();

function decode(value: unknown, origin: RecordOrigin = originAt(1), context: DecodeContext = noConfig) {
  return registry.decodeValue(value, origin, context);
}

function only(value: unknown, origin?: RecordOrigin, context?: DecodeContext): ChangeEvent {
  const { changes } = decode(value, origin, context);
  expect(changes).toHaveLength(1);
  return changes[0]!;
}

/** The same event with real binlog coordinates, for Paimon test data that leaves `source.file` empty. */
function withBinlog(event: unknown, file: string, pos: number): unknown {
  // Shallow copies only: the row images must stay the objects parseJsonExact made (see wasJsonNumber).
  const e = event as { payload?: { source: object }; source?: object };
  if (e.payload !== undefined)
    return { ...e, payload: { ...e.payload, source: { ...e.payload.source, file, pos } } };
  return { ...e, source: { ...e.source, file, pos } };
}

const MYSQL_154 = 'my:0000000003:00000000000000000154:0000000000';

describe('Decoder: debezium (MySQL, bare envelope)', () => {
  it('decodes a create: debezium/debezium-mysql-create-without-schema.json', () => {
    const change = only(fixtureJson('debezium/debezium-mysql-create-without-schema.json'));

    expect(change).toEqual({
      format: 'debezium',
      table: 'inventory.customers',
      aggregateId: 'inventory.customers#1004',
      op: 'create',
      // the connector's logical server name (source.name)
      source: 'debezium:mysql-server-1',
      position: MYSQL_154,
      before: null,
      after: { id: 1004, first_name: 'Anne', last_name: 'Kretchmar', email: 'annek@noanswer.org' },
      // source.ts_ms is 0 in this event, so the envelope's ts_ms is the best time there is
      ts: 1465491411815,
      txId: null,
    });
  });

  it('decodes an update with both images: debezium/debezium-mysql-update-without-schema.json', () => {
    const change = only(fixtureJson('debezium/debezium-mysql-update-without-schema.json'));

    expect(change.op).toBe('update');
    expect(change.aggregateId).toBe('inventory.customers#1004');
    expect(change.before).toMatchObject({ first_name: 'Anne-Marie' });
    expect(change.after).toMatchObject({ first_name: 'Anne' });
  });

  it('keeps a column the other events lack: debezium/debezium-mysql-update-extra-column-without-schema.json', () => {
    const change = only(fixtureJson('debezium/debezium-mysql-update-extra-column-without-schema.json'));

    expect(change.before?.middle_name).toBe('L');
    expect(change.after?.middle_name).toBe('L');
    expect(change.after?.first_name).toBe('Anne');
  });

  it('reads the schema envelope to the same change: debezium/debezium-mysql-create-with-schema.json', () => {
    const withSchema = only(fixtureJson('debezium/debezium-mysql-create-with-schema.json'));
    const bare = only(fixtureJson('debezium/debezium-mysql-create-without-schema.json'));

    expect(withSchema).toEqual(bare);
  });
});

describe('Decoder: debezium (MySQL, Paimon test data)', () => {
  const file = 'debezium/debezium-mysql-create-delete-update-without-schema.license-header.jsonl.txt';

  it('parks events whose source.file is empty as MISSING_POSITION', () => {
    const events = fixtureLines(file);

    expect(events).toHaveLength(4);
    expect(events.map((e) => codeOf(() => decode(e)))).toEqual(Array(4).fill(REASON.MISSING_POSITION));
  });

  it('with binlog coordinates, reads c/d/u/c including a partial before image', () => {
    const changes = fixtureLines(file).map((e, i) => only(withBinlog(e, 'mysql-bin.000007', 100 + i)));

    expect(changes.map((c) => [c.op, c.aggregateId])).toEqual([
      ['create', 'test.product#105'],
      ['delete', 'test.product#101'],
      ['update', 'test.product#105'],
      ['create', 'test.product#107'],
    ]);
    // The update's before image holds only the changed column (schema evolution test data).
    expect(changes[2]?.before).toEqual({ address: 'Shanghai' });
    expect(changes[2]?.after?.address).toBe('Beijing');
    expect(changes[2]?.position).toBe('my:0000000007:00000000000000000102:0000000000');
    expect(changes[1]?.before).toEqual({
      id: 101,
      name: 'scooter',
      description: 'Small 2-wheel scooter',
      weight: 3.14,
    });
  });

  it('reads {"schema": null, "payload"}: debezium/debezium-mysql-delete-without-schema.license-header.jsonl.txt', () => {
    const [event] = fixtureLines('debezium/debezium-mysql-delete-without-schema.license-header.jsonl.txt');

    expect(codeOf(() => decode(event))).toBe(REASON.MISSING_POSITION);
    const change = only(withBinlog(event, 'mysql-bin.000002', 4));
    expect(change.op).toBe('delete');
    expect(change.aggregateId).toBe('test.product#101');
    expect(change.after).toBeNull();
    expect(change.ts).toBe(1596684883000);
  });

  it('reads an op c snapshot row as a read: debezium/debezium-mysql-create-with-schema-products.license-header.jsonl.txt', () => {
    const [event] = fixtureLines(
      'debezium/debezium-mysql-create-with-schema-products.license-header.jsonl.txt',
    );
    const change = only(event);

    expect(change.op).toBe('read'); // op c with source.snapshot "true" (Debezium 1.1)
    expect(change.aggregateId).toBe('inventory.products#101');
    expect(change.position).toBe(MYSQL_154);
    expect(change.after?.weight).toBe(3.140000104904175);
    expect(change.ts).toBe(1589355606100);
  });

  it('parks the all-types row for its empty binlog file, and needs its _id key configured', () => {
    const [event] = fixtureLines(
      'debezium/debezium-mysql-snapshot-read-alltypes-with-schema.license-header.jsonl.txt',
    );

    expect(codeOf(() => decode(event))).toBe(REASON.MISSING_KEY);
    const keyed = createDecodeContext({ 'paimon_sync_table.all_types_table': { keyColumns: ['_id'] } });
    expect(codeOf(() => decode(event, originAt(1), keyed))).toBe(REASON.MISSING_POSITION);
    const change = only(withBinlog(event, 'mysql-bin.000001', 9), originAt(1), keyed);
    expect(change.aggregateId).toBe('paimon_sync_table.all_types_table#1');
    expect(change.op).toBe('read');
  });
});

describe('Decoder: debezium (Postgres)', () => {
  it('reads snapshot rows with string snapshot markers: debezium/debezium-postgres-snapshot-read-with-schema-customers.json', () => {
    const events = fixtureJson(
      'debezium/debezium-postgres-snapshot-read-with-schema-customers.json',
    ) as unknown[];
    const changes = events.map((e) => only(e));

    expect(changes.map((c) => c.aggregateId)).toEqual([
      'inventory.customers#1001',
      'inventory.customers#1002',
      'inventory.customers#1003',
      'inventory.customers#1004',
    ]);
    expect(changes.every((c) => c.op === 'read')).toBe(true);
    // One snapshot, one LSN; sequence is [null, "36313560"], so the commit part is 0.
    expect(new Set(changes.map((c) => c.position))).toEqual(
      new Set(['pg:00000000000000000000:00000000000036313560']),
    );
    expect(changes.map((c) => c.txId)).toEqual(['791', '791', '791', '791']);
    expect(changes[3]?.after).toEqual({
      id: 1004,
      first_name: 'Anne',
      last_name: 'Kretchmar',
      email: 'annek@noanswer.org',
    });
  });

  it('reads first_in_data_collection and doubles: debezium/debezium-postgres-snapshot-read-with-schema-products.json', () => {
    const events = fixtureJson(
      'debezium/debezium-postgres-snapshot-read-with-schema-products.json',
    ) as unknown[];
    const changes = events.map((e) => only(e));

    expect(changes).toHaveLength(9);
    expect(changes.map((c) => c.aggregateId.split('#')[1])).toEqual([
      '101',
      '102',
      '103',
      '104',
      '105',
      '106',
      '107',
      '108',
      '109',
    ]);
    expect(changes[0]?.op).toBe('read');
    expect(changes.map((c) => c.after?.weight)).toEqual([3.14, 8.1, 0.8, 0.75, 0.875, 1, 5.3, 0.1, 22.2]);
    expect(changes[8]?.ts).toBe(1755814412998);
  });

  it('reads the documented create: debezium/debezium-postgres-docs-create-with-schema.json', () => {
    const change = only(fixtureJson('debezium/debezium-postgres-docs-create-with-schema.json'));

    expect(change.table).toBe('public.customers');
    expect(change.aggregateId).toBe('public.customers#1');
    // sequence ["24023119","24023128"]: last commit LSN, then this change's LSN
    expect(change.position).toBe('pg:00000000000024023119:00000000000024023128');
    expect(change.txId).toBe('555');
    expect(change.op).toBe('read'); // the doc example flags it snapshot: true
  });
});

describe('Decoder: debezium (Postgres documentation examples)', () => {
  const snippets = fixtureSnippets('debezium/debezium-postgres-docs-event-examples.snippets.txt');
  const body = (lines: string) => snippets.find((s) => s.header.includes(`postgresql.adoc:${lines}`))!.body;
  const source = {
    connector: 'postgresql',
    db: 'postgres',
    schema: 's1',
    table: 'a',
    lsn: 53195832,
    sequence: '["53195800","53195832"]',
  };

  it('holds the nine documented blocks', () => {
    expect(snippets).toHaveLength(9);
  });

  it('recognises transaction BEGIN and END markers and decodes them to nothing', () => {
    const [begin, end] = body('459-482')
      .split(/\n\n/)
      .map((text) => JSON.parse(text) as unknown);

    expect(decode(begin)).toEqual({ changes: [], tombstone: false, format: 'debezium-transaction' });
    expect(decode(end)).toEqual({ changes: [], tombstone: false, format: 'debezium-transaction' });
  });

  it('keeps the transaction id of an enriched event without the LSN part', () => {
    const event = repairDocJson(body('501-519'), source);
    const change = only(event, originAt(1), createDecodeContext({ 's1.a': { keyColumns: ['pk'] } }));

    // BEGIN says 571:53195829 and END 571:53195832: only "571" identifies the transaction.
    expect(change.txId).toBe('571');
    expect(change.aggregateId).toBe('s1.a#2');
    expect(change.position).toBe('pg:00000000000053195800:00000000000053195832');
    expect(change.ts).toBe(1580390884335); // ts_ms printed as a string in the doc
  });

  it('uses the documented key as Debezium Server writes it into the partition key', () => {
    const key = JSON.stringify(repairDocJson(body('639-658')));
    const event = repairDocJson(body('501-519'), source);

    expect(recordKeyOf(key)).toEqual({ id: '1' });
    expect(only(event, originAt(1, key)).aggregateId).toBe('s1.a#1');
  });

  it('orders the documented update and delete after the create, keeping PK-only before images', () => {
    const update = only(repairDocJson(body('1047-1079')));
    const remove = only(repairDocJson(body('1152-1179')));

    expect(update.before).toEqual({ id: 1 });
    expect(update.after?.first_name).toBe('Anne Marie');
    expect(update.position).toBe('pg:00000000000000000000:00000000000024023128');
    expect(remove.op).toBe('delete');
    expect(remove.aggregateId).toBe('public.customers#1');
    expect(remove.before).toEqual({ id: 1 });
    expect(remove.position > update.position).toBe(true);
  });

  it('parks truncate and logical decoding messages with their own codes', () => {
    expect(codeOf(() => decode(repairDocJson(body('1251-1274'))))).toBe(REASON.TRUNCATE);
    expect(codeOf(() => decode(repairDocJson(body('1330-1357'))))).toBe(REASON.LOGICAL_MESSAGE);
    // The doc's non-transactional message block is missing a closing brace; repaired here.
    expect(codeOf(() => decode(repairDocJson(`${body('1365-1390')}}`)))).toBe(REASON.LOGICAL_MESSAGE);
  });
});

describe('Decoder: debezium (MySQL documentation examples)', () => {
  const snippets = fixtureSnippets('debezium/debezium-mysql-docs-event-examples.snippets.txt');
  const body = (lines: string) =>
    snippets.find((s) => s.header.includes(`shared-mariadb-mysql.adoc:${lines}`))!.body;

  it('decodes create, update and delete in binlog order, with {context} placeholders in the source', () => {
    const create = only(repairDocJson(body('1145-1349')));
    const update = only(repairDocJson(body('1444-1482')));
    const remove = only(repairDocJson(body('1568-1601')));

    expect([create.op, update.op, remove.op]).toEqual(['create', 'update', 'delete']);
    expect([create.position, update.position, remove.position]).toEqual([
      MYSQL_154,
      'my:0000000003:00000000000000000484:0000000000',
      'my:0000000003:00000000000000000805:0000000000',
    ]);
    expect(new Set([create.aggregateId, update.aggregateId, remove.aggregateId])).toEqual(
      new Set(['inventory.customers#1004']),
    );
  });

  it('keeps a MySQL GTID transaction id whole, and recognises the markers', () => {
    const [begin] = body('874-897')
      .split(/\n\n/)
      .map((text) => JSON.parse(text) as unknown);
    const source = { connector: 'mysql', db: 's1', table: 'a', file: 'mysql-bin.000003', pos: 900, row: 0 };
    const keyed = createDecodeContext({ 's1.a': { keyColumns: ['pk'] } });
    const change = only(repairDocJson(body('916-934'), source), originAt(1), keyed);

    expect(decode(begin).format).toBe('debezium-transaction');
    expect(change.txId).toBe('0e4d5dcd-a33b-11ea-80f1-02010a22a99e:10');
  });

  it('recognises the schema-change message and parks the truncate', () => {
    expect(decode(repairDocJson(body('210-326'))).format).toBe('debezium-schema-change');
    expect(codeOf(() => decode(repairDocJson(body('1681-1707'))))).toBe(REASON.TRUNCATE);
  });

  it('reads the standalone valid blocks the same way', () => {
    expect(only(fixtureJson('debezium/debezium-mysql-docs-create-with-schema.json')).position).toBe(
      MYSQL_154,
    );
    expect(decode(fixtureJson('debezium/debezium-mysql-docs-schema-change-topic-message.json'))).toEqual({
      changes: [],
      tombstone: false,
      format: 'debezium-schema-change',
    });
    const key = fixtureJson('debezium/debezium-mysql-docs-key-with-schema.json');
    // A key is not a change; as a Debezium Server partition key it names the row.
    expect(codeOf(() => decode(key))).toBe(REASON.UNKNOWN_FORMAT);
    expect(recordKeyOf(JSON.stringify(key))).toEqual({ id: 1001 });
  });
});

describe('Decoder: debezium (Kinesis producers)', () => {
  it('reads the Debezium-Embedded demo records, whose source names no connector', () => {
    const [snippet] = fixtureSnippets('debezium/debezium-embedded-kinesis-example-records.snippets.txt');
    const documents = snippet!.body
      .split(/\n(?=\{)/)
      .filter((text) => text.startsWith('{'))
      .map((text) => JSON.parse(text.replace(/\n\.\.\.$/, '')) as unknown);
    const changes = documents.map((d) => only(d));

    expect(changes.map((c) => c.aggregateId)).toEqual([
      'inventory.customers#1001',
      'inventory.customers#1002',
    ]);
    expect(changes.every((c) => c.position === MYSQL_154)).toBe(true); // file/pos tell MySQL
    expect(changes.every((c) => c.op === 'read')).toBe(true); // op c, snapshot true
  });

  it("reads the demo's current {key, value} wrapper, its key, and a tombstone without value", () => {
    const [snippet] = fixtureSnippets('debezium/debezium-embedded-kinesis-example-records.snippets.txt');
    const value = JSON.parse(snippet!.body.split(/\n(?=\{)/)[0]!) as Record<string, unknown>;

    expect(only({ key: { customer_no: 'C-7' }, value }).aggregateId).toBe('inventory.customers#C-7');
    expect(decode({ key: { id: 1001 } })).toEqual({ changes: [], tombstone: true, format: null });
  });

  it('uses the Debezium Server partition key (key converter with schema) and the null key "default"', () => {
    const docs = fixtureSnippets('debezium/debezium-server-kinesis-sink-docs.snippets.txt')
      .map((s) => s.body)
      .join('\n');
    expect(docs).toContain('debezium.sink.kinesis.null.key');
    expect(docs).toMatch(
      /converter\.type = key\n\tdecimal\.format = BASE64\n\tschemas\.cache\.size = 1000\n\tschemas\.enable = true/,
    );

    const event = fixtureJson('debezium/debezium-mysql-create-without-schema.json');
    const keyWithSchema = JSON.stringify({
      schema: { type: 'struct', fields: [{ type: 'int32', optional: false, field: 'customer_no' }] },
      payload: { customer_no: 77 },
    });
    expect(only(event, originAt(1, keyWithSchema)).aggregateId).toBe('inventory.customers#77');
    expect(only(event, originAt(1, 'default')).aggregateId).toBe('inventory.customers#1004');
    // Debezium Server sends a tombstone as a record with empty data.
    expect(registry.decode(new Uint8Array(), originAt(1, keyWithSchema), noConfig)).toEqual({
      changes: [],
      tombstone: true,
      format: null,
    });
  });
});
