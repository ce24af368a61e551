/**
 * `npm run bench:charts` draws the charts of the benchmarks that chart their results again from the results
 * committed under `bench/results/` (the cluster benchmark's failover timeline, the consumer-cost comparison),
 * without running them; each benchmark also draws its chart at the end of a run. The scaling simulator writes
 * its charts as it runs (`npm run bench -- scaling`, about a minute).
 */
import { CHARTS, type ChartedBenchmark, writeChart } from './lib/chart-files.js';

for (const benchmark of Object.keys(CHARTS) as ChartedBenchmark[])
  process.stdout.write(`${writeChart(benchmark)} (from bench/results/${benchmark}.json)\n`);
