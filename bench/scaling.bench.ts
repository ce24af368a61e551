/**
 * `npm run bench -- scaling`: the scaling policy under real traffic shapes at scales no test machine reaches,
 * in a discrete-time model of the stream (bench/lib/scaling/stream-model.ts). Every policy runs the same trace
 * in the same run; the table compares lag, throttling, shard-hours, cost and scaling calls; the simulator
 * fails if any policy breaks a Kinesis rule or loses a record. Writes bench/results/scaling.json and one SVG
 * chart per trace (bench/results/scaling-<trace>.svg).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { markdownTable, percentile, writeResult } from './lib/results.js';
import { onDemand, ours, type Policy, staticAt, threshold } from './lib/scaling/policies.js';
import { PRICES } from './lib/scaling/prices.js';
import { StreamModel } from './lib/scaling/stream-model.js';
import { svgChart } from './lib/scaling/svg-chart.js';
import { type Trace, traces } from './lib/scaling/traces.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const GIB = 1024 ** 3;
/** Model parameters shared by every policy. */
const MODEL = {
  /** A consumer batch processes 400 records/s (a batch of 100 in 250 ms): at ParallelizationFactor 2 a shard above 80% of its write limit outruns its consumer. */
  laneRecordsPerSecond: 400,
  /** Every policy starts at ParallelizationFactor 2; only ours changes it. */
  initialParallelization: 2,
  /** Share of changes from low-priority tables (deferred while shedding). */
  lowPriorityShare: 0.3,
  startWallMs: Date.UTC(2026, 0, 5),
};

interface Outcome {
  readonly trace: string;
  readonly policy: string;
  readonly p99LagS: number;
  readonly maxLagS: number;
  readonly p99IteratorAgeS: number;
  readonly maxIteratorAgeS: number;
  readonly throttledRecords: number;
  readonly shardHours: number;
  readonly costUsd: number;
  readonly updateShardCountCalls: number;
  readonly splits: number;
  readonly merges: number;
  readonly parallelizationChanges: number;
  readonly maxParallelization: number;
  readonly sheddingChanges: number;
  readonly deferredRecords: number;
  readonly violations: number;
  readonly lostRecords: number;
  readonly maxShards: number;
  readonly minutes: StreamModel['minutes'];
}

function run(trace: Trace, policy: Policy): Outcome {
  const model = new StreamModel({
    trace,
    initialShards: policy.initialShards({ trace }),
    initialParallelization: MODEL.initialParallelization,
    laneRecordsPerSecond: MODEL.laneRecordsPerSecond,
    startWallMs: MODEL.startWallMs,
    lowPriorityShare: MODEL.lowPriorityShare,
  });
  while (model.t < trace.durationS) {
    model.step();
    if (model.t % 60 === 0) policy.tick(model);
  }
  const lags = model.minutes.map((m) => m.lagMaxS);
  const ages = model.minutes.map((m) => m.iteratorAgeMaxS);
  const shardHours = model.shardSeconds / 3600;
  const hours = trace.durationS / 3600;
  const kib = Math.ceil(trace.recordBytes / 1024);
  const cost =
    policy.billing === 'provisioned'
      ? shardHours * PRICES.provisioned.shardHour +
        ((model.accepted * Math.ceil(trace.recordBytes / PRICES.provisioned.putPayloadUnitBytes)) / 1e6) *
          PRICES.provisioned.putPayloadUnitsPerMillion
      : hours * PRICES.onDemand.streamHour +
        ((model.accepted * kib * 1024) / GIB) * PRICES.onDemand.dataInPerGb +
        ((model.consumed * trace.recordBytes) / GIB) * PRICES.onDemand.dataOutPerGb;
  const lost = model.produced - model.consumed - model.inFlight();
  return {
    trace: trace.name,
    policy: policy.name,
    p99LagS: percentile(lags, 99),
    maxLagS: Math.max(...lags),
    p99IteratorAgeS: percentile(ages, 99),
    maxIteratorAgeS: Math.max(...ages),
    throttledRecords: Math.round(model.throttledRecords),
    shardHours,
    costUsd: cost,
    updateShardCountCalls: model.calls.updateShardCount,
    splits: model.calls.split,
    merges: model.calls.merge,
    parallelizationChanges: model.calls.parallelization,
    maxParallelization: model.maxParallelization,
    sheddingChanges: model.calls.shedding,
    deferredRecords: Math.round(model.deferred),
    violations: model.violations.length,
    // Floating-point sums of fractional records: anything below one record is rounding, not loss.
    lostRecords: Math.abs(lost) < 1 ? 0 : Math.round(lost),
    maxShards: Math.max(...model.minutes.map((m) => m.openShards)),
    minutes: model.minutes,
  };
}

