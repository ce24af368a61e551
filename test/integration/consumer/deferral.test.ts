import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { isTableDeferred } from '../../../core/config/deferral.js';
import { type ConfigInput, parseConfig } from '../../../core/config/schema.js';
import {
  DynamoDbCoordinationStore,
  InstanceRegistry,
  LeaderElection,
} from '../../../core/coordination/index.js';
import { DeferredSweep } from '../../../core/processing/deferred-sweep.js';
import {
  configuredProjection,
  FAULT_INJECTION_COLUMN,
  mirrorProjection,
} from '../../../core/processing/projection.js';
import { ParkedReplayer } from '../../../core/processing/replay.js';
import { createClusterManagerHandler } from '../../../functions/cluster-manager/create-handler.js';
import { createProcessor, toStreamRecords } from '../../../functions/consumer/create-handler.js';
import { orderChange } from '../../helpers/changes.js';
import { changeRecord, kinesisEvent, type TestRecord } from '../../helpers/consumer.js';
import { createCoordinationTable } from '../../helpers/coordination.js';
import { testClients, uniqueName } from '../../helpers/engines.js';
import { freshStores } from '../../helpers/state-tables.js';

const clients = testClients();
afterAll(() => clients.destroy());

async function tables() {
  const { names, state, parked } = await freshStores(clients.dynamodb, 'defer');
  /** The consumer as it runs under `config` (a new config is a new processor, as in the handler). */
  const consume = (config: ConfigInput, records: TestRecord[]) =>
    createProcessor({
      dynamodb: clients.dynamodb,
      stateTable: names.stateTable,
      parkedTable: names.parkedTable,
      config: parseConfig(config),
      logger: new Logger({ logLevel: 'CRITICAL' }),
    }).process(toStreamRecords(kinesisEvent(records)));
  return { state, parked, consume };
}

const paused: ConfigInput = { tables: { 'public.orders': { paused: true } } };
const resumed: ConfigInput = { tables: { 'public.orders': { paused: false } } };

