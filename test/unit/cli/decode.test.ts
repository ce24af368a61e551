import { execFile } from 'node:child_process';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../../bin/commands/command.js';
import { decodeCommand } from '../../../bin/commands/decode.js';
import { createDefaultRegistry, decodeKinesisRecord, REASON } from '../../../core/events/index.js';
import { aggregate } from '../../../core/producer/kpl-aggregator.js';
import { hostileCorpus, lambdaEventOf } from '../../helpers/hostile-corpus.js';
import { allFixtureFiles, fixturePath, readFixture } from '../events/fixtures.js';

const CHANGE_KEYS = ['format', 'table', 'aggregateId', 'op', 'position', 'before', 'after', 'ts', 'txId'];

interface Run {
  readonly code: number;
  readonly lines: Record<string, unknown>[];
  readonly stderr: string;
}

async function decode(args: string[], stdin: string | Buffer = ''): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  const code = await decodeCommand.run({ args, stdout, stderr, stdin: Readable.from([stdin]), env: {} });
  const text = out.join('');
  return {
    code,
    lines:
      text === ''
        ? []
        : text
            .trimEnd()
            .split('\n')
            .map((l) => JSON.parse(l) as Record<string, unknown>),
    stderr: err.join(''),
  };
}

const errorCode = (line: Record<string, unknown>) => (line.error as { code: string } | undefined)?.code;
const errorMessage = (line: Record<string, unknown> | undefined) =>
  (line?.error as { message: string } | undefined)?.message ?? '';

