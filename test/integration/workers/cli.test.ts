import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/eventually.js';
import { enginePorts, processesOnPorts, spawnScript } from '../../helpers/processes.js';

const RUNTIME_FILE = join(tmpdir(), `cdcp-workers-${process.pid}.json`);
const ENV = { CDCP_RUNTIME_FILE: RUNTIME_FILE };
afterAll(() => rmSync(RUNTIME_FILE, { force: true }));

async function cdcp(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = spawnScript('bin/cdcp.ts', args, ENV);
  const { code } = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const lines = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map(
      (l) => JSON.parse(l) as { id: string; pid: number; state: string; leases: string[]; assigner: boolean },
    );

describe('npm start -- --workers N with cdcp local workers and cdcp status', () => {
  it('lists, adds, kills and removes worker processes; status shows instances, shards and the assigner; Ctrl-C stops everything', async () => {
    const run = spawnScript('localstack/run.ts', ['--workers', '2', '--shards', '4', '--rate', '200'], ENV);
    try {
      await eventually(
        'the workers to start',
        async () => (run.stderr().includes('worker process(es) running') ? true : undefined),
        { timeoutMs: 90_000 },
      );
      const ports = enginePorts(run.stderr());
      const started = await eventually('both workers to hold leases', async () => {
        const rows = lines((await cdcp('local', 'workers', '--json')).stdout);
        return rows.length === 2 && rows.every((r) => r.leases.length === 2) ? rows : undefined;
      });
      expect(started.every((r) => r.id.startsWith('worker-') && alive(r.pid))).toBe(true);
      expect(started.filter((r) => r.assigner)).toHaveLength(1);

      const added = await cdcp('local', 'workers', 'add', '--json');
      expect(added.code, added.stderr).toBe(0);
      const [third] = lines(added.stdout);
      expect(alive(third!.pid)).toBe(true);
      expect(lines((await cdcp('local', 'workers', '--json')).stdout).map((r) => r.id)).toContain(third!.id);

      const victim = started.find((r) => !r.assigner)!;
      const killed = await cdcp('local', 'workers', 'kill', String(victim.pid));
      expect(killed.stdout).toBe(`killed ${victim.id} (pid ${victim.pid})\n`);
      expect(alive(victim.pid)).toBe(false);

      const removed = await cdcp('local', 'workers', 'remove', third!.id.slice(0, 9));
      expect(removed.code, removed.stderr).toBe(0);
      expect(removed.stdout).toBe(`stopped ${third!.id} (pid ${third!.pid}): stopped\n`);

      const unknown = await cdcp('local', 'workers', 'kill', 'worker-99');
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('no worker "worker-99" in this run');
      expect(unknown.stderr).toContain(`${victim.id} (pid ${victim.pid}, killed)`);

      const listed = lines((await cdcp('local', 'workers', '--json', '--all')).stdout);
      expect(listed.map((r) => [r.id, r.state])).toEqual([
        ...started.map((r) => [r.id, r.id === victim.id ? 'killed' : 'running']),
        [third!.id, 'stopped'],
      ]);

      // The survivor gets the killed worker's leases once its heartbeat has stood still for a lease duration.
      const survivor = started.find((r) => r.assigner)!;
      const status = await eventually(
        'the survivor to hold every shard',
        async () => {
          const out = await cdcp('status', '--json');
          const report = JSON.parse(out.stdout) as {
            instances: { id: string }[];
            shards: { shardId: string; owner: string; state: string; checkpoint: string }[];
            assigner: { id: string; term: number };
          };
          return report.shards.length === 4 && report.shards.every((s) => s.owner === survivor.id)
            ? report
            : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      expect(status.assigner.id).toBe(survivor.id);
      expect(status.shards.every((s) => s.state === 'reading')).toBe(true);
      const text = await cdcp('status');
      expect(text.stdout).toContain(`Lease assigner: ${survivor.id} (term ${status.assigner.term})`);
      expect(text.stdout).toMatch(/Shards of cdcp-local-changes \(4\)/);

      run.child.kill('SIGINT');
      const { code } = await run.exited;
      expect(code, run.stderr()).toBe(0);
      expect(alive(survivor.pid)).toBe(false);
      expect(processesOnPorts(ports)).toEqual([]);
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 240_000);

  it('leaves no worker process behind when the run itself is killed with SIGKILL', async () => {
    const run = spawnScript('localstack/run.ts', ['--workers', '2', '--rate', '100'], ENV);
    await eventually(
      'the workers to start',
      async () => (run.stderr().includes('worker process(es) running') ? true : undefined),
      { timeoutMs: 90_000 },
    );
    const pids = lines((await cdcp('local', 'workers', '--json')).stdout).map((r) => r.pid);
    expect(pids).toHaveLength(2);
    run.child.kill('SIGKILL');
    await run.exited;
    await eventually('the workers to exit', async () => (pids.every((p) => !alive(p)) ? true : undefined), {
      timeoutMs: 30_000,
    });
  }, 180_000);

  it('explains what to do when no run is there', async () => {
    rmSync(RUNTIME_FILE, { force: true });
    const out = await cdcp('local', 'workers');
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('no running local pipeline was found in this folder');
    expect(out.stderr).toContain('npm start -- --workers 3');
  });
});