describe('Deferral: paused tables and shedding', () => {
  it('defers a paused table in order and resumes it inline when its next change arrives', async () => {
    const { state, parked, consume } = await tables();
    await consume(resumed, [changeRecord(orderChange(1, 10, 'create'), 10, 1)]);
    const whilePaused = await consume(paused, [
      changeRecord(orderChange(1, 11), 11, 2),
      changeRecord(orderChange(1, 12), 12, 3),
      changeRecord(orderChange(1, 10, 'create'), 10, 4),
    ]);
    expect(whilePaused.stats).toMatchObject({ parked: 2, duplicates: 1, applied: 0 });
    expect((await state.get('public.orders#1'))?.state).toEqual({ id: 1, status: 's10' });
    expect(
      (await parked.listAggregate('public.orders#1')).map((p) => [p.reason, p.change?.position]),
    ).toEqual([
      ['DEFERRED', orderChange(1, 11).position],
      ['DEFERRED', orderChange(1, 12).position],
    ]);
    // Resumed: the parked changes go first, then the new one, in one fold; the deferral is lifted.
    const after = await consume(resumed, [changeRecord(orderChange(1, 13), 13, 5)]);
    expect(after.stats).toMatchObject({ applied: 3, parked: 0 });
    const item = await state.get('public.orders#1');
    expect(item).toMatchObject({ position: orderChange(1, 13).position, state: { id: 1, status: 's13' } });
    expect(item?.quarantine).toBeUndefined();
    expect(await parked.listAggregate('public.orders#1')).toEqual([]);
  });

  it('sweeps deferred aggregates that get no new change once the table is resumed', async () => {
    const { state, parked, consume } = await tables();
    await consume(paused, [
      changeRecord(orderChange(2, 20, 'create'), 20, 1),
      changeRecord(orderChange(2, 21), 21, 2),
    ]);
    expect(await state.get('public.orders#2')).toMatchObject({ quarantine: { reason: 'DEFERRED' } });
    const replayer = new ParkedReplayer({
      stateStore: state,
      parkedStore: parked,
      projection: mirrorProjection,
    });
    expect(await replayer.replayDeferred((t) => isTableDeferred(parseConfig(paused), t))).toEqual([]);
    const outcomes = await replayer.replayDeferred((t) => isTableDeferred(parseConfig(resumed), t));
    expect(outcomes).toMatchObject([{ target: 'public.orders#2', lifted: true, replayed: 2 }]);
    expect(await state.get('public.orders#2')).toMatchObject({
      state: { id: 2, status: 's21' },
      quarantine: undefined,
    });
  });

  it('turns a deferred change that fails on resume into the poison, and the sweep leaves it to an operator', async () => {
    const { state, parked, consume } = await tables();
    const faulty = { ...paused, processing: { faultInjection: true } };
    const bad = orderChange(4, 41, 'update', { id: 4, [FAULT_INJECTION_COLUMN]: 'boom' });
    await consume(faulty, [changeRecord(orderChange(4, 40, 'create'), 40, 1), changeRecord(bad, 41, 2)]);
    const resumedFaulty = { ...resumed, processing: { faultInjection: true } };
    await consume(resumedFaulty, [changeRecord(orderChange(4, 42), 42, 3)]);
    const items = await parked.listAggregate('public.orders#4');
    expect(items.map((p) => [p.reason, p.change?.position])).toEqual([
      ['POISON', bad.position],
      ['QUARANTINED', orderChange(4, 42).position],
    ]);
    expect(items[0]!.message).toContain('injected fault: boom');
    expect(await state.get('public.orders#4')).toMatchObject({
      state: { id: 4, status: 's40' },
      quarantine: { reason: 'POISON', position: bad.position },
    });
    const replayer = new ParkedReplayer({
      stateStore: state,
      parkedStore: parked,
      projection: mirrorProjection,
    });
    expect(await replayer.replayDeferred(() => false)).toEqual([]);
  });

  it('sheds only the priorities shedding defers, never a high-priority table', async () => {
    const shedding: ConfigInput = {
      shedding: { active: true, deferPriorities: ['low'] },
      tables: { 'public.orders': { priority: 'low' }, 'public.customers': { priority: 'high' } },
    };
    const config = parseConfig(shedding);
    expect(isTableDeferred(config, 'public.orders')).toBe(true);
    expect(isTableDeferred(config, 'public.customers')).toBe(false);
    expect(isTableDeferred(config, 'public.order_lines')).toBe(false);
    expect(
      isTableDeferred(
        parseConfig({ shedding: { active: false }, tables: { 'public.orders': { priority: 'low' } } }),
        'public.orders',
      ),
    ).toBe(false);
    const { state, consume } = await tables();
    const result = await consume(shedding, [changeRecord(orderChange(3, 30, 'create'), 30, 1)]);
    expect(result.stats).toMatchObject({ parked: 1, applied: 0 });
    expect(await state.get('public.orders#3')).toMatchObject({ quarantine: { reason: 'DEFERRED' } });
  });

  it("in AWS, the cluster manager's sweep replays them once the table is resumed, whichever environment leads", async () => {
    const { state, parked, consume } = await tables();
    await consume(paused, [
      changeRecord(orderChange(5, 50, 'create'), 50, 1),
      changeRecord(orderChange(5, 51), 51, 2),
    ]);
    expect(await state.get('public.orders#5')).toMatchObject({ quarantine: { reason: 'DEFERRED' } });
    const store = new DynamoDbCoordinationStore({
      client: clients.dynamodb,
      tableName: await createCoordinationTable(clients.dynamodb, uniqueName('defer-coord')),
    });
    // What functions/cluster-manager/handler.ts composes, with the config the manager reads.
    let config = parseConfig({ ...paused, version: '2' });
    const manager = (candidateId: string) => {
      const sweep = new DeferredSweep({
        replayDeferred: (isDeferred) =>
          new ParkedReplayer({
            stateStore: state,
            parkedStore: parked,
            projection: configuredProjection(config),
          }).replayDeferred(isDeferred),
      });
      return createClusterManagerHandler({
        registry: new InstanceRegistry({ store }),
        election: new LeaderElection({ store, candidateId, leaseDurationMs: 150_000 }),
        logger: new Logger({ logLevel: 'CRITICAL' }),
        metrics: new Metrics({ namespace: 'test' }),
        sweepDeferred: () => sweep.sweepIfDue(config),
      });
    };
    const context = { functionName: 'cluster-manager', awsRequestId: 'r' } as unknown as Context;
    const first = manager(InstanceRegistry.newInstanceId('lambda'));
    const second = manager(InstanceRegistry.newInstanceId('lambda'));

    // Still paused: the leader's sweep finds nothing to replay.
    expect(await first({} as ScheduledEvent, context)).toMatchObject({
      leader: true,
      deferred: { version: '2', aggregates: 0 },
    });
    expect(await parked.listAggregate('public.orders#5')).toHaveLength(2);

    // Leadership lasts one run: the next run leads in whichever execution environment it lands in, and sweeps.
    config = parseConfig({ ...resumed, version: '3' });
    expect(await second({} as ScheduledEvent, context)).toMatchObject({
      leader: true,
      deferred: { version: '3', aggregates: 1, replayed: 2, remaining: 0, errors: [] },
    });
    expect(await state.get('public.orders#5')).toMatchObject({
      position: orderChange(5, 51).position,
      state: { id: 5, status: 's51' },
      quarantine: undefined,
    });
    expect(await parked.listAggregate('public.orders#5')).toEqual([]);
    // Same version, nothing left: the next run of that environment reads nothing.
    expect((await second({} as ScheduledEvent, context)).deferred).toBeUndefined();
  });
});
