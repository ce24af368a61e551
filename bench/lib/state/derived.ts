/**
 * The derived-aggregates section of `npm run bench -- state`: the same order-line changes applied with the
 * order-line projection without derived updates (each batch: one BatchGetItem, one conditional UpdateItem per
 * line) and with them (each line's write a TransactWriteItems with its order's total), on the same DynamoDB
 * Local in the same run. Reports DynamoDB requests and capacity units per event, events/s, and the ratios; the
 * derived totals must equal the model's sums.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AggregateApplier } from '../../../core/processing/apply-aggregate.js';
import type { Projection } from '../../../core/processing/projection.js';
import { ParkedStore } from '../../../core/state/index.js';
import { orderLineTotals } from '../../../test/helpers/projections/order-line-totals.js';
import { createStoreTable } from '../../../test/helpers/state-tables.js';
import type { DynamoCounters } from '../instrument.js';
import { markdownTable } from '../results.js';
import {
  applyInBatches,
  freshStateStore,
  lineWorkload,
  perEvent,
  resetCounters,
  totalDifferences,
  withoutDerived,
} from './workload.js';

interface DerivedSettings {
  readonly events: number;
  readonly lines: number;
  readonly orders: number;
  readonly batchSize: number;
  readonly concurrency: number;
}

interface DerivedRow {
  readonly variant: string;
  readonly requestsPerEvent: number;
  readonly wcuPerEvent: number;
  readonly billedWcuPerEvent: number;
  readonly rcuPerEvent: number;
  readonly eventsPerSecond: number;
  readonly byCommand: Record<string, number>;
}

/** Runs both variants on fresh tables; throws if a derived total differs from the model. */
async function derivedSection(
  client: DynamoDBClient,
  counters: DynamoCounters,
  settings: DerivedSettings,
): Promise<{ table: string; rows: DerivedRow[]; ratios: Record<string, number> }> {
  const workload = lineWorkload({ ...settings, seed: 7 });
  const parkedStore = new ParkedStore({ client, tableName: await createStoreTable(client, 'parked') });
  const run = async (variant: string, projection: Projection): Promise<DerivedRow> => {
    const store = await freshStateStore(client);
    const applier = new AggregateApplier({ stateStore: store, parkedStore, projection, maxAttempts: 3 });
    resetCounters(counters);
    const seconds = await applyInBatches(applier, store, workload.changes, settings);
    const cost = perEvent(counters, settings.events);
    if (projection === orderLineTotals) {
      const wrong = await totalDifferences(store, workload.totals);
      if (wrong.length > 0)
        throw new Error(`derived totals differ from the model: ${wrong.slice(0, 5).join('; ')}`);
    }
    return { variant, ...cost, eventsPerSecond: settings.events / seconds };
  };
  // A first run warms the engine up (JIT, table creation); it is not reported.
  await run('warm-up', withoutDerived(orderLineTotals));
  const rows = [
    await run('without derived updates', withoutDerived(orderLineTotals)),
    await run('with derived updates (order totals)', orderLineTotals),
  ];
  const [base, derived] = rows as [DerivedRow, DerivedRow];
  const ratios = {
    requests: derived.requestsPerEvent / base.requestsPerEvent,
    wcu: derived.wcuPerEvent / base.wcuPerEvent,
    billedWcu: derived.billedWcuPerEvent / base.billedWcuPerEvent,
    eventsPerSecond: derived.eventsPerSecond / base.eventsPerSecond,
  };
  const table = markdownTable(
    [
      'derived aggregates',
      'requests/event',
      'WCU/event (reported)',
      'WCU/event (billed)',
      'RCU/event',
      'events/s',
    ],
    [
      ...rows.map((r) => [
        r.variant,
        r.requestsPerEvent,
        r.wcuPerEvent,
        r.billedWcuPerEvent,
        r.rcuPerEvent,
        r.eventsPerSecond,
      ]),
      ['with ÷ without', ratios.requests, ratios.wcu, ratios.billedWcu, '', ratios.eventsPerSecond],
    ],
  );
  return { table, rows, ratios };
}

export type { DerivedRow, DerivedSettings };
export { derivedSection };
