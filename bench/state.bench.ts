/**
 * state: what distributed state management costs in the consumer, on DynamoDB Local, each comparison measured
 * in the same run on the same engine. A list of sections, each with its own table (`bench/lib/state/`):
 *
 * - cache: the owner cache off against on, for a folding projection on a Zipf workload (`owner-cache.ts`);
 * - handoff: the owner cache across a shard's hand-off, the new owner warmed from the ids the old one left,
 *   from its heartbeat hot keys, or not at all (`cache-hand-off.ts`);
 * - derived: an order-line projection with and without derived updates of its orders' totals (`derived.ts`);
 * - locks: lock sets at 1, 4 and 16 concurrent holders, against the same holders without locks (`locks.ts`).
 *
 * Options (environment): BENCH_STATE_EVENTS (events per variant; default 10,000 measured events for the cache
 * sections, after as many warm-up events, and 4,000 for derived, a quarter of them for locks),
 * BENCH_STATE_AGGREGATES (default 10,000), BENCH_STATE_RATE (events/s of the hand-off run, default 1,000: a
 * shard's write limit), BENCH_STATE_BEFORE_S / BENCH_STATE_AFTER_S (seconds before and after the hand-off,
 * default 10 and 15), BENCH_STATE_SECTIONS (some sections only, by name: cache,handoff,derived,locks).
 */

import { localClients } from '../localstack/clients.js';
import { startDynamoDbLocal } from '../localstack/engines/engines.js';
import { countingProjection } from '../localstack/run/effect-audit.js';
import { instrument } from './lib/instrument.js';
import { writeResult } from './lib/results.js';
import { handOffSection } from './lib/state/cache-hand-off.js';
import { derivedSection } from './lib/state/derived.js';
import { locksSection } from './lib/state/locks.js';
import { ownerCacheSection } from './lib/state/owner-cache.js';
import type { SectionResult, StateSection } from './lib/state/section.js';

const EVENTS =
  process.env.BENCH_STATE_EVENTS === undefined ? undefined : Number(process.env.BENCH_STATE_EVENTS);

const cacheSettings = {
  events: EVENTS ?? 10_000,
  aggregates: Number(process.env.BENCH_STATE_AGGREGATES ?? 10_000),
  zipfExponent: 1.1,
  batchSize: 100,
};
const handOffSettings = {
  ...cacheSettings,
  eventsPerSecond: Number(process.env.BENCH_STATE_RATE ?? 1_000),
  beforeS: Number(process.env.BENCH_STATE_BEFORE_S ?? 10),
  afterS: Number(process.env.BENCH_STATE_AFTER_S ?? 15),
};
const derivedSettings = {
  events: EVENTS ?? 4_000,
  lines: 2_000,
  orders: 200,
  batchSize: 100,
  concurrency: 8,
};
const lockSettings = {
  events: Math.max(100, Math.floor(derivedSettings.events / 4)),
  lines: 500,
  orders: 20,
  batchSize: 100,
  holders: [1, 4, 16],
  leaseDurationMs: 10_000,
  waitMs: 60_000,
};

/** Every section, in order. */
const SECTIONS: readonly StateSection[] = [
  ownerCacheSection(cacheSettings),
  handOffSection(handOffSettings),
  {
    name: 'derived',
    title: 'Derived aggregates',
    async run({ client, counters }) {
      const derived = await derivedSection(client, counters, derivedSettings);
      return { table: derived.table, data: { rows: derived.rows, ratios: derived.ratios }, targets: {} };
    },
  },
  {
    name: 'locks',
    title: 'Locks',
    async run({ client, counters }) {
      const locks = await locksSection(client, counters, lockSettings);
      return { table: locks.table, data: locks.rows, targets: {} };
    },
  },
];

export default async function stateBench(): Promise<void> {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const wanted = process.env.BENCH_STATE_SECTIONS?.split(',').map((s) => s.trim());
  const sections = SECTIONS.filter((s) => wanted === undefined || wanted.includes(s.name));
  const engine = await startDynamoDbLocal();
  const clients = localClients({ dynamodb: engine.endpoint, kinesis: engine.endpoint });
  const counters = instrument(clients.dynamodb);
  const results: Record<string, SectionResult> = {};
  try {
    for (const section of sections) {
      process.stderr.write(`state: section ${section.name}…\n`);
      const result = await section.run({ client: clients.dynamodb, counters });
      process.stdout.write(`\n### ${section.title}\n\n${result.table}\n`);
      results[section.name] = result;
    }
  } finally {
    clients.destroy();
    await engine.process.stop();
  }
  writeResult('state', {
    settings: {
      engine: 'DynamoDB Local',
      sections: sections.map((s) => s.name),
      cache: { ...handOffSettings, projection: countingProjection.name },
      derived: derivedSettings,
      locks: lockSettings,
    },
    table: sections.map((s) => `### ${s.title}\n\n${results[s.name]!.table}`).join('\n\n'),
    data: results,
  });
}
