/**
 * The locks section of `npm run bench -- state`: 1, 4 and 16 consumers ("holders") apply the order-line
 * workload at once, each its own share of the lines (as shards divide them), with the line projection that
 * derives order totals; every line's order is shared by all of them. Without locks, and with the projection
 * declaring `holdLocks` (each aggregate's line and order locked in one ordered multi-lock on the coordination
 * table, writes fenced). Reports DynamoDB requests per event (state and coordination tables), p50 and p99 wait
 * for a lock set, events/s, and the ratio to the same holders without locks; the totals must be exact.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbCoordinationStore, LockClient, systemClock } from '../../../core/coordination/index.js';
import { AggregateLocks } from '../../../core/processing/aggregate-locks.js';
import { AggregateApplier } from '../../../core/processing/apply-aggregate.js';
import type { PendingChange } from '../../../core/processing/fold.js';
import { ParkedStore } from '../../../core/state/index.js';
import { createCoordinationTable } from '../../../test/helpers/coordination.js';
import { uniqueName } from '../../../test/helpers/engines.js';
import {
  lockedOrderLineTotals,
  orderLineTotals,
} from '../../../test/helpers/projections/order-line-totals.js';
import { createStoreTable } from '../../../test/helpers/state-tables.js';
import type { DynamoCounters } from '../instrument.js';
import { markdownTable, percentile } from '../results.js';
import {
  applyInBatches,
  freshStateStore,
  lineWorkload,
  perEvent,
  resetCounters,
  totalDifferences,
} from './workload.js';

interface LockSettings {
  readonly events: number;
  readonly lines: number;
  readonly orders: number;
  readonly batchSize: number;
  readonly holders: readonly number[];
  /** `locks.leaseDurationMs` and `locks.waitMs` of the run. */
  readonly leaseDurationMs: number;
  readonly waitMs: number;
}

interface LockRow {
  readonly holders: number;
  readonly locked: boolean;
  readonly requestsPerEvent: number;
  readonly wcuPerEvent: number;
  readonly billedWcuPerEvent: number;
  readonly eventsPerSecond: number;
  readonly waitP50Ms: number;
  readonly waitP99Ms: number;
  readonly notGranted: number;
}

/** One run: `holders` consumers at once, each applying the changes of its lines in batches. */
async function runHolders(
  client: DynamoDBClient,
  counters: DynamoCounters,
  settings: LockSettings,
  holders: number,
  locked: boolean,
): Promise<LockRow> {
  const workload = lineWorkload({ ...settings, seed: 11 });
  const store = await freshStateStore(client);
  const parkedStore = new ParkedStore({ client, tableName: await createStoreTable(client, 'parked') });
  const coordination = new DynamoDbCoordinationStore({
    client,
    tableName: await createCoordinationTable(client, uniqueName('bench-locks')),
  });
  const waits: number[] = [];
  let notGranted = 0;
  const appliers = Array.from(
    { length: holders },
    (_, h) =>
      new AggregateApplier({
        stateStore: store,
        parkedStore,
        projection: locked ? lockedOrderLineTotals : orderLineTotals,
        maxAttempts: 3,
        ...(locked
          ? {
              locks: new AggregateLocks({
                locks: new LockClient({
                  store: coordination,
                  ownerId: `holder-${h}`,
                  leaseDurationMs: settings.leaseDurationMs,
                  backoffBaseMs: 5,
                  backoffMaxMs: 100,
                }),
                waitMs: settings.waitMs,
                leaseDurationMs: settings.leaseDurationMs,
                clock: systemClock,
                onWait: (w) => {
                  waits.push(w.waitedMs);
                  if (!w.granted) notGranted++;
                },
              }),
            }
          : {}),
      }),
  );
  // Each holder reads the lines of its "shards": line ids by remainder, like partition keys hashed to shards.
  const shareOf = (h: number): PendingChange[] =>
    workload.changes.filter((c) => Number(c.change.aggregateId.split('#')[1]) % holders === h);
  resetCounters(counters);
  const started = performance.now();
  await Promise.all(
    appliers.map((applier, h) =>
      applyInBatches(applier, store, shareOf(h), { batchSize: settings.batchSize, concurrency: 1 }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const cost = perEvent(counters, settings.events);
  const wrong = await totalDifferences(store, workload.totals);
  if (wrong.length > 0) throw new Error(`totals differ from the model: ${wrong.slice(0, 5).join('; ')}`);
  return {
    holders,
    locked,
    requestsPerEvent: cost.requestsPerEvent,
    wcuPerEvent: cost.wcuPerEvent,
    billedWcuPerEvent: cost.billedWcuPerEvent,
    eventsPerSecond: settings.events / seconds,
    waitP50Ms: percentile(waits, 50),
    waitP99Ms: percentile(waits, 99),
    notGranted,
  };
}

/** Runs every holder count without and with locks; throws if a total differs from the model. */
async function locksSection(
  client: DynamoDBClient,
  counters: DynamoCounters,
  settings: LockSettings,
): Promise<{ table: string; rows: LockRow[] }> {
  const rows: LockRow[] = [];
  for (const holders of settings.holders) {
    const plain = await runHolders(client, counters, settings, holders, false);
    const locked = await runHolders(client, counters, settings, holders, true);
    rows.push(plain, locked);
  }
  const table = markdownTable(
    [
      'holders',
      'locks',
      'requests/event',
      'WCU/event (billed)',
      'requests ÷ no locks',
      'wait p50 ms',
      'wait p99 ms',
      'not granted',
      'events/s',
    ],
    rows.map((r, i) => {
      const base = rows[i - (r.locked ? 1 : 0)]!;
      return [
        r.holders,
        r.locked ? 'held' : 'none',
        r.requestsPerEvent,
        r.billedWcuPerEvent,
        r.requestsPerEvent / base.requestsPerEvent,
        r.locked ? r.waitP50Ms : '',
        r.locked ? r.waitP99Ms : '',
        r.locked ? r.notGranted : '',
        r.eventsPerSecond,
      ];
    }),
  );
  return { table, rows };
}

export type { LockRow, LockSettings };
export { locksSection };
