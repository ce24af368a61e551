/**
 * Aggregate locks on DynamoDB Local: a consumer process stopped (SIGSTOP) while it holds its locks, just
 * before its write, loses them to another consumer; when it is continued its late write is refused by the
 * fence the other stored, and nothing of it lands. And consumers whose lock sets name the same aggregates in
 * opposite orders all finish.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultConfig } from '../../../core/config/index.js';
import { METRICS } from '../../../core/constants.js';
import { DynamoDbCoordinationStore, LockClient } from '../../../core/coordination/index.js';
import type { ChangeEvent } from '../../../core/events/change.js';
import { postgresPosition } from '../../../core/events/position.js';
import { AggregateLocks, aggregateLockName } from '../../../core/processing/aggregate-locks.js';
import { AggregateApplier } from '../../../core/processing/apply-aggregate.js';
import type { Projection } from '../../../core/processing/projection.js';
import { ParkedStore, StateStore } from '../../../core/state/index.js';
import { aggregateLocksFor } from '../../../functions/consumer/aggregate-locks.js';
import { pending } from '../../helpers/changes.js';
import { createCoordinationTable } from '../../helpers/coordination.js';
import { testClients, uniqueName } from '../../helpers/engines.js';
import { eventually } from '../../helpers/eventually.js';
import { spawnScript } from '../../helpers/processes.js';
import { orderLineTotals } from '../../helpers/projections/order-line-totals.js';
import { createStoreTable } from '../../helpers/state-tables.js';
import { afterImagePayloads } from '../../helpers/state-twins.js';

const LEASE_MS = 1_500;
const clients = testClients();
let tables: { state: string; parked: string; coordination: string };

beforeAll(async () => {
  const prefix = uniqueName('locks');
  tables = {
    state: await createStoreTable(clients.dynamodb, 'state'),
    parked: await createStoreTable(clients.dynamodb, 'parked'),
    coordination: await createCoordinationTable(clients.dynamodb, prefix),
  };
});
afterAll(() => clients.destroy());

type Line = Record<string, unknown> & { event: string };

/** Starts a consumer process applying `changes` ([line, lsn, order, quantity]). */
function consumer(owner: string, pause: boolean, changes: [number, number, number, number][]) {
  const run = spawnScript('test/integration/consumer/locked-consumer.ts', [
    inject('dynamodbEndpoint'),
    tables.state,
    tables.parked,
    tables.coordination,
    owner,
    String(LEASE_MS),
    pause ? '1' : '0',
    JSON.stringify(changes),
  ]);
  const lines = (): Line[] =>
    run
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Line);
  return { run, lines };
}

