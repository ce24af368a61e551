/**
 * The charts drawn from benchmark results: each reads `bench/results/<benchmark>.json` and writes an SVG beside
 * it. The benchmarks draw theirs after writing their results; `npm run bench:charts` draws them all again from
 * the committed results.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { consumerCostChart } from './consumer-cost-chart.js';
import { failoverChart } from './failover-chart.js';
import { gridChart } from './scaling/fleet-report.js';

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** Each chart, by the name of the file it writes: the benchmark whose results it reads, and how it is drawn. */
const CHARTS = {
  'cluster-failover': {
    benchmark: 'cluster',
    draw: (r: unknown) => failoverChart(r as Parameters<typeof failoverChart>[0]),
  },
  'cluster-at-scale': {
    benchmark: 'cluster',
    draw: (r: unknown) =>
      gridChart(
        (r as { data: { simulated: { grid: Parameters<typeof gridChart>[0] } } }).data.simulated.grid,
      ),
  },
  'consumer-cost': {
    benchmark: 'consumer-cost',
    draw: (r: unknown) => consumerCostChart(r as Parameters<typeof consumerCostChart>[0]),
  },
} as const;

type Chart = keyof typeof CHARTS;

/** Draws `chart` from its benchmark's results file; returns the path written, relative to the repository. */
function writeChart(chart: Chart): string {
  const { benchmark, draw } = CHARTS[chart];
  const result: unknown = JSON.parse(readFileSync(`${RESULTS_DIR}${benchmark}.json`, 'utf8'));
  writeFileSync(`${RESULTS_DIR}${chart}.svg`, draw(result));
  return `bench/results/${chart}.svg`;
}

export type { Chart };
export { CHARTS, writeChart };
