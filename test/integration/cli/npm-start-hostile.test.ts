import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostileCorpus, lambdaEventOf } from '../../helpers/hostile-corpus.js';
import { spawnScript } from '../../helpers/processes.js';

/** Every record of the hostile corpus, then real Debezium snapshot records, as one Lambda event file. */
function mixedInput(): { path: string; records: number } {
  const hostile = hostileCorpus().flatMap((e) => e.records);
  const good = JSON.parse(
    readFileSync(
      new URL(
        '../../fixtures/debezium/debezium-postgres-snapshot-read-with-schema-customers.json',
        import.meta.url,
      ),
      'utf8',
    ),
  ) as unknown;
  const path = join(tmpdir(), `cdcp-hostile-${process.pid}.json`);
  const event = lambdaEventOf(hostile);
  const goodRecord = {
    ...event.Records[0]!,
    kinesis: { ...event.Records[0]!.kinesis, data: Buffer.from(JSON.stringify(good)).toString('base64') },
  };
  writeFileSync(path, JSON.stringify({ Records: [...event.Records, goodRecord] }));
  return { path, records: hostile.length + 1 };
}

describe('npm start -- --input with good and hostile records', () => {
  it('applies or parks every record in one delivery, verifies, and dumps what it parked', async () => {
    const input = mixedInput();
    // One shard: the corpus reuses aggregate ids under different partition keys, and only one shard keeps
    // them in one order (positions from sequence numbers do not compare across shards).
    const run = spawnScript('localstack/run.ts', [
      '--input',
      input.path,
      '--shards',
      '1',
      '--until-drained',
      '--json',
      '--dump-parked',
      '-',
    ]);
    const { code } = await run.exited;
    rmSync(input.path);

    expect(code, run.stderr()).toBe(0);
    const lines = run.stdout().trim().split('\n');
    const summary = JSON.parse(lines.at(-1)!);
    expect(summary).toMatchObject({ verified: true, inFlight: 0, notPublished: 1 });
    // The record one byte over 1 MiB cannot be published; every other record is accounted for.
    expect(summary.produced).toBe(input.records - 1);
    const { applied, duplicatesSkipped, parked, noChange } = summary;
    expect(applied + duplicatesSkipped + parked + noChange).toBeGreaterThanOrEqual(summary.produced);
    // No retry loop: the consumers counted exactly the outcome, so no record was delivered twice.
    expect(summary.difference).toBeUndefined();
    expect(summary.counted).toEqual({ applied, duplicates: duplicatesSkipped, parked, unparked: 0 });

    const dumped = lines.slice(0, -1).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(dumped).toHaveLength(parked);
    for (const item of dumped)
      expect(Object.keys(item).slice(0, 4)).toEqual(['aggregate', 'position', 'reason', 'message']);
    const reasons = new Set(dumped.map((d) => d.reason));
    for (const reason of [
      'NOT_JSON',
      'TOO_DEEP',
      'DECIMAL_OUT_OF_RANGE',
      'KPL_CORRUPT',
      'UNSTORABLE',
      'TRUNCATE',
      'MISSING_KEY',
    ])
      expect(reasons, reason).toContain(reason);
    for (const item of dumped) expect(Buffer.byteLength(String(item.message))).toBeLessThanOrEqual(1_024);
  });
});