describe('Aggregate locks between consumer processes', () => {
  it('a consumer stopped with SIGSTOP while holding its locks never applies its stale write', async () => {
    const state = new StateStore({
      client: clients.dynamodb,
      tableName: tables.state,
      tombstoneTtlSeconds: 3600,
    });
    // A: line 1 of order 7, stopped just before its transaction, holding {line 1, order 7}.
    const a = consumer('consumer-a', true, [[1, 10, 7, 5]]);
    try {
      await eventually('A about to write', () => a.lines().some((l) => l.event === 'writing'), {
        timeoutMs: 60_000,
      });
      a.run.child.kill('SIGSTOP');
      const [writing] = a.lines().filter((l) => l.event === 'writing');

      // B: line 2 of the same order: waits out A's silent lease, takes order 7's lock over and writes.
      const b = consumer('consumer-b', false, [[2, 20, 7, 3]]);
      expect(await b.run.exited).toMatchObject({ code: 0 });
      const afterB = await state.get('public.orders#7');

      a.run.child.kill('SIGCONT');
      expect(await a.run.exited).toMatchObject({ code: 0 });

      const aLines = a.lines();
      const failed = aLines.find((l) => l.event === 'failed');
      const retried = aLines.find((l) => l.event === 'applied');
      // A's write carried the fences of locks it had lost: refused, and nothing of it written.
      expect(failed?.message).toMatch(
        /lock on public\.orders#7 was taken over \(fence \d+ stored, ours \d+\)/,
      );
      expect(failed?.left).toBeNull();
      expect((writing!.fences as number[])[1]).toBeLessThan(afterB!.fence!);
      expect(afterB?.derived).toEqual(
        new Map([
          ['total', 3],
          ['lines', 1],
        ]),
      );
      // The redelivery takes the locks again, with fences above B's, and applies the change once.
      expect(retried).toMatchObject({ retry: true, applied: 1 });
      const order = await state.get('public.orders#7');
      expect(order?.derived).toEqual(
        new Map([
          ['total', 8],
          ['lines', 2],
        ]),
      );
      expect(order!.fence!).toBeGreaterThan(afterB!.fence!);
      expect(await state.get('public.order_lines#1')).toMatchObject({ state: { quantity: 5 } });
    } finally {
      a.run.child.kill('SIGCONT');
      a.run.child.kill('SIGKILL');
    }
  });

  it('reports lock contention and wait times through the consumer metrics', async () => {
    const recorded: [string, number][] = [];
    const metrics = {
      addMetric: (name: string, _unit: unknown, value: number) => recorded.push([name, value]),
    };
    const config = defaultConfig();
    const locks = aggregateLocksFor(
      { ...orderLineTotals, holdLocks: true },
      { ...config, locks: { ...config.locks, waitMs: 300 } },
      {
        dynamodb: clients.dynamodb,
        coordinationTable: tables.coordination,
        instanceId: 'metrics-a',
        metrics: metrics as never,
      },
    )!;
    const order = `public.orders#${uniqueName('m')}`;
    const other = new LockClient({
      store: new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: tables.coordination }),
      ownerId: 'metrics-b',
    });

    await locks.hold([order], async () => undefined);
    const held = await other.acquire(aggregateLockName(order), { waitMs: 0 });
    await expect(locks.hold([order], async () => undefined)).rejects.toThrow(/was not granted within/);
    await other.release(held);

    expect(recorded.filter(([name]) => name === METRICS.lockWaitTime)).toHaveLength(2);
    expect(recorded.filter(([name]) => name === METRICS.lockContention)).toEqual([
      [METRICS.lockContention, 1],
    ]);
    expect(recorded.find(([name, v]) => name === METRICS.lockWaitTime && v >= 300)).toBeDefined();
  });

  it('consumers locking the same aggregates named in opposite orders all finish, each change applied once', async () => {
    const state = new StateStore({
      client: clients.dynamodb,
      tableName: tables.state,
      tombstoneTtlSeconds: 3600,
    });
    const parked = new ParkedStore({ client: clients.dynamodb, tableName: tables.parked });
    const store = new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: tables.coordination });
    const [x, y] = [uniqueName('x'), uniqueName('y')].map((n) => `public.orders#${n}`) as [string, string];
    /** Line `line` adds to x then y, or to y then x: the lock sets are the same aggregates in opposite orders. */
    const crossing = (first: string, second: string): Projection => ({
      name: 'crossing',
      needsPreviousState: true,
      holdLocks: true,
      apply: (_previous, change) => ({
        deleted: false,
        state: change.after,
        derived: [
          { aggregateId: first, add: { n: 1 } },
          { aggregateId: second, add: { n: 1 } },
        ],
      }),
    });
    const consumerOf = (owner: string, projection: Projection) =>
      new AggregateApplier({
        stateStore: state,
        parkedStore: parked,
        projection,
        maxAttempts: 3,
        transientAttempts: 1,
        locks: new AggregateLocks({
          locks: new LockClient({
            store,
            ownerId: owner,
            leaseDurationMs: 10_000,
            backoffBaseMs: 5,
            backoffMaxMs: 50,
          }),
          waitMs: 30_000,
          leaseDurationMs: 10_000,
          clock: { now: () => performance.now() },
        }),
      });
    const change = (line: string, lsn: number): ReturnType<typeof pending> => {
      const event: ChangeEvent = {
        format: 'debezium',
        table: 'public.order_lines',
        aggregateId: line,
        op: 'update',
        source: 'debezium:dbserver1',
        position: postgresPosition(lsn, lsn - 1),
        before: null,
        after: { lsn },
        ts: lsn,
        txId: String(lsn),
      };
      return pending(event, String(lsn));
    };
    const ROUNDS = 8;
    const run = (applier: AggregateApplier, lines: string[]) =>
      Promise.all(
        lines.map(async (line) => {
          for (let lsn = 1; lsn <= ROUNDS; lsn++)
            await applier.apply(line, [change(line, lsn)], afterImagePayloads);
        }),
      );
    const forward = consumerOf('forward', crossing(x, y));
    const backward = consumerOf('backward', crossing(y, x));

    await Promise.all([
      run(forward, [`public.order_lines#${uniqueName('f1')}`, `public.order_lines#${uniqueName('f2')}`]),
      run(backward, [`public.order_lines#${uniqueName('b1')}`, `public.order_lines#${uniqueName('b2')}`]),
    ]);

    expect((await state.get(x))?.derived?.get('n')).toBe(4 * ROUNDS);
    expect((await state.get(y))?.derived?.get('n')).toBe(4 * ROUNDS);
  });
});
