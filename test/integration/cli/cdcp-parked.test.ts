import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FAULT_INJECTION_COLUMN } from '../../../core/processing/projection.js';
import { orderChange } from '../../helpers/changes.js';
import { changeRecord, consumerUnderTest } from '../../helpers/consumer.js';
import { testClients, writeTestRuntimeFile } from '../../helpers/engines.js';
import { hostileCorpus } from '../../helpers/hostile-corpus.js';
import { spawnScript } from '../../helpers/processes.js';

const clients = testClients();
afterAll(() => clients.destroy());

describe('cdcp parked list / replay against a running local pipeline', () => {
  it('lists parked changes with reasons, replays them in order and lifts the quarantine', async () => {
    const config = { processing: { faultInjection: true, maxAttempts: 1 } };
    const consumer = await consumerUnderTest(clients, { config });
    await consumer.invoke([
      changeRecord(orderChange(3, 10, 'create'), 10, 1),
      changeRecord(orderChange(3, 11, 'update', { id: 3, [FAULT_INJECTION_COLUMN]: 'boom' }), 11, 2),
      changeRecord(orderChange(3, 12), 12, 3),
      { data: 'not json', partitionKey: 'x', sequenceNumber: '4' },
    ]);
    // What `npm start` writes so that `cdcp` finds its engines and tables (this test process stands in for it).
    const runtimeFile = join(tmpdir(), `cdcp-runtime-${process.pid}.json`);
    writeTestRuntimeFile(runtimeFile, consumer.names, { config });
    const env = { CDCP_RUNTIME_FILE: runtimeFile };

    const list = spawnScript('bin/cdcp.ts', ['parked', 'list'], env);
    expect((await list.exited).code, list.stderr()).toBe(0);
    const lines = list.stdout().trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(['POISON', 'QUARANTINED', 'NOT_JSON']);
    expect(list.stdout()).toContain('public.orders#3');
    expect(list.stderr()).toContain('3 parked item(s), 1 aggregate(s)');

    const json = spawnScript('bin/cdcp.ts', ['parked', 'list', '--reason', 'POISON', '--json'], env);
    await json.exited;
    const poison = JSON.parse(json.stdout().trim());
    expect(poison).toMatchObject({
      reason: 'POISON',
      aggregateId: 'public.orders#3',
      change: { op: 'update' },
    });
    expect(Buffer.from(poison.record.data, 'base64').toString()).toContain('boom');

    // With the fault still injected the replay fails and keeps everything; ignoring it, the replay succeeds.
    const failing = spawnScript('bin/cdcp.ts', ['parked', 'replay', '--aggregate', 'public.orders#3'], env);
    expect((await failing.exited).code).toBe(1);
    expect(failing.stdout()).toContain('still parked  public.orders#3: 0 applied');
    const replay = spawnScript(
      'bin/cdcp.ts',
      ['parked', 'replay', '--aggregate', 'public.orders#3', '--ignore-injected-faults'],
      env,
    );
    expect((await replay.exited).code, replay.stderr()).toBe(0);
    expect(replay.stdout()).toContain('replayed  public.orders#3: 2 applied');
    rmSync(runtimeFile);
    const item = await consumer.state.get('public.orders#3');
    expect(item?.quarantine).toBeUndefined();
    expect(item?.state).toEqual({ id: 3, status: 's12' });
  });

  it('leaves a truncate to discard: replay exits 0 and says so, discard prints what it removes', async () => {
    const config = { processing: { faultInjection: true, maxAttempts: 1 } };
    const consumer = await consumerUnderTest(clients, { config });
    const truncate = hostileCorpus().find((e) => e.name === 'Debezium truncate')!.records[0]!;
    await consumer.invoke([
      { data: truncate.data, partitionKey: 'public.t', sequenceNumber: '5' },
      changeRecord(orderChange(4, 10, 'create'), 10, 6),
      changeRecord(orderChange(4, 11, 'update', { id: 4, [FAULT_INJECTION_COLUMN]: 'boom' }), 11, 7),
    ]);
    const runtimeFile = join(tmpdir(), `cdcp-runtime-discard-${process.pid}.json`);
    writeTestRuntimeFile(runtimeFile, consumer.names, { config });
    const env = { CDCP_RUNTIME_FILE: runtimeFile };
    const cdcp = async (...args: string[]) => {
      const run = spawnScript('bin/cdcp.ts', args, env);
      const { code } = await run.exited;
      return { code, stdout: run.stdout(), stderr: run.stderr() };
    };

    const replay = await cdcp('parked', 'replay', '--ignore-injected-faults', '--yes');
    const dryRun = await cdcp('parked', 'discard', '--reason', 'TRUNCATE', '--dry-run');
    const parkedAfterDryRun = (await consumer.parked.scanAll()).length;
    const discard = await cdcp('parked', 'discard', '--reason', 'TRUNCATE', '--yes');
    const list = await cdcp('parked', 'list');
    rmSync(runtimeFile);

    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(
      /^waits for discard {2}BAD#shardId-000000000000\/\d+#\d+: TRUNCATE is never replayed/m,
    );
    expect(replay.stderr).toContain('1 of 1 replayed; 1 record(s) wait for `cdcp parked discard`');
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stdout).toMatch(
      /^would discard {2}TRUNCATE {9}BAD#shardId-000000000000 +seq 5 {2}truncate of public\.t/,
    );
    expect(dryRun.stderr).toContain('would discard 1 parked item(s); nothing was changed');
    expect(parkedAfterDryRun).toBe(1);
    expect(discard.code, discard.stderr).toBe(0);
    expect(discard.stdout).toMatch(/^discarded {2}TRUNCATE /);
    expect(list.stdout).toBe('');
    expect(list.stderr).toContain('0 parked item(s)');
  });

  it('refuses a discard that names nothing, and a key that is not PK/SK, in one line', async () => {
    const none = spawnScript('bin/cdcp.ts', ['parked', 'discard', '--local', '--yes'], {});
    const badKey = spawnScript('bin/cdcp.ts', ['parked', 'discard', '--key', 'AGG#x', '--yes'], {});

    expect((await none.exited).code).toBe(2);
    expect(none.stderr()).toBe(
      'cdcp parked discard: parked discard removes what you name: pass --aggregate ID, --reason CODE or --key PK/SK\n',
    );
    expect((await badKey.exited).code).toBe(2);
    expect(badKey.stderr()).toContain('--key must be PK/SK');
    expect(badKey.stderr()).toContain('received "AGG#x"');
  });

  it('says in one line how to name a target when no local run is found', async () => {
    const run = spawnScript('bin/cdcp.ts', ['parked', 'list'], {
      CDCP_RUNTIME_FILE: join(tmpdir(), 'no-such-runtime.json'),
      CDCP_STACK: '',
    });
    expect((await run.exited).code).toBe(2);
    expect(run.stderr()).toBe(
      'cdcp parked list: no target: pass --stack NAME (a deployed stack) or set CDCP_STACK, or start `npm start` in this folder\n',
    );
  });
});
