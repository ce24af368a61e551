import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { spawnScript } from '../../helpers/processes.js';

const fixture = (path: string) => fileURLToPath(new URL(`../../fixtures/${path}`, import.meta.url));

async function runInput(path: string) {
  const out = join(tmpdir(), `cdcp-formats-${process.pid}-${Math.random().toString(36).slice(2)}.jsonl`);
  const run = spawnScript('localstack/run.ts', [
    '--input',
    fixture(path),
    '--until-drained',
    '--dump-state',
    out,
    '--json',
  ]);
  const { code } = await run.exited;
  expect(code, run.stderr()).toBe(0);
  const summary = JSON.parse(run.stdout().trim().split('\n').at(-1)!);
  const text = readFileSync(out, 'utf8');
  rmSync(out);
  const rows = text
    .trim()
    .split('\n')
    .map(
      (l) =>
        JSON.parse(l) as {
          aggregateId: string;
          deleted: boolean;
          position: string;
          state: Record<string, unknown> | null;
        },
    );
  return { summary, rows: new Map(rows.map((r) => [r.aggregateId, r])) };
}

describe('npm start -- --input with real CDC captures', () => {
  it('applies an AWS DMS capture: load, insert, update, primary-key change and delete', async () => {
    const { summary, rows } = await runInput(
      'aws-dms/dms-postgres-load-insert-update-pkchange-delete-sequence-commons-codec.jsonl',
    );
    expect(summary).toMatchObject({ verified: true, parked: 0 });
    expect(rows.get('public.foo#42')).toMatchObject({
      deleted: false,
      state: { id: 42, name: 'John', age: 33 },
    });
    // The primary key change is a delete of the old aggregate and a create of the new one, in that order.
    // Positions lead with the time DMS produced the record, which orders a row across shards.
    expect(rows.get('public.foo#45')).toMatchObject({ deleted: true, state: null });
    for (const row of rows.values()) expect(row.position).toMatch(/^tm:\d{20}:\d{129}:\d{10}$/);
  });

  it('applies DynamoDB-via-Kinesis records: insert, modify and remove of a composite key', async () => {
    const { summary, rows } = await runInput(
      'dynamodb-kinesis/ddb-kds-insert-modify-remove-composite-key-microsecond-lorrystream.jsonl',
    );
    expect(summary).toMatchObject({ verified: true, produced: 3, applied: 3 });
    expect(rows.get('table-testdrive#foo|2024-07-12T01:17:42')).toMatchObject({ deleted: true, state: null });
    expect(rows.get('table-testdrive#qux|2024-07-12T01:17:42')).toMatchObject({
      deleted: false,
      state: { device: 'qux', temperature: 42.42 },
    });
    // Microsecond ApproximateCreationDateTime orders the changes, and is the whole position.
    expect(rows.get('table-testdrive#foo|2024-07-12T01:17:42')!.position).toBe('dd:00001720742321848352');
  });
});
