/**
 * The order-line workload the derived-aggregate and lock sections of `npm run bench -- state` share: changes of
 * order lines (created, then their quantity updated), each line belonging to one order, applied in batches the
 * way the consumer applies a batch of a projection that reads its state (one BatchGetItem, then each aggregate
 * folded and written, several at once). The model sums each order's lines' final quantities.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ChangeEvent } from '../../../core/events/change.js';
import { postgresPosition } from '../../../core/events/position.js';
import type { AggregateApplier } from '../../../core/processing/apply-aggregate.js';
import { mapWithConcurrency } from '../../../core/processing/concurrency.js';
import type { PendingChange } from '../../../core/processing/fold.js';
import type { Projection } from '../../../core/processing/projection.js';
import { StateStore } from '../../../core/state/index.js';
import { seededRandom } from '../../../localstack/workload/random.js';
import { pending } from '../../../test/helpers/changes.js';
import { createStoreTable } from '../../../test/helpers/state-tables.js';
import { afterImagePayloads } from '../../../test/helpers/state-twins.js';
import type { DynamoCounters } from '../instrument.js';
import { resetCounters } from '../instrument.js';

interface LineWorkload {
  /** Every change, in source order. */
  readonly changes: readonly PendingChange[];
  /** The sum of each order's lines' final quantities, by order aggregate id. */
  readonly totals: ReadonlyMap<string, number>;
}

/** `events` changes of `lines` order lines spread over `orders` orders; a line's order never changes. */
function lineWorkload(options: {
  events: number;
  lines: number;
  orders: number;
  seed: number;
}): LineWorkload {
  const random = seededRandom(options.seed);
  const quantities = new Map<number, number>();
  const changes: PendingChange[] = [];
  for (let i = 0; i < options.events; i++) {
    const line = Math.floor(random() * options.lines);
    const order = line % options.orders;
    const quantity = 1 + Math.floor(random() * 9);
    const lsn = 100 + i * 10;
    const created = !quantities.has(line);
    quantities.set(line, quantity);
    const change: ChangeEvent = {
      format: 'debezium',
      table: 'public.order_lines',
      aggregateId: `public.order_lines#${line}`,
      op: created ? 'create' : 'update',
      source: 'debezium:dbserver1',
      position: postgresPosition(lsn, lsn - 1),
      before: created ? null : { id: line, order_id: order },
      after: { id: line, order_id: order, quantity },
      ts: 1_700_000_000_000 + i,
      txId: String(lsn),
    };
    changes.push(pending(change, String(lsn)));
  }
  const totals = new Map<string, number>();
  for (const [line, quantity] of quantities) {
    const id = `public.orders#${line % options.orders}`;
    totals.set(id, (totals.get(id) ?? 0) + quantity);
  }
  return { changes, totals };
}

/** The same line projection with its derived updates left out: the baseline of the derived section. */
function withoutDerived(projection: Projection): Projection {
  return {
    name: `${projection.name}-no-derived`,
    needsPreviousState: projection.needsPreviousState,
    apply: (previous, change) => {
      const { deleted, state } = projection.apply(previous, change);
      return { deleted, state };
    },
  };
}

/** Applies `changes` in batches of `batchSize` as the consumer does; returns the seconds it took. */
async function applyInBatches(
  applier: AggregateApplier,
  store: StateStore,
  changes: readonly PendingChange[],
  options: { batchSize: number; concurrency: number },
): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < changes.length; i += options.batchSize) {
    const groups = new Map<string, PendingChange[]>();
    for (const c of changes.slice(i, i + options.batchSize)) {
      const group = groups.get(c.change.aggregateId) ?? [];
      group.push(c);
      groups.set(c.change.aggregateId, group);
    }
    const items = await store.getMany([...groups.keys()]);
    await mapWithConcurrency([...groups], options.concurrency, ([id, group]) =>
      applier.apply(id, group, afterImagePayloads, { item: items.get(id) }),
    );
  }
  return (performance.now() - started) / 1000;
}

/** A fresh state table and the store over it. */
async function freshStateStore(client: DynamoDBClient): Promise<StateStore> {
  return new StateStore({
    client,
    tableName: await createStoreTable(client, 'state'),
    tombstoneTtlSeconds: 3600,
  });
}

/** Orders whose derived total differs from the model's, as sentences (empty: exact). */
async function totalDifferences(store: StateStore, totals: ReadonlyMap<string, number>): Promise<string[]> {
  const items = await store.getMany([...totals.keys()]);
  const wrong: string[] = [];
  for (const [id, expected] of totals) {
    const actual = Number(items.get(id)?.derived?.get('total') ?? 0);
    if (actual !== expected) wrong.push(`${id}: total ${actual}, expected ${expected}`);
  }
  return wrong;
}

/**
 * Requests and capacity units per event since `counters` were reset. `billedWcuPerEvent` counts the write
 * units of transactions twice, as DynamoDB bills them (2 WCU per KB per item); DynamoDB Local reports them
 * once.
 */
function perEvent(counters: DynamoCounters, events: number) {
  const transactional = Object.entries(counters.capacityByCommand)
    .filter(([command]) => command.startsWith('TransactWriteItems'))
    .reduce((sum, [, units]) => sum + units, 0);
  return {
    requestsPerEvent: counters.requests / events,
    wcuPerEvent: counters.writeCapacity / events,
    billedWcuPerEvent: (counters.writeCapacity + transactional) / events,
    rcuPerEvent: counters.readCapacity / events,
    byCommand: { ...counters.byCommand },
  };
}

export type { LineWorkload };
export {
  applyInBatches,
  freshStateStore,
  lineWorkload,
  perEvent,
  resetCounters,
  totalDifferences,
  withoutDerived,
};
