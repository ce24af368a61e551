import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/eventually.js';
import { spawnScript } from '../../helpers/processes.js';

/** Runs `cdcp` against the running pipeline (found through its runtime file). */
async function cdcp(runtimeFile: string, ...args: string[]) {
  const run = spawnScript('bin/cdcp.ts', args, { CDCP_RUNTIME_FILE: runtimeFile });
  const { code } = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

describe('cdcp config set changes a running pipeline of four workers without restart', () => {
  it('pausing a table defers its changes in order on every worker; resuming replays them and the run still verifies', async () => {
    const runtimeFile = join(tmpdir(), `cdcp-pause-runtime-${process.pid}.json`);
    const configFile = join(tmpdir(), `cdcp-pause-config-${process.pid}.json`);
    const run = spawnScript(
      'localstack/run.ts',
      [
        ...['--events', '10000', '--rate', '200', '--until-drained', '--json', '--aggregates', '300'],
        ...['--workers', '4'],
      ],
      { CDCP_RUNTIME_FILE: runtimeFile },
    );
    try {
      await eventually(
        'the run to produce',
        async () => (run.stderr().includes('produced') ? true : undefined),
        { timeoutMs: 60_000 },
      );
      // Four worker processes, each registered with the config version it runs.
      await eventually(
        'four live workers',
        async () => {
          const s = await cdcp(runtimeFile, 'config', 'status', '--json');
          return s.code === 0 && JSON.parse(s.stdout).instances.length === 4 ? true : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 500 },
      );
      const got = await cdcp(runtimeFile, 'config', 'get');
      expect(got.code, got.stderr).toBe(0);
      const config = JSON.parse(got.stdout);
      config.tables['public.orders'] = { ...config.tables['public.orders'], paused: true };
      writeFileSync(configFile, JSON.stringify(config));
      const paused = await cdcp(runtimeFile, 'config', 'set', configFile);
      expect(paused.code, paused.stderr).toBe(0);
      const version = /version (\S+) published/.exec(paused.stderr + paused.stdout)?.[1];

      // Every worker applies the new version without restart, and the time it took is reported.
      const status = await cdcp(runtimeFile, 'config', 'status', '--json', '--wait', '60');
      expect(status.code, status.stderr).toBe(0);
      const convergence = JSON.parse(status.stdout);
      expect(convergence).toMatchObject({ converged: true, onLatest: 4 });
      if (version !== undefined) expect(convergence.latestVersion).toBe(version);
      expect(convergence.convergenceMs).toBeGreaterThanOrEqual(0);
      const pids = new Set(convergence.instances.map((i: { instanceId: string }) => i.instanceId));
      expect(pids.size).toBe(4);

      // Orders' changes are parked as DEFERRED, in source order per aggregate.
      const deferred = await eventually(
        'deferred changes',
        async () => {
          const list = await cdcp(runtimeFile, 'parked', 'list', '--reason', 'DEFERRED', '--json');
          const items = list.stdout
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l));
          return items.length >= 30 ? items : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      expect(deferred.every((i) => i.aggregateId.startsWith('public.orders#'))).toBe(true);
      const byAggregate = new Map<string, string[]>();
      for (const i of deferred)
        byAggregate.set(i.aggregateId, [...(byAggregate.get(i.aggregateId) ?? []), i.change.position]);
      for (const positions of byAggregate.values()) expect(positions).toEqual([...positions].sort());

      // Once every record is read, the run waits for the resume instead of ending with changes deferred.
      await eventually(
        'the run to wait for the resume',
        async () =>
          /every record is read; changes of public\.orders \(paused\) wait as DEFERRED/.test(run.stderr())
            ? true
            : undefined,
        { timeoutMs: 120_000, intervalMs: 250 },
      );
      expect(run.child.exitCode).toBeNull();
      config.tables['public.orders'] = { ...config.tables['public.orders'], paused: false };
      writeFileSync(configFile, JSON.stringify(config));
      const resumed = await cdcp(runtimeFile, 'config', 'set', configFile);
      expect(resumed.code, resumed.stderr).toBe(0);

      const { code } = await run.exited;
      expect(code, run.stderr()).toBe(0);
      const summary = JSON.parse(run.stdout().trim().split('\n').at(-1)!);
      // Everything deferred was replayed in order: the state equals the model, nothing stays parked.
      expect(summary).toMatchObject({ verified: true, parked: 0, produced: 10000 });
      expect(JSON.parse(readFileSync(configFile, 'utf8')).tables['public.orders'].paused).toBe(false);
    } finally {
      run.child.kill('SIGKILL');
      rmSync(configFile, { force: true });
    }
  }, 300_000);
});
