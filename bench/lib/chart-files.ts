/**
 * The charts drawn from benchmark results: each reads `bench/results/<name>.json` and writes an SVG beside it.
 * The benchmarks draw theirs after writing their results; `npm run bench:charts` draws them all again from
 * the committed results.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { consumerCostChart } from './consumer-cost-chart.js';
import { failoverChart } from './failover-chart.js';

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** Each chart: the benchmark whose results it reads, the file it writes, and how it is drawn. */
const CHARTS = {
  cluster: {
    chart: 'cluster-failover.svg',
    draw: (r: unknown) => failoverChart(r as Parameters<typeof failoverChart>[0]),
  },
  'consumer-cost': {
    chart: 'consumer-cost.svg',
    draw: (r: unknown) => consumerCostChart(r as Parameters<typeof consumerCostChart>[0]),
  },
} as const;

type ChartedBenchmark = keyof typeof CHARTS;

/** Draws the chart of `benchmark` from its results file; returns the path written, relative to the repository. */
function writeChart(benchmark: ChartedBenchmark): string {
  const { chart, draw } = CHARTS[benchmark];
  const result: unknown = JSON.parse(readFileSync(`${RESULTS_DIR}${benchmark}.json`, 'utf8'));
  writeFileSync(`${RESULTS_DIR}${chart}`, draw(result));
  return `bench/results/${chart}`;
}

export type { ChartedBenchmark };
export { CHARTS, writeChart };