describe('Command: cdcp decode', () => {
  it('prints each change of a DMS capture in input order, metadata records printing nothing', async () => {
    const { code, lines, stderr } = await decode([
      fixturePath('aws-dms/dms-postgres-load-insert-update-pkchange-delete-sequence-commons-codec.jsonl'),
    ]);

    expect(code).toBe(0);
    expect(lines.map((l) => [l.op, l.aggregateId])).toEqual([
      ['read', 'public.foo#42'],
      ['create', 'public.foo#46'],
      ['update', 'public.foo#42'],
      ['delete', 'public.foo#46'],
      ['create', 'public.foo#45'],
      ['delete', 'public.foo#45'],
    ]);
    expect(Object.keys(lines[1]!)).toEqual(CHANGE_KEYS);
    // Outside a Kinesis event, a record's index is its sequence number: the insert is record 3.
    expect(lines[1]?.position).toBe(`tm:00001722214697983670:${'3'.padStart(129, '0')}:0000000000`);
    expect(stderr).toBe(
      'cdcp decode: 8 record(s): 6 change(s), 0 error(s), 0 tombstone(s), 3 metadata record(s)\n',
    );
  });

  it('reads a Lambda event from stdin, decoding base64 and UTF-8', async () => {
    const { lines } = await decode(
      ['-'],
      readFixture('dynamodb-kinesis/lambda-kinesis-event-ddb-kds-insert-korean-utf8-businfo.json'),
    );

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      format: 'dynamodb',
      aggregateId: 'dynamodb-businfo#227000019|1649931248',
      after: { PlateNo: '경기75자8505' },
      ts: 1649931248740,
    });
  });

  it('takes key columns from --key', async () => {
    const file = fixturePath('aws-dms/dms-data-load-schema-table-cratedb-toolkit.json');
    const without = await decode([file]);
    const keyed = await decode(['--key', 'testdrive-data.foobar=rowid', file]);

    expect(errorCode(without.lines[0]!)).toBe(REASON.MISSING_KEY);
    expect(without.lines[0]?.index).toBe(0);
    expect(keyed.lines[0]).toMatchObject({ aggregateId: 'testdrive-data.foobar#1', op: 'read' });
  });

  it('reads every record as the format given by --format', async () => {
    const debezium = fixturePath('debezium/debezium-mysql-create-without-schema.json');
    const unwrapped = fixturePath('debezium/debezium-unwrapped-after-state-only.json');

    expect(errorCode((await decode(['--format', 'dms', debezium])).lines[0]!)).toBe(REASON.UNKNOWN_FORMAT);
    expect(errorCode((await decode([unwrapped])).lines[0]!)).toBe(REASON.UNKNOWN_FORMAT);
    expect(errorCode((await decode(['--format', 'debezium', unwrapped])).lines[0]!)).toBe(
      REASON.MISSING_TABLE,
    );
  });

  it('numbers KPL sub-records with their record index and sub-sequence number', async () => {
    const { lines } = await decode([
      fixturePath('kpl-aggregation/kpl-aggregated-lambda-kinesis-record-with-explicit-hash-keys.input.json'),
    ]);

    expect(lines.map((l) => [errorCode(l), l.index, l.subSequenceNumber])).toEqual([
      [REASON.NOT_JSON, 0, 0],
      [REASON.NOT_JSON, 0, 1],
      [REASON.NOT_JSON, 0, 2],
      [REASON.NOT_JSON, 0, 3],
    ]);
    expect(errorMessage(lines[0])).toContain('RECORD 22 peeobhczbzdmskboupgyq');
  });

  it('reads a JSON array element by element', async () => {
    const { lines } = await decode([
      fixturePath('debezium/debezium-postgres-snapshot-read-with-schema-customers.json'),
    ]);

    expect(lines.map((l) => l.aggregateId)).toEqual([
      'inventory.customers#1001',
      'inventory.customers#1002',
      'inventory.customers#1003',
      'inventory.customers#1004',
    ]);
  });

  it('reports documentation blocks that are not JSON by input line, and decodes the valid one', async () => {
    const { lines } = await decode([
      fixturePath('debezium/debezium-postgres-docs-event-examples.snippets.txt'),
    ]);

    expect(lines.filter((l) => l.format === 'debezium').map((l) => l.aggregateId)).toEqual([
      'public.customers#1',
    ]);
    expect(lines.filter((l) => errorCode(l) === REASON.NOT_JSON)).toHaveLength(7);
    expect(errorMessage(lines[0])).toMatch(/^input line 29: /);
  });

  it('adds ttlDelete to a DynamoDB TTL deletion', async () => {
    const [, , remove] = readFixture(
      'dynamodb-kinesis/ddb-kds-insert-modify-remove-composite-key-microsecond-lorrystream.jsonl',
    ).split('\n');
    const expired = {
      ...JSON.parse(remove!),
      userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
    };
    const { lines } = await decode(['-'], JSON.stringify(expired));

    expect(Object.keys(lines[0]!)).toEqual([...CHANGE_KEYS, 'ttlDelete']);
    expect(lines[0]?.ttlDelete).toBe(true);
  });

  it('exits 0 with well-formed lines for every fixture', async () => {
    for (const file of allFixtureFiles()) {
      const { code, lines } = await decode([fixturePath(file)]);

      expect([file, code]).toEqual([file, 0]);
      for (const line of lines) {
        if ('error' in line) {
          expect(Object.values(REASON)).toContain(errorCode(line));
          expect(typeof line.index).toBe('number');
        } else expect(Object.keys(line).filter((k) => k !== 'ttlDelete')).toEqual(CHANGE_KEYS);
      }
    }
  });

  it('rejects bad options and unreadable files, saying what to do', async () => {
    await expect(decode(['--key', 'orders'])).rejects.toThrow(
      /--key "orders" must look like TABLE=COL1,COL2/,
    );
    await expect(decode(['--format', 'avro'])).rejects.toThrow(
      /--format must be one of auto, debezium, dms, dynamodb/,
    );
    await expect(decode(['a.json', 'b.json'])).rejects.toThrow(/at most one FILE/);
    const missing = decode(['/nonexistent/records.json']);
    await expect(missing).rejects.toBeInstanceOf(CliError);
    await expect(missing).rejects.toMatchObject({ exitCode: 1, message: expect.stringContaining('ENOENT') });
  });

  it('says NOT_JSON for a record that is not valid UTF-8, as the consumer does, and decodes the others', async () => {
    const good = '{"__table": "t", "id": 1}';
    const bad = Buffer.from('{"__table": "t", "id": 2, "name": "\xff\xfe"}', 'latin1');
    const { code, lines } = await decode(
      ['-'],
      Buffer.concat([Buffer.from(`${good}\n`), bad, Buffer.from(`\n${good}\n`)]),
    );

    expect(code).toBe(0);
    expect(lines.map((l) => errorCode(l) ?? l.aggregateId)).toEqual(['t#1', REASON.NOT_JSON, 't#1']);
    expect(errorMessage(lines[1])).toMatch(/^input line 2: not valid UTF-8/);
  });

  it('reports binary input as one record the consumer cannot decode, exiting 1', async () => {
    const gzip = Buffer.from('1f8b0800000000000003ab56ca4c51b232d4510200', 'hex');
    const { code, lines, stderr } = await decode(['-'], gzip);

    expect(code).toBe(1);
    expect(lines).toEqual([
      {
        error: { code: REASON.NOT_JSON, message: expect.stringMatching(/^record data is not UTF-8/) },
        index: 0,
      },
    ]);
    expect(stderr).toMatch(
      /^cdcp decode: 1 record\(s\): 0 change\(s\), 1 error\(s\).*holds no JSON document/,
    );
  });

  it('decodes a raw KPL aggregate as the consumer would, exiting 0', async () => {
    const data = aggregate('t#1', [
      Buffer.from('{"__table": "t", "id": 1}'),
      Buffer.from('{"__table": "t"}'),
    ]);
    const { code, lines } = await decode(['-'], Buffer.from(data));

    expect(code).toBe(0);
    expect(lines.map((l) => [errorCode(l) ?? l.aggregateId, l.subSequenceNumber])).toEqual([
      ['t#1', undefined],
      [REASON.MISSING_KEY, 1],
    ]);
  });

  it('prints one error line for a record nesting 100,000 levels, without a stack trace', async () => {
    const deep = `{"__table": "t", "id": 2, "d": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const { code, lines } = await decode(
      ['-'],
      `{"__table": "t", "id": 1}\n${deep}\n{"__table": "t", "id": 3}\n`,
    );

    expect(code).toBe(0);
    expect(lines.map((l) => errorCode(l) ?? l.aggregateId)).toEqual(['t#1', REASON.TOO_DEEP, 't#3']);
    expect(errorMessage(lines[1]).length).toBeLessThan(1200);
  });

  it('prints an error line where a decoder used to throw something else (a key column named toString)', async () => {
    const control =
      '{"control": {"table-def": {"primary-key": ["toString"]}}, "metadata": {"record-type": "control", "operation": "create-table", "schema-name": "s", "table-name": "t", "timestamp": "2024-07-29T00:58:17.983670Z"}}';
    const data =
      '{"data": {"id": 1}, "metadata": {"record-type": "data", "operation": "insert", "schema-name": "s", "table-name": "t", "timestamp": "2024-07-29T00:58:17.983670Z"}}';
    const { code, lines } = await decode(['-'], `${control}\n${data}\n`);

    expect(code).toBe(0);
    expect(lines.map(errorCode)).toEqual([REASON.MISSING_KEY]);
  });

  it('applies the record size limit to each record, as the consumer does', async () => {
    const { lines } = await decode(['-'], `{"__table": "t", "id": 1, "s": "${'x'.repeat(1_048_576)}"}\n`);

    expect(lines.map(errorCode)).toEqual([REASON.TOO_LARGE]);
  });

  it('runs through the cdcp router', async () => {
    const cdcp = fileURLToPath(new URL('../../../bin/cdcp.js', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [
      cdcp,
      'decode',
      fixturePath('aws-dms/lambda-kinesis-event-dms-create-table-and-insert-lorrystream.json'),
    ]);

    expect(JSON.parse(stdout)).toMatchObject({ format: 'dms', aggregateId: 'public.foo#46', txId: '1139' });
  }, 30_000);
});

describe('Command: cdcp decode on the hostile corpus', () => {
  for (const entry of hostileCorpus())
    it(`agrees with the consumer's decoders: ${entry.category}: ${entry.name}`, async () => {
      // What the consumer's first pass makes of each record: de-aggregation, then the registry.
      const registry = createDefaultRegistry();
      const expected = entry.records.flatMap((record, index) => {
        const result = decodeKinesisRecord(registry, record, entry.context);
        return result.outcomes.flatMap((o) => {
          if (o.error !== undefined)
            return [
              {
                code: o.error.code,
                index,
                ...(result.aggregated ? { subSequenceNumber: o.origin.subSequenceNumber } : {}),
              },
            ];
          return o.decoded.changes.map((c) =>
            JSON.parse(
              JSON.stringify({ aggregateId: c.aggregateId, op: c.op, position: c.position, after: c.after }),
            ),
          );
        });
      });
      const keys = Object.entries(entry.keyColumns).flatMap(([table, columns]) => [
        '--key',
        `${table}=${columns.join(',')}`,
      ]);
      const { code, lines } = await decode([...keys, '-'], JSON.stringify(lambdaEventOf(entry.records)));

      expect(code).toBe(0);
      expect(
        lines.map((l) =>
          'error' in l
            ? {
                code: errorCode(l),
                index: l.index,
                ...('subSequenceNumber' in l ? { subSequenceNumber: l.subSequenceNumber } : {}),
              }
            : { aggregateId: l.aggregateId, op: l.op, position: l.position, after: l.after },
        ),
      ).toEqual(expected);
    });
});
