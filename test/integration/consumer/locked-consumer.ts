/**
 * Child process of aggregate-locks.test.ts: one consumer applying order-line changes with a projection that
 * holds locks (the line's and its order's), on DynamoDB Local. With `pause`, it prints `writing` just before
 * its first transaction and sleeps a moment, so the test can stop it there (SIGSTOP) while it holds its locks.
 * A failed aggregate is applied once more, as a redelivery would, after printing whether the failed try left
 * anything behind. Prints one JSON line per step.
 *
 * Usage: locked-consumer.ts <endpoint> <stateTable> <parkedTable> <coordinationTable> <owner> <leaseMs> <pause> <changes-json>
 */
import { systemClock } from '../../../core/coordination/clock.js';
import { DynamoDbCoordinationStore, LockClient } from '../../../core/coordination/index.js';
import { messageOf } from '../../../core/errors.js';
import { postgresPosition } from '../../../core/events/position.js';
import { AggregateLocks } from '../../../core/processing/aggregate-locks.js';
import { AggregateApplier } from '../../../core/processing/apply-aggregate.js';
import { ParkedStore, StateStore, type StateStorePort } from '../../../core/state/index.js';
import { localClients } from '../../../localstack/clients.js';
import { pending } from '../../helpers/changes.js';
import { lockedOrderLineTotals } from '../../helpers/projections/order-line-totals.js';
import { afterImagePayloads } from '../../helpers/state-twins.js';

const [endpoint, stateTable, parkedTable, coordinationTable, owner, leaseMs, pause, changesJson] =
  process.argv.slice(2);
if (changesJson === undefined)
  throw new Error(
    'usage: locked-consumer.ts <endpoint> <stateTable> <parkedTable> <coordinationTable> <owner> <leaseMs> <pause> <changes-json>',
  );

const say = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
const clients = localClients({ dynamodb: endpoint!, kinesis: endpoint! });
const store = new StateStore({ client: clients.dynamodb, tableName: stateTable!, tombstoneTtlSeconds: 3600 });
let pauseNext = pause === '1';
/** The state store, stopping once before the first transaction when asked to. */
const stateStore: StateStorePort = {
  get: (id) => store.get(id),
  getMany: (ids) => store.getMany(ids),
  write: (...a) => store.write(...a),
  transact: async (id, mutation, guard, options) => {
    if (pauseNext) {
      pauseNext = false;
      say({
        event: 'writing',
        aggregateId: id,
        fences: [options.fence, ...options.derived.map((d) => d.fence)],
      });
      // Long enough for the test to see the line and stop this process first, on a busy machine too.
      await systemClock.sleep(2_000);
    }
    return store.transact(id, mutation, guard, options);
  },
};
const lease = Number(leaseMs);
const lockClient = new LockClient({
  store: new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: coordinationTable! }),
  ownerId: owner!,
  leaseDurationMs: lease,
  heartbeatPeriodMs: lease / 4,
  backoffBaseMs: 20,
  backoffMaxMs: 200,
});
const applier = new AggregateApplier({
  stateStore,
  parkedStore: new ParkedStore({ client: clients.dynamodb, tableName: parkedTable! }),
  projection: lockedOrderLineTotals,
  maxAttempts: 3,
  transientAttempts: 1,
  locks: new AggregateLocks({
    locks: lockClient,
    waitMs: 20 * lease,
    leaseDurationMs: lease,
    clock: systemClock,
    onWait: (wait) => say({ event: 'locked', ...wait }),
  }),
});

/** [line, lsn, order, quantity] of each change, applied in order, one aggregate at a time. */
const changes = (JSON.parse(changesJson) as [number, number, number, number][]).map(
  ([line, lsn, order, quantity]) =>
    pending(
      {
        format: 'debezium',
        table: 'public.order_lines',
        aggregateId: `public.order_lines#${line}`,
        op: 'create',
        source: 'debezium:dbserver1',
        position: postgresPosition(lsn, lsn - 1),
        before: null,
        after: { id: line, order_id: order, quantity },
        ts: 1_700_000_000_000 + lsn,
        txId: String(lsn),
      },
      String(lsn),
    ),
);

for (const change of changes) {
  const id = change.change.aggregateId;
  try {
    say({ event: 'applied', aggregateId: id, ...(await applier.apply(id, [change], afterImagePayloads)) });
  } catch (error) {
    say({
      event: 'failed',
      aggregateId: id,
      message: messageOf(error),
      left: (await store.get(id)) ?? null,
    });
    say({
      event: 'applied',
      aggregateId: id,
      retry: true,
      ...(await applier.apply(id, [change], afterImagePayloads)),
    });
  }
}
clients.destroy();