const COLORS: Record<string, string> = {
  ours: '#1f77b4',
  'static at peak': '#7f7f7f',
  'static at mean': '#8c564b',
  threshold: '#ff7f0e',
  'on-demand': '#2ca02c',
};

function chart(trace: Trace, outcomes: readonly Outcome[]): string {
  const first = outcomes[0]!;
  const hours = first.minutes.map((_, i) => (i + 1) / 60);
  return svgChart(`${trace.name}: ${trace.description}`, hours, [
    {
      title: 'load and write capacity',
      unit: 'records/s',
      series: [
        {
          label: 'demand',
          color: '#000',
          values: first.minutes.map((m) => m.demandRecordsPerSecond),
          width: 2,
        },
        ...outcomes.map((o) => ({
          label: `${o.policy} capacity`,
          color: COLORS[o.policy] ?? '#333',
          values: o.minutes.map((m) => m.capacityRecordsPerSecond),
          dashed: o.policy.startsWith('static'),
        })),
      ],
    },
    {
      title: 'lag (oldest unprocessed record, from production; per-minute maximum)',
      unit: 'seconds',
      log: true,
      series: outcomes.map((o) => ({
        label: o.policy,
        color: COLORS[o.policy] ?? '#333',
        values: o.minutes.map((m) => m.lagMaxS),
        dashed: o.policy.startsWith('static'),
      })),
    },
  ]);
}

