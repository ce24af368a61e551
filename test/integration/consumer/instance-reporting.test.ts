import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../core/config/schema.js';
import { StaticConfigSource } from '../../../core/config/static-source.js';
import {
  DynamoDbCoordinationStore,
  InstanceRegistry,
  ManualClock,
  type PresenceOperation,
} from '../../../core/coordination/index.js';
import { lambdaContext } from '../../../core/esm/lambda-event.js';
import { PollingReader } from '../../../core/esm/polling-reader.js';
import { LatencyRecorder } from '../../../core/processing/latency.js';
import { hashKeyOf, hotKeysFromInstances } from '../../../core/scaling/index.js';
import { ParkedStore } from '../../../core/state/parked-store.js';
import { StateStore } from '../../../core/state/state-store.js';
import { createConsumerWorker } from '../../../core/workers/consumer-worker.js';
import { createConsumerHandler } from '../../../functions/consumer/create-handler.js';
import { withInstanceReporting } from '../../../functions/consumer/instance-reporting.js';
import { provision, resourceNames } from '../../../localstack/provision.js';
import { orderChange } from '../../helpers/changes.js';
import { changeRecord, kinesisEvent, type TestRecord } from '../../helpers/consumer.js';
import { testClients, uniqueName } from '../../helpers/engines.js';
import { eventually } from '../../helpers/eventually.js';

const clients = testClients();
afterAll(() => clients.destroy());

const SHARD = 'shardId-000000000004';
const HOT = 1;
const HOT_KEY = `public.orders#${HOT}`;
/** Heartbeats every 500 ms of the injected clock (failureDetectionMs / heartbeatsPerWindow). */
const CONFIG = parseConfig({
  version: '7',
  instances: { failureDetectionMs: 2_000, heartbeatsPerWindow: 4 },
});
const ARRIVAL_LAG_MS = 2_000;

/** The real consumer handler on DynamoDB Local, reporting itself in the instance registry of its own table. */
async function reportingConsumer(
  options: {
    coordinationTable?: string;
    /** Feeds the heartbeats' latency figures; changes are stamped as committed `sourceAgeMs` before now. */
    latency?: { recorder: LatencyRecorder; sourceAgeMs: number };
  } = {},
) {
  const names = resourceNames(uniqueName('inst'));
  await provision(clients, names, { shardCount: 1 });
  // The clock of the tracker and the registry writes: periods and heartbeat intervals are exact.
  const clock = new ManualClock({ wallStartMs: Date.now() });
  const configSource = new StaticConfigSource(CONFIG, { clock });
  const store = new DynamoDbCoordinationStore({
    client: clients.dynamodb,
    tableName: options.coordinationTable ?? names.coordinationTable,
  });
  const failures: PresenceOperation[] = [];
  const logger = new Logger({ logLevel: 'CRITICAL' });
  const metrics = new Metrics({ namespace: 'test' });
  const { handler, presence } = withInstanceReporting(
    createConsumerHandler({
      dynamodb: clients.dynamodb,
      stateTable: names.stateTable,
      parkedTable: names.parkedTable,
      config: CONFIG,
      logger,
      metrics,
      onBatch: (_result, _event, latencies) => options.latency?.recorder.record(latencies),
    }),
    {
      latency: options.latency?.recorder,
      store,
      config: () => configSource.current(),
      logger,
      metrics,
      clock,
      onFailure: (_error, operation) => failures.push(operation),
    },
  );
  let lsn = 0;
  let sequence = 0;
  /** One batch: `hot` changes of the hot aggregate and one change of each of `cold` other aggregates. */
  const invoke = async (hot: number, cold: number) => {
    const records: TestRecord[] = [];
    for (let i = 0; i < hot + cold; i++) {
      const id = i < hot ? HOT : 100 + (i - hot);
      lsn += 10;
      const change = orderChange(id, lsn);
      const committed =
        options.latency === undefined ? change : { ...change, ts: Date.now() - options.latency.sourceAgeMs };
      records.push(changeRecord(committed, lsn, ++sequence));
    }
    const event = kinesisEvent(records, SHARD);
    for (const record of event.Records)
      record.kinesis.approximateArrivalTimestamp = (clock.wallNow() - ARRIVAL_LAG_MS) / 1000;
    return handler(event, lambdaContext('test-consumer', 60_000));
  };
  // An observer as the cluster manager is: its own registry on the system clock.
  const observer = new InstanceRegistry({
    store: new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: names.coordinationTable }),
  });
  const state = new StateStore({
    client: clients.dynamodb,
    tableName: names.stateTable,
    tombstoneTtlSeconds: 60,
  });
  return { clock, invoke, observer, presence, failures, state, configSource };
}

