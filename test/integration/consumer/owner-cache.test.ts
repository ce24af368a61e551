import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../core/config/schema.js';
import { lambdaContext } from '../../../core/esm/lambda-event.js';
import { StateCache } from '../../../core/state/state-cache.js';
import { StateStore } from '../../../core/state/state-store.js';
import { createConsumerHandler } from '../../../functions/consumer/create-handler.js';
import { provision, resourceNames } from '../../../localstack/provision.js';
import { orderChange } from '../../helpers/changes.js';
import { changeRecord, kinesisEvent } from '../../helpers/consumer.js';
import { testClients, uniqueName } from '../../helpers/engines.js';
import { summingProjection } from '../../helpers/summing-projection.js';

const clients = testClients();
afterAll(() => clients.destroy());

/** Changes `from`..`to` of each order: change `k` has amount `k`, at LSN `id * 1000 + k`. */
const batchOf = (orders: readonly number[], from: number, to: number) =>
  kinesisEvent(
    orders.flatMap((id) =>
      Array.from({ length: to - from + 1 }, (_, i) => {
        const lsn = id * 1000 + from + i;
        return changeRecord(orderChange(id, lsn, 'update', { id, amount: from + i }), lsn, lsn);
      }),
    ),
  );

/** DynamoDB requests of the client by command, while counting is on. */
function requestCounter() {
  const counts = new Map<string, number>();
  let on = false;
  clients.dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      if (on) counts.set(context.commandName ?? '?', (counts.get(context.commandName ?? '?') ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: `ownerCacheCounter${Math.random()}` },
  );
  return {
    counts,
    during: async <T>(fn: () => Promise<T>): Promise<T> => {
      counts.clear();
      on = true;
      try {
        return await fn();
      } finally {
        on = false;
      }
    },
  };
}

describe('Owner cache on DynamoDB Local', () => {
  it('a second consumer changes aggregates behind cached entries: the next batch detects it and ends right', async () => {
    // Prepare: consumer A (an owner cache of its own) and consumer B (cache off) on the same tables.
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    const names = resourceNames(uniqueName('it-cache'));
    await provision(clients, names, { shardCount: 1 });
    const handler = (cache: boolean, stateCache?: StateCache) =>
      createConsumerHandler({
        dynamodb: clients.dynamodb,
        stateTable: names.stateTable,
        parkedTable: names.parkedTable,
        config: parseConfig({ cache: { enabled: cache } }),
        logger: new Logger({ logLevel: 'CRITICAL' }),
        metrics: new Metrics({ namespace: 'test' }),
        projection: summingProjection,
        stateCache,
      });
    const cacheOfA = new StateCache({ maxBytes: 1_048_576 });
    const a = handler(true, cacheOfA);
    const b = handler(false, new StateCache({ maxBytes: 1_048_576 }));
    const context = lambdaContext('test-consumer', 60_000);
    const requests = requestCounter();
    await a(batchOf([1, 2], 1, 2), context);
    // B (a hand-off overlap, a replay from an older checkpoint) applies changes 1..3 of order 1.
    await b(batchOf([1], 1, 3), context);

    // Act: A's next batch redelivers change 3 of order 1 and brings change 4 of both.
    await requests.during(() => a(batchOf([1, 2], 3, 4), context));

    // Assert: no batch read; order 1's write lost its condition, was read and written again; nothing twice.
    const state = new StateStore({
      client: clients.dynamodb,
      tableName: names.stateTable,
      tombstoneTtlSeconds: 3600,
    });
    expect((await state.get('public.orders#1'))?.state).toEqual({ sum: 10, changes: 4 });
    expect((await state.get('public.orders#2'))?.state).toEqual({ sum: 10, changes: 4 });
    expect(Object.fromEntries(requests.counts)).toEqual({ UpdateItemCommand: 3, GetItemCommand: 1 });
    // What A holds now is what the table holds (the handler drained the counters into its metrics).
    expect(cacheOfA.lookup('public.orders#1')).toEqual(await state.get('public.orders#1'));
    await requests.during(() => a(batchOf([1, 2], 5, 5), context));
    expect(Object.fromEntries(requests.counts)).toEqual({ UpdateItemCommand: 2 });
    expect((await state.get('public.orders#1'))?.state).toEqual({ sum: 15, changes: 5 });
  });
});
