/**
 * The fleet simulator's tables and chart for `npm run bench -- cluster`: coordination cost at 10 to 1,000 workers
 * and 10 to 4,096 shards, and the simulator against the figures the same run measured on real worker processes.
 */
import { markdownTable } from '../results.js';
import { type FleetOutcome, simulateFleet } from './fleet-simulation.js';
import { svgChart } from './svg-chart.js';

const WORKER_COUNTS = [10, 30, 100, 300, 1_000] as const;
const SHARD_COUNTS = [10, 64, 256, 1_024, 4_096] as const;
const SHARD_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'] as const;

/** At rest, per worker, as measured on real processes. */
interface MeasuredAtRest {
  readonly workers: number;
  readonly shards: number;
  readonly assigner: number;
  readonly followers: readonly number[];
}

/** Every scenario of the grid, smallest first. */
async function simulateGrid(log: (message: string) => void): Promise<FleetOutcome[]> {
  const outcomes: FleetOutcome[] = [];
  for (const workers of WORKER_COUNTS)
    for (const shards of SHARD_COUNTS) {
      outcomes.push(await simulateFleet({ workers, shards }));
      log(`  simulated ${workers} workers on ${shards} shards`);
    }
  return outcomes;
}

const f = (x: number, digits = 3) => x.toFixed(digits);

function gridTable(outcomes: readonly FleetOutcome[]): string {
  return markdownTable(
    [
      'workers',
      'shards',
      'groups',
      'req/s per follower at rest / busy',
      'req/s of the assigner at rest',
      'assigner requests per round: at rest / after a death',
      'assigner CPU ms per round: at rest / after a death',
      'membership item bytes',
      'write units/s per partition key: at rest / busy',
    ],
    outcomes.map((o) => [
      o.workers,
      o.shards,
      o.groups,
      `${f(o.followerAtRest)} / ${f(o.followerBusy)}`,
      f(o.assignerAtRest),
      `${f(o.assignerPagesPerRound)} / ${o.pagesOnDeath}`,
      `${f(o.assignerRoundCpuMs, 2)} / ${f(o.deathRoundCpuMs, 1)}`,
      o.itemBytes,
      `${f(o.writeUnitsPerKeyAtRest, 0)} / ${f(o.writeUnitsPerKeyBusy, 0)}`,
    ]),
  );
}

/** The simulator's prediction for the measured fleets, and the ratio of measured to simulated. */
async function validate(measured: readonly MeasuredAtRest[]): Promise<{
  table: string;
  rows: { shards: number; role: string; measured: number; simulated: number }[];
}> {
  const rows: { shards: number; role: string; measured: number; simulated: number }[] = [];
  for (const m of measured) {
    const o = await simulateFleet({ workers: m.workers, shards: m.shards, groups: 1 });
    const followers = m.followers.reduce((a, b) => a + b, 0) / Math.max(1, m.followers.length);
    rows.push({ shards: m.shards, role: 'assigner', measured: m.assigner, simulated: o.assignerAtRest });
    rows.push({
      shards: m.shards,
      role: 'follower (mean)',
      measured: followers,
      simulated: o.followerAtRest,
    });
  }
  return {
    rows,
    table: markdownTable(
      ['shards', 'who', 'measured req/s at rest', 'simulated', 'measured / simulated'],
      rows.map((r) => [r.shards, r.role, f(r.measured), f(r.simulated), f(r.measured / r.simulated, 2)]),
    ),
  };
}

function gridChart(outcomes: readonly FleetOutcome[]): string {
  const at = (shards: number) => outcomes.filter((o) => o.shards === shards);
  const bySeries = (values: (o: FleetOutcome) => number, label: string) =>
    SHARD_COUNTS.map((shards, i) => ({
      label: `${label}${shards} shards`,
      color: SHARD_COLORS[i]!,
      values: at(shards).map(values),
    }));
  return svgChart(
    'Coordination of a worker fleet at 10–1,000 workers and 10–4,096 shards (simulated, lease 4.5 s)',
    [...WORKER_COUNTS],
    [
      {
        title: 'coordination requests per second per worker at rest',
        unit: 'requests/s',
        series: [
          {
            label: 'a follower, any shard count',
            color: '#7f7f7f',
            values: at(SHARD_COUNTS[0]).map((o) => o.followerAtRest),
            width: 2,
          },
          ...bySeries((o) => o.assignerAtRest, 'the assigner, '),
          { label: 'target 0.5', color: '#000000', values: WORKER_COUNTS.map(() => 0.5), dashed: true },
        ],
      },
      {
        title: "the assigner's requests in its round after a worker died",
        unit: 'requests',
        series: bySeries((o) => o.pagesOnDeath, ''),
      },
      {
        title: "the assigner's CPU in its round after a worker died (this machine)",
        unit: 'ms',
        series: bySeries((o) => o.deathRoundCpuMs, ''),
      },
      {
        title: 'write units per second on one membership item while busy (limit 1,000)',
        unit: 'WCU/s',
        series: [
          {
            label: 'up to 32 workers per item (groups: workers / 32, rounded up)',
            color: '#1f77b4',
            values: at(SHARD_COUNTS[0]).map((o) => o.writeUnitsPerKeyBusy),
          },
        ],
      },
    ],
    { min: WORKER_COUNTS[0], ticks: [...WORKER_COUNTS], label: (n) => `${n} workers`, log: true, dots: true },
  );
}

export type { MeasuredAtRest };
export { gridChart, gridTable, simulateGrid, validate };