export default async function scalingBenchmark(): Promise<void> {
  const started = performance.now();
  const all: Outcome[] = [];
  // SCALING_TRACES=flash-spike,diurnal runs only those (for working on the policy); the default runs all.
  const only = process.env.SCALING_TRACES?.split(',');
  for (const trace of traces().filter((t) => only === undefined || only.includes(t.name))) {
    const t0 = performance.now();
    const policies = [ours(), staticAt('peak'), staticAt('mean'), threshold(), onDemand()];
    const outcomes = policies.map((p) => run(trace, p));
    all.push(...outcomes);
    writeFileSync(`${RESULTS_DIR}scaling-${trace.name}.svg`, chart(trace, outcomes));
    process.stderr.write(`${trace.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  const by = (trace: string, policy: string) => all.find((o) => o.trace === trace && o.policy === policy);
  const pctOf = (a: number, b: number) =>
    b === 0 ? (a === 0 ? '—' : '∞') : `${((100 * a) / b).toFixed(0)}%`;
  const targets: { target: string; figures: string; met: boolean }[] = [];
  const flashOurs = by('flash-spike', 'ours');
  const flashThreshold = by('flash-spike', 'threshold');
  if (flashOurs !== undefined && flashThreshold !== undefined)
    targets.push(
      {
        target: 'flash spike vs threshold: p99 lag ≤ 50%, shard-hours ≤',
        figures: `p99 lag ${flashOurs.p99LagS.toFixed(0)} s vs ${flashThreshold.p99LagS.toFixed(0)} s (${pctOf(flashOurs.p99LagS, flashThreshold.p99LagS)}); shard-hours ${flashOurs.shardHours.toFixed(1)} vs ${flashThreshold.shardHours.toFixed(1)}`,
        met:
          flashOurs.p99LagS <= 0.5 * flashThreshold.p99LagS &&
          flashOurs.shardHours <= flashThreshold.shardHours,
      },
      {
        target: 'flash spike vs threshold: p99 iterator age (Kinesis definition) ≤ 50%',
        figures: `p99 iterator age ${flashOurs.p99IteratorAgeS.toFixed(0)} s vs ${flashThreshold.p99IteratorAgeS.toFixed(0)} s (${pctOf(flashOurs.p99IteratorAgeS, flashThreshold.p99IteratorAgeS)})`,
        met: flashOurs.p99IteratorAgeS <= 0.5 * flashThreshold.p99IteratorAgeS,
      },
    );
  const diurnalOurs = by('diurnal', 'ours');
  const diurnalPeak = by('diurnal', 'static at peak');
  if (diurnalOurs !== undefined && diurnalPeak !== undefined)
    targets.push({
      target: 'diurnal vs static at peak: shard-hours ≤ 60%, p99 lag < 2 min',
      figures: `shard-hours ${diurnalOurs.shardHours.toFixed(1)} vs ${diurnalPeak.shardHours.toFixed(1)} (${pctOf(diurnalOurs.shardHours, diurnalPeak.shardHours)}); p99 lag ${diurnalOurs.p99LagS.toFixed(0)} s, p99 iterator age ${diurnalOurs.p99IteratorAgeS.toFixed(0)} s`,
      met: diurnalOurs.shardHours <= 0.6 * diurnalPeak.shardHours && diurnalOurs.p99LagS < 120,
    });
  targets.push(
    {
      target: 'no policy breaks a Kinesis rule',
      figures: `${all.reduce((s, o) => s + o.violations, 0)} violations in ${all.length} runs`,
      met: all.every((o) => o.violations === 0),
    },
    {
      target: 'no record lost to throttling',
      figures: `${all.reduce((s, o) => s + Math.abs(o.lostRecords), 0)} lost in ${all.length} runs`,
      met: all.every((o) => o.lostRecords === 0),
    },
  );
  const columns = [
    'trace',
    'policy',
    'p99 lag s',
    'max lag s',
    'p99 iterator age s',
    'max iterator age s',
    'throttled records',
    'shard-hours',
    'cost $',
    'UpdateShardCount',
    'splits',
    'merges',
    'PF changes (max)',
    'shedding on/off',
    'max shards',
    'violations',
    'lost',
  ];
  const rows = all.map((o) => [
    o.trace,
    o.policy,
    Math.round(o.p99LagS),
    Math.round(o.maxLagS),
    Math.round(o.p99IteratorAgeS),
    Math.round(o.maxIteratorAgeS),
    o.throttledRecords,
    o.shardHours.toFixed(1),
    o.costUsd.toFixed(2),
    o.updateShardCountCalls,
    o.splits,
    o.merges,
    `${o.parallelizationChanges} (${o.maxParallelization})`,
    o.sheddingChanges,
    o.maxShards,
    o.violations,
    o.lostRecords,
  ]);
  const table = [
    markdownTable(columns, rows),
    '',
    markdownTable(
      ['target', 'figures', 'met'],
      targets.map((t) => [t.target, t.figures, t.met ? 'yes' : 'NO']),
    ),
    '',
    `Prices: ${PRICES.region}, ${PRICES.source} (as of ${PRICES.asOf}). Whole run ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  ].join('\n');
  writeResult('scaling', {
    settings: {
      model: MODEL,
      prices: PRICES,
      traces: traces().map((t) => ({
        name: t.name,
        description: t.description,
        durationS: t.durationS,
        stepS: t.stepS,
        maxShards: t.maxShards,
      })),
    },
    table,
    data: {
      outcomes: all.map(({ minutes: _, ...o }) => o),
      targets,
      charts: traces().map((t) => `bench/results/scaling-${t.name}.svg`),
    },
  });
  const broken = all.filter((o) => o.violations > 0 || o.lostRecords !== 0);
  if (broken.length > 0)
    throw new Error(
      `the simulator found rule violations or lost records: ${broken.map((o) => `${o.trace}/${o.policy}: ${o.violations} violations, ${o.lostRecords} lost`).join('; ')}`,
    );
}
