import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/eventually.js';
import { enginePorts, processesOnPorts, spawnScript } from '../../helpers/processes.js';

const FIXTURES = new URL('../../fixtures/', import.meta.url);

describe('npm start (localstack/run.ts) as a user runs it', () => {
  it('runs to drained with --json, verifies, and leaves no engine behind', async () => {
    const run = spawnScript('localstack/run.ts', [
      '--events',
      '600',
      '--until-drained',
      '--json',
      '--inject-poison',
      '2',
      '--inject-duplicates',
      '0.1',
    ]);
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(0);
    const last = run.stdout().trim().split('\n').at(-1)!;
    const summary = JSON.parse(last);
    expect(Object.keys(summary)).toEqual(
      expect.arrayContaining([
        'produced',
        'applied',
        'duplicatesSkipped',
        'parked',
        'quarantinedAggregates',
        'aggregates',
        'verified',
        'eventsPerSecond',
        'latency',
        'durationMs',
      ]),
    );
    expect(summary).toMatchObject({ verified: true, quarantinedAggregates: 2 });
    // Every applied change was measured; a generated change carries its commit time.
    expect(summary.latency.sourceToAppliedMs.count).toBe(summary.applied);
    expect(summary.latency.arrivalToAppliedMs.count).toBe(summary.applied);
    const ports = enginePorts(run.stderr());
    expect(ports).toHaveLength(2);
    expect(processesOnPorts(ports)).toEqual([]);
  });

  it('stops cleanly on Ctrl-C (SIGINT): summary printed, engines stopped', async () => {
    const run = spawnScript('localstack/run.ts', ['--rate', '500']);
    await eventually(
      'the first progress',
      async () => (run.stderr().includes('produced') ? true : undefined),
      { timeoutMs: 60_000 },
    );
    const ports = enginePorts(run.stderr());
    expect(processesOnPorts(ports).length).toBeGreaterThan(0);
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    expect(code).toBe(0);
    expect(run.stderr()).toMatch(
      /[\d,]+ produced = [\d,]+ applied \+ [\d,]+ duplicates skipped \+ [\d,]+ parked/,
    );
    expect(run.stderr()).toMatch(/^live dashboard: http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{32} /m);
    expect(run.stderr()).toMatch(
      /^latency: source → applied p50 [\d,]+ ms, p99 [\d,]+ ms, max [\d,]+ ms over [\d,]+ changes; arrival → applied p50 [\d,]+ ms/m,
    );
    expect(processesOnPorts(ports)).toEqual([]);
  });

  it('leaves no engine behind even when the run itself is killed with SIGKILL', async () => {
    const run = spawnScript('localstack/run.ts', ['--rate', '200']);
    await eventually('engines', async () => (enginePorts(run.stderr()).length === 2 ? true : undefined), {
      timeoutMs: 60_000,
    });
    const ports = enginePorts(run.stderr());
    run.child.kill('SIGKILL');
    await run.exited;
    await eventually(
      'engines to stop',
      async () => (processesOnPorts(ports).length === 0 ? true : undefined),
      { timeoutMs: 20_000 },
    );
  });

  it('publishes an input file of real Debezium events and dumps the state', async () => {
    const out = join(tmpdir(), `cdcp-state-${process.pid}.jsonl`);
    const input = new URL('debezium/debezium-postgres-snapshot-read-with-schema-customers.json', FIXTURES)
      .pathname;
    const run = spawnScript('localstack/run.ts', [
      '--input',
      input,
      '--until-drained',
      '--dump-state',
      out,
      '--json',
    ]);
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(0);
    expect(JSON.parse(run.stdout().trim().split('\n').at(-1)!)).toMatchObject({
      verified: true,
      produced: 4,
    });
    const text = readFileSync(out, 'utf8');
    rmSync(out);
    const rows = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => r.aggregateId)).toEqual([
      'inventory.customers#1001',
      'inventory.customers#1002',
      'inventory.customers#1003',
      'inventory.customers#1004',
    ]);
    expect(rows[0].state).toMatchObject({ id: 1001, first_name: 'Sally', email: 'sally.thomas@acme.com' });
  });

  it('explains a bad flag with the value received', async () => {
    const run = spawnScript('localstack/run.ts', ['--parallelization', '11']);
    const { code } = await run.exited;
    expect(code).toBe(2);
    expect(run.stderr()).toContain('--parallelization must be an integer from 1 to 10; received "11"');
  });
});
