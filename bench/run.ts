/**
 * `npm run bench` runs every benchmark; `npm run bench -- NAME` runs one. A benchmark is
 * `bench/<name>.bench.ts` whose default export is an async function; it prints a markdown table and writes
 * JSON under `bench/results/` through `bench/lib/results.ts`.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}\n`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : available) {
  process.stderr.write(`\n== benchmark ${name} ==\n`);
  const module = (await import(`./${name}.bench.ts`)) as { default: () => Promise<void> };
  await module.default();
}