describe('Consumer instance reporting on DynamoDB Local', () => {
  it('registers at the first batch and heartbeats with its load, config version and hot key', async () => {
    const consumer = await reportingConsumer();
    await consumer.clock.advance(1_000);

    // 1 s into the environment's life: 40 changes of the hot aggregate, 10 of others.
    const first = await consumer.invoke(40, 10);
    const registered = await consumer.observer.listLive();
    // Within the heartbeat interval: no write; then one interval later, a heartbeat.
    await consumer.clock.advance(200);
    await consumer.invoke(20, 5);
    await consumer.clock.advance(800);
    await consumer.invoke(30, 20);
    const live = await consumer.observer.listLive();

    expect(first.batchItemFailures).toEqual([]);
    expect(consumer.failures).toEqual([]);
    expect(registered).toHaveLength(1);
    expect(registered[0]).toMatchObject({
      instanceId: consumer.presence.instanceId,
      kind: 'lambda',
      heartbeat: 0,
      load: { eventsPerSecond: 50, lagMs: ARRIVAL_LAG_MS, inFlightBatches: 0 },
    });
    // The hot key first; the cold ones (one change each) after it, 8 keys per shard at most.
    expect(registered[0]!.hotKeys[0]).toEqual({ key: HOT_KEY, count: 40, shardId: SHARD, periodMs: 1_000 });
    expect(registered[0]!.hotKeys).toHaveLength(8);
    expect(registered[0]!.hotKeys.slice(1).every((k) => k.count === 1)).toBe(true);
    expect(live).toHaveLength(1);
    const [instance] = live;
    expect(instance!.instanceId).toMatch(/^lambda-/);
    expect(instance!.heartbeat).toBe(1);
    // The second and third batches, over the 1 s since the registration.
    expect(instance!.load).toEqual({ eventsPerSecond: 75, lagMs: ARRIVAL_LAG_MS, inFlightBatches: 0 });
    const applied = consumer.configSource.current().appliedAtWallMs;
    expect(instance!.configVersion).toBe(`7@${applied}`);
    expect(instance!.hotKeys[0]).toEqual({ key: HOT_KEY, count: 50, shardId: SHARD, periodMs: 1_000 });
    // Cold aggregates had one change per batch each: reported, each well below the hot key.
    expect(instance!.hotKeys.slice(1).every((k) => k.count <= 2)).toBe(true);
    // The batches were applied as usual.
    expect(await consumer.state.get(HOT_KEY)).toMatchObject({ state: { id: HOT } });

    const rates = hotKeysFromInstances(live, { heartbeatIntervalMs: 500 });
    expect(rates[0]).toEqual({ partitionKey: HOT_KEY, hashKey: hashKeyOf(HOT_KEY), recordsPerSecond: 50 });
    expect(rates.slice(1).every((r) => r.recordsPerSecond <= 2)).toBe(true);
  });

  it('reports the latency of the changes applied since its previous heartbeat', async () => {
    const sourceAgeMs = 60_000;
    const startedAt = Date.now();
    const consumer = await reportingConsumer({ latency: { recorder: new LatencyRecorder(), sourceAgeMs } });
    await consumer.clock.advance(1_000);

    await consumer.invoke(3, 7);
    const registered = await consumer.observer.listLive();
    await consumer.clock.advance(1_000);
    await consumer.invoke(2, 4);
    const live = await consumer.observer.listLive();
    const elapsedMs = Date.now() - startedAt;

    const first = registered[0]!.load.sourceToAppliedMs!;
    expect(first.count).toBe(10);
    // Committed a minute before its batch; applied within the test's time since: 1% is the sketch's accuracy.
    for (const figure of [first.p50Ms, first.p99Ms])
      expect(figure).toBeGreaterThanOrEqual(sourceAgeMs * 0.99);
    expect(first.maxMs).toBeLessThanOrEqual(sourceAgeMs + elapsedMs);
    expect(registered[0]!.load.arrivalToAppliedMs).toMatchObject({ count: 10 });
    // The heartbeat covers the second batch only: its period started at the registration.
    expect(live[0]!.heartbeat).toBe(1);
    expect(live[0]!.load.sourceToAppliedMs).toMatchObject({ count: 6 });
  });

  it('registers again after being removed as dead, and the hot keys keep flowing', async () => {
    const consumer = await reportingConsumer();
    await consumer.clock.advance(1_000);
    await consumer.invoke(10, 2);
    // The cluster manager's housekeeping removed it while the environment sat frozen.
    await consumer.observer.deregister(consumer.presence.instanceId);
    await consumer.clock.advance(2_000);

    await consumer.invoke(8, 0);
    const live = await consumer.observer.listLive();

    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject({ instanceId: consumer.presence.instanceId, heartbeat: 0 });
    expect(live[0]!.hotKeys).toEqual([{ key: HOT_KEY, count: 8, shardId: SHARD, periodMs: 2_000 }]);
  });

  it('processes every batch when the registry cannot be written, and reports each failure', async () => {
    const consumer = await reportingConsumer({ coordinationTable: uniqueName('missing-table') });
    await consumer.clock.advance(1_000);

    const first = await consumer.invoke(5, 1);
    await consumer.clock.advance(1_000);
    const second = await consumer.invoke(5, 1);

    expect(first.batchItemFailures).toEqual([]);
    expect(second.batchItemFailures).toEqual([]);
    expect(consumer.failures).toEqual(['register', 'register']);
    expect(consumer.presence.registered).toBe(false);
    expect(await consumer.state.get(HOT_KEY)).toMatchObject({ state: { id: HOT } });
  });

  it('a local worker reports the hot keys of the shard it reads, from the same tracker', async () => {
    const names = resourceNames(uniqueName('wk'));
    const { streamArn } = await provision(clients, names, { shardCount: 1 });
    const config = parseConfig({ instances: { failureDetectionMs: 2_000, heartbeatsPerWindow: 4 } });
    const local = createConsumerWorker({
      instanceId: uniqueName('worker'),
      streamName: names.streamName,
      streamArn,
      dynamodb: clients.dynamodb,
      coordinationTable: names.coordinationTable,
      kinesis: clients.kinesis,
      reader: new PollingReader({ kinesis: clients.kinesis, streamName: names.streamName }),
      handler: async () => ({ batchItemFailures: [] }),
      parkedStore: new ParkedStore({ client: clients.dynamodb, tableName: names.parkedTable }),
      mapping: {},
      config: () => config,
    });
    const observer = new InstanceRegistry({
      store: new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: names.coordinationTable }),
    });
    await local.worker.start();
    try {
      // 3 of every 4 records carry one partition key.
      const keys = Array.from({ length: 200 }, (_, i) => (i % 4 === 3 ? `cold-${i}` : 'tenant-hot'));
      await clients.kinesis.send(
        new PutRecordsCommand({
          StreamName: names.streamName,
          Records: keys.map((key) => ({ PartitionKey: key, Data: Buffer.from('{}') })),
        }),
      );

      // Heartbeats every 500 ms each carry what the worker counted since the previous one: add them up, each
      // heartbeat (counter value) once.
      const hotPerHeartbeat = new Map<number, number>();
      const seen = await eventually('the worker to report every hot record', async () => {
        const [instance] = await observer.listLive();
        const hot = instance?.hotKeys.find((k) => k.key === 'tenant-hot');
        if (instance !== undefined && hot !== undefined) {
          expect(hot).toMatchObject({ shardId: 'shardId-000000000000' });
          hotPerHeartbeat.set(instance.heartbeat, hot.count);
        }
        const total = [...hotPerHeartbeat.values()].reduce((a, b) => a + b, 0);
        return total >= 150 ? { instance: instance!, total } : undefined;
      });

      expect(seen.instance.kind).toBe('worker');
      expect(seen.total).toBe(150);
    } finally {
      await local.worker.stop();
    }
  });
});
