/**
 * hostile: the consumer on hostile input. Every record of the hostile corpus through the consumer handler on
 * DynamoDB Local, each entry in its own process: the handler's time and the process's peak resident memory,
 * against a plain Debezium change measured the same way in the same run. Then the property of
 * `test/integration/consumer/hostile-property.test.ts` on many more batches than CI runs.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { localClients } from '../localstack/clients.js';
import { startDynamoDbLocal } from '../localstack/engines/engines.js';
import { hostileCorpus } from '../test/helpers/hostile-corpus.js';
import { type DeliveryReport, hostileBatches, hostileChecker } from '../test/helpers/hostile-property.js';
import { markdownTable, writeResult } from './lib/results.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CASES = Number(process.env.BENCH_HOSTILE_CASES ?? 2_000);
const SEED = Number(process.env.BENCH_HOSTILE_SEED ?? 1);
const MB = 1024 * 1024;

interface RecordMeasure {
  readonly ms: number;
  readonly idleRssBytes: number;
  readonly peakRssBytes: number;
}

/** One corpus entry (or `baseline`) through the handler in a process of its own. */
function measureEntry(endpoint: string, entry: string): Promise<RecordMeasure> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', 'bench/lib/hostile-record.ts', endpoint, entry],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.once('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as RecordMeasure)
        : reject(new Error(`entry ${entry} exited with ${code}`)),
    );
  });
}

export default async function hostile(): Promise<void> {
  const engine = await startDynamoDbLocal();
  try {
    // 1. The corpus, entry by entry, against a plain change.
    const corpus = hostileCorpus();
    const baseline = await measureEntry(engine.endpoint, 'baseline');
    const measured: { name: string; bytes: number; m: RecordMeasure }[] = [];
    for (const [i, entry] of corpus.entries()) {
      const m = await measureEntry(engine.endpoint, String(i));
      measured.push({
        name: `${entry.category}: ${entry.name}`,
        bytes: entry.records.reduce((n, r) => n + r.data.byteLength, 0),
        m,
      });
      process.stderr.write(`\r${i + 1}/${corpus.length} corpus entries`);
    }
    process.stderr.write('\n');
    const growth = (m: RecordMeasure) => (m.peakRssBytes - m.idleRssBytes) / MB;
    const byTime = [...measured].sort((a, b) => b.m.ms - a.m.ms).slice(0, 5);
    const byMemory = [...measured].sort((a, b) => growth(b.m) - growth(a.m)).slice(0, 5);
    const rows = [
      [
        'baseline: one plain Debezium change',
        300,
        baseline.ms,
        1,
        growth(baseline),
        (baseline.peakRssBytes / MB).toFixed(0),
      ],
      ...[...new Set([...byTime, ...byMemory])].map((e) => [
        e.name,
        e.bytes,
        e.m.ms,
        e.m.ms / baseline.ms,
        growth(e.m),
        (e.m.peakRssBytes / MB).toFixed(0),
      ]),
    ];
    const corpusTable = markdownTable(
      [
        'corpus entry (slowest 5, most memory 5)',
        'bytes',
        'handler ms',
        '× baseline',
        'peak − idle RSS MB',
        'peak RSS MB',
      ],
      rows,
    );

    // 2. The property, on many batches.
    const clients = localClients({ dynamodb: engine.endpoint, kinesis: engine.endpoint });
    const checker = await hostileChecker(clients.dynamodb);
    const reports: DeliveryReport[] = [];
    const started = performance.now();
    const result = await fc.check(
      fc.asyncProperty(hostileBatches(), async (batch) => {
        reports.push(await checker.deliver(batch));
      }),
      { seed: SEED, numRuns: CASES, endOnFailure: true },
    );
    const seconds = (performance.now() - started) / 1000;
    clients.destroy();
    const worst = reports.reduce((a, b) => (b.ms > a.ms ? b : a), reports[0]!);
    const propertyTable = markdownTable(
      ['batches', 'records', 'failed', 'batches/s', 'worst batch ms', 'its bytes', 'peak RSS MB'],
      [
        [
          result.numRuns,
          reports.reduce((n, r) => n + r.records, 0),
          result.failed ? 1 : 0,
          result.numRuns / seconds,
          worst.ms,
          worst.bytes,
          ((process.resourceUsage().maxRSS * 1024) / MB).toFixed(0),
        ],
      ],
    );
    const table = `${corpusTable}\n\n${propertyTable}\n`;
    process.stdout.write(`${table}\n`);
    if (result.failed) process.stdout.write(`property failed: ${fc.defaultReportMessage(result)}\n`);
    writeResult('hostile', {
      settings: { cases: CASES, seed: SEED },
      table,
      data: {
        baseline,
        corpus: measured,
        property: { numRuns: result.numRuns, failed: result.failed, seconds },
      },
    });
    if (result.failed) process.exitCode = 1;
  } finally {
    await engine.process.stop();
  }
}
