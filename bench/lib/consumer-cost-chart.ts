/** The consumer-cost benchmark's chart, drawn from its results (`bench/results/consumer-cost.json`). */
import { type BarPanel, svgBars } from './svg-bars.js';

interface Measure {
  readonly requestsPerEvent: number;
  readonly eventsPerSecond: number;
  readonly cpuMsPer1000: number;
}

/** One variant of the benchmark as `data` records it. */
interface ConsumerCostVariant {
  readonly workload: string;
  readonly batchSize: number;
  readonly events: number;
  readonly floor: number;
  readonly ours: Measure;
  readonly baseline: Measure;
}

const OURS = '#1f77b4';
const BASELINE = '#ff7f0e';

/**
 * DynamoDB requests per event (with the floor: distinct aggregates per batch ÷ events), events per second and
 * CPU per 1,000 events, ours against Powertools batch + idempotency, one row per workload and batch size; the
 * ratio of each row is written beside it.
 */
function consumerCostChart(result: {
  readonly measuredAt: string;
  readonly settings: { readonly events: number; readonly aggregates: number };
  readonly data: readonly ConsumerCostVariant[];
}): string {
  const label = (v: ConsumerCostVariant) => `${v.workload}, batch ${v.batchSize.toLocaleString('en-US')}`;
  const bars = (v: ConsumerCostVariant, key: keyof Measure) => [
    { label: 'ours (one conditional write per aggregate per batch)', color: OURS, value: v.ours[key] },
    { label: 'Powertools batch + idempotency', color: BASELINE, value: v.baseline[key] },
  ];
  const panels: BarPanel[] = [
    {
      title: 'DynamoDB requests per event',
      unit: 'fewer is better',
      rows: result.data.map((v) => ({
        label: label(v),
        bars: bars(v, 'requestsPerEvent'),
        marker: { label: 'floor (distinct aggregates ÷ events per batch)', value: v.floor },
        note: `${(v.baseline.requestsPerEvent / v.ours.requestsPerEvent).toFixed(1)}× fewer`,
      })),
    },
    {
      title: 'Events per second',
      unit: 'more is better',
      rows: result.data.map((v) => ({
        label: label(v),
        bars: bars(v, 'eventsPerSecond'),
        note: `${(v.ours.eventsPerSecond / v.baseline.eventsPerSecond).toFixed(1)}× faster`,
      })),
    },
    {
      title: 'CPU per 1,000 events',
      unit: 'ms, less is better',
      rows: result.data.map((v) => ({
        label: label(v),
        bars: bars(v, 'cpuMsPer1000'),
        note: `${(v.baseline.cpuMsPer1000 / v.ours.cpuMsPer1000).toFixed(1)}× less`,
      })),
    },
  ];
  return svgBars(
    'consumer-cost: one event in the consumer, ours against Powertools batch + idempotency',
    `Same events, same DynamoDB Local, same run: ${result.settings.events.toLocaleString('en-US')} events per variant over ` +
      `${result.settings.aggregates.toLocaleString('en-US')} aggregates; measured ${result.measuredAt.slice(0, 10)} (npm run bench -- consumer-cost)`,
    panels,
  );
}

export type { ConsumerCostVariant };
export { consumerCostChart };
