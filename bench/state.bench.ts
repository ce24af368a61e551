/**
 * Distributed state on DynamoDB Local, each section a comparison measured in the same run:
 * - derived aggregates: requests and capacity units per event of an order-line projection with and without
 *   derived updates of its orders' totals (`bench/lib/state/derived.ts`);
 * - locks: requests per event and p50/p99 wait for a lock set at 1, 4 and 16 concurrent holders, against the
 *   same holders without locks (`bench/lib/state/locks.ts`).
 * `npm run bench -- state`; `BENCH_STATE_EVENTS` sets the events per variant (default 4,000).
 */

import { localClients } from '../localstack/clients.js';
import { startDynamoDbLocal } from '../localstack/engines/engines.js';
import { instrument } from './lib/instrument.js';
import { writeResult } from './lib/results.js';
import { derivedSection } from './lib/state/derived.js';
import { locksSection } from './lib/state/locks.js';

const EVENTS = Number(process.env.BENCH_STATE_EVENTS ?? 4_000);

export default async function stateBench(): Promise<void> {
  const engine = await startDynamoDbLocal();
  const clients = localClients({ dynamodb: engine.endpoint, kinesis: engine.endpoint });
  try {
    const counters = instrument(clients.dynamodb);
    const derivedSettings = { events: EVENTS, lines: 2_000, orders: 200, batchSize: 100, concurrency: 8 };
    const derived = await derivedSection(clients.dynamodb, counters, derivedSettings);
    process.stdout.write(`\n### Derived aggregates\n\n${derived.table}\n`);
    const lockSettings = {
      events: Math.max(100, Math.floor(EVENTS / 4)),
      lines: 500,
      orders: 20,
      batchSize: 100,
      holders: [1, 4, 16],
      leaseDurationMs: 10_000,
      waitMs: 60_000,
    };
    const locks = await locksSection(clients.dynamodb, counters, lockSettings);
    process.stdout.write(`\n### Locks\n\n${locks.table}\n`);
    writeResult('state', {
      settings: { derived: derivedSettings, locks: lockSettings },
      table: `### Derived aggregates\n\n${derived.table}\n\n### Locks\n\n${locks.table}`,
      data: { derived, locks: locks.rows },
    });
  } finally {
    clients.destroy();
    await engine.process.stop();
  }
}
