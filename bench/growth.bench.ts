/**
 * growth: how cost grows with the work. Events/s and peak RSS of `npm start -- --until-drained` at 10k, 50k
 * and 200k events, and the consumer handler's events/s and memory at batch sizes 10 to 10,000 (each batch in
 * its own process, so its peak RSS is its own).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startDynamoDbLocal } from '../localstack/engines/engines.js';
import { markdownTable, writeResult } from './lib/results.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MB = 1024 * 1024;

/** Runs a script to its end, sampling the peak RSS (VmHWM) of its process while it runs. */
function runMeasured(
  args: readonly string[],
): Promise<{ stdout: string; peakRssBytes: number; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    let peak = 0;
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    const sample = () => {
      try {
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
        if (hwm !== undefined) peak = Math.max(peak, Number(hwm) * 1024);
      } catch {
        // exited
      }
    };
    const timer = setInterval(sample, 100);
    child.once('exit', (code) => {
      clearInterval(timer);
      resolve({ stdout, peakRssBytes: peak, code });
    });
  });
}

export default async function growth(): Promise<void> {
  const scale = Number(process.env.BENCH_SCALE ?? 1);
  const runs: { events: number; eventsPerSecond: number; peakRssMb: number; verified: boolean }[] = [];
  for (const events of [10_000, 50_000, 200_000].map((n) => Math.round(n * scale))) {
    process.stderr.write(`growth: npm start -- --events ${events} --until-drained…\n`);
    const out = await runMeasured([
      '--import',
      'tsx',
      'localstack/run.ts',
      '--events',
      String(events),
      '--until-drained',
      '--json',
    ]);
    const summary = JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '{}');
    if (out.code !== 0) throw new Error(`npm start exited ${out.code}: ${out.stdout}`);
    runs.push({
      events,
      eventsPerSecond: summary.eventsPerSecond,
      peakRssMb: out.peakRssBytes / MB,
      verified: summary.verified,
    });
  }

  const engine = await startDynamoDbLocal();
  const batches: {
    batchSize: number;
    payloadBytes: number;
    eventRssBytes: number;
    idleRssBytes: number;
    peakRssBytes: number;
    eventsPerSecond: number;
  }[] = [];
  try {
    for (const batchSize of [10, 100, 1000, 10_000]) {
      process.stderr.write(`growth: handler, batch ${batchSize}…\n`);
      const out = await runMeasured([
        '--expose-gc',
        '--import',
        'tsx',
        'bench/lib/handler-memory.ts',
        engine.endpoint,
        String(batchSize),
      ]);
      batches.push(JSON.parse(out.stdout.trim()));
    }
  } finally {
    await engine.process.stop();
  }

  const table = [
    markdownTable(
      ['npm start events', 'events/s', 'peak RSS of the run (MB)', 'verified'],
      runs.map((r) => [r.events, r.eventsPerSecond, r.peakRssMb.toFixed(0), r.verified]),
    ),
    markdownTable(
      [
        'handler batch',
        'events/s',
        'payload (MB)',
        'the event itself (MB)',
        'handler: peak − idle RSS (MB)',
        '(peak − idle) ÷ payload',
      ],
      batches.map((b) => [
        b.batchSize,
        Math.round(b.eventsPerSecond),
        (b.payloadBytes / MB).toFixed(2),
        (b.eventRssBytes / MB).toFixed(1),
        ((b.peakRssBytes - b.idleRssBytes) / MB).toFixed(1),
        ((b.peakRssBytes - b.idleRssBytes) / b.payloadBytes).toFixed(2),
      ]),
    ),
  ].join('\n\n');
  writeResult('growth', {
    settings: { scale, workload: 'zipf s=1.1 over 10,000 aggregates', batchSizeOfRuns: 100 },
    table,
    data: { runs, batches },
  });
}
