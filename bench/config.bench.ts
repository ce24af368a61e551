/**
 * How long a configuration version takes to reach every local worker: four worker processes watch the local
 * config store (`FileConfigSource`); each round publishes a version (`LocalConfigStore.publish`, as
 * `cdcp config set` does) and measures from its `publishedAt` to the last worker applying it, with the
 * watcher on and with the poll alone. `npm run bench -- config`
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../core/coordination/clock.js';
import { LocalConfigStore } from '../localstack/config/local-config-store.js';
import { eventually } from '../test/helpers/eventually.js';
import { markdownTable, percentile, writeResult } from './lib/results.js';

const WATCHER = fileURLToPath(new URL('./lib/config-watcher.ts', import.meta.url));
const WORKERS = 4;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const MODES = [
  { name: 'fs.watch + 1 s poll', pollIntervalMs: 1_000, watch: true },
  { name: 'poll every 250 ms', pollIntervalMs: 250, watch: false },
  { name: 'poll every 1 s', pollIntervalMs: 1_000, watch: false },
] as const;

interface Worker {
  readonly child: ChildProcess;
  readonly applied: Map<string, number>;
}

function startWorker(path: string, mode: (typeof MODES)[number]): Worker {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', WATCHER, path, String(mode.pollIntervalMs), mode.watch ? 'watch' : 'poll'],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const applied = new Map<string, number>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const { version, appliedAtWallMs } = JSON.parse(line) as { version: string; appliedAtWallMs: number };
    applied.set(version, appliedAtWallMs);
  });
  return { child, applied };
}

async function measure(mode: (typeof MODES)[number]) {
  const folder = mkdtempSync(join(tmpdir(), 'cdcp-bench-config-'));
  const store = new LocalConfigStore({ path: join(folder, 'config.json') });
  const first = await store.publish({});
  const workers = Array.from({ length: WORKERS }, () => startWorker(store.path, mode));
  try {
    await eventually('the workers to start', () => workers.every((w) => w.applied.has(first.version)), {
      timeoutMs: 60_000,
      intervalMs: 5,
    });
    const convergenceMs: number[] = [];
    const perWorkerMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Publish at a random point of the poll cycle, as an operator would.
      await systemClock.sleep(Math.random() * mode.pollIntervalMs);
      const published = await store.publish({ processing: { maxAttempts: 1 + (round % 5) } });
      await eventually(
        `version ${published.version} on every worker`,
        () => workers.every((w) => w.applied.has(published.version)),
        { intervalMs: 5 },
      );
      const reached = workers.map((w) => w.applied.get(published.version)! - published.publishedAtWallMs);
      perWorkerMs.push(...reached);
      convergenceMs.push(Math.max(...reached));
    }
    return { convergenceMs, perWorkerMs };
  } finally {
    for (const w of workers) w.child.stdin!.end();
    await Promise.all(
      workers.map((w) =>
        w.child.exitCode === null ? new Promise((r) => w.child.once('exit', r)) : undefined,
      ),
    );
    rmSync(folder, { recursive: true, force: true });
  }
}

export default async function configBench(): Promise<void> {
  const rows: (readonly unknown[])[] = [];
  const data: Record<string, unknown> = {};
  for (const mode of MODES) {
    process.stderr.write(`${mode.name}: ${WORKERS} workers, ${ROUNDS} versions\n`);
    const { convergenceMs, perWorkerMs } = await measure(mode);
    data[mode.name] = { convergenceMs, perWorkerMs };
    rows.push([
      mode.name,
      WORKERS,
      ROUNDS,
      percentile(perWorkerMs, 50),
      percentile(convergenceMs, 50),
      percentile(convergenceMs, 99),
      Math.max(...convergenceMs),
    ]);
  }
  const table = markdownTable(
    [
      'local store',
      'workers',
      'versions',
      'one worker p50 ms',
      'all workers p50 ms',
      'all workers p99 ms',
      'all workers max ms',
    ],
    rows,
  );
  writeResult('config', { settings: { workers: WORKERS, rounds: ROUNDS, modes: MODES }, table, data });
}
