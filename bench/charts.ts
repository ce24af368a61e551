/**
 * `npm run bench:charts` draws the charts of the benchmarks that chart their results again from the results
 * committed under `bench/results/` (the cluster benchmark's failover timeline and simulated fleet, the
 * consumer-cost comparison), without running them; each benchmark also draws its chart at the end of a run. The scaling simulator writes
 * its charts as it runs (`npm run bench -- scaling`, about a minute).
 */
import { CHARTS, type Chart, writeChart } from './lib/chart-files.js';

for (const chart of Object.keys(CHARTS) as Chart[])
  process.stdout.write(`${writeChart(chart)} (from bench/results/${CHARTS[chart].benchmark}.json)\n`);
