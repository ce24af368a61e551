import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { compareSequenceNumbers } from '../../../core/events/position.js';
import { Producer } from '../../../core/producer/producer.js';
import { ParkedStore } from '../../../core/state/parked-store.js';
import { CheckpointStore } from '../../../localstack/esm/checkpoints.js';
import {
  type KinesisHandler,
  LocalEventSourceMapping,
} from '../../../localstack/esm/event-source-mapping.js';
import { provision, resourceNames } from '../../../localstack/provision.js';
import { eventually, testClients, uniqueName } from '../../helpers/engines.js';

const clients = testClients();
afterAll(() => clients.destroy());

async function setup(shards: number, records: number, keys = 10) {
  const names = resourceNames(uniqueName('esm'));
  const { streamArn } = await provision(clients, names, { shardCount: shards });
  const producer = new Producer({ kinesis: clients.kinesis, streamName: names.streamName });
  const accepted = await producer.publish(
    Array.from({ length: records }, (_, i) => ({
      partitionKey: `key-${i % keys}`,
      data: Buffer.from(`${i % keys}:${i}`),
    })),
  );
  return {
    names,
    streamArn,
    accepted,
    checkpoints: new CheckpointStore({
      client: clients.dynamodb,
      tableName: names.coordinationTable,
      streamName: names.streamName,
    }),
    parked: new ParkedStore({ client: clients.dynamodb, tableName: names.parkedTable }),
  };
}

function mapping(
  env: Awaited<ReturnType<typeof setup>>,
  handler: KinesisHandler,
  settings: ConstructorParameters<typeof LocalEventSourceMapping>[0]['settings'] = {},
) {
  return new LocalEventSourceMapping({
    kinesis: clients.kinesis,
    streamName: env.names.streamName,
    streamArn: env.streamArn,
    handler,
    checkpoints: env.checkpoints,
    parkedStore: env.parked,
    settings,
    owner: 'test',
    idlePollMs: 20,
  });
}

const drained = (m: LocalEventSourceMapping, env: Awaited<ReturnType<typeof setup>>) => async () => {
  const tips = new Map<string, string>();
  for (const a of env.accepted)
    if (!tips.has(a.shardId) || compareSequenceNumbers(a.sequenceNumber, tips.get(a.shardId)!) > 0)
      tips.set(a.shardId, a.sequenceNumber);
  const progress = new Map(m.progress().map((p) => [p.shardId, p.checkpoint]));
  return [...tips].every(
    ([s, t]) => progress.get(s) !== undefined && compareSequenceNumbers(progress.get(s)!, t) >= 0,
  )
    ? true
    : undefined;
};

describe('Class: LocalEventSourceMapping (kinesalite)', () => {
  it('delivers ordered batches per shard and retries from the reported failure', async () => {
    const env = await setup(1, 30);
    const batches: string[][] = [];
    let failedOnce = false;
    const handler = async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
      const seqs = event.Records.map((r) => r.kinesis.sequenceNumber);
      batches.push(seqs);
      if (!failedOnce && seqs.includes(env.accepted[7]!.sequenceNumber)) {
        failedOnce = true;
        return { batchItemFailures: [{ itemIdentifier: env.accepted[7]!.sequenceNumber }] };
      }
      return { batchItemFailures: [] };
    };
    const m = mapping(env, handler, { batchSize: 10 });
    m.start();
    await eventually('drain', drained(m, env));
    await m.stop();
    const failing = batches.findIndex((b) => b.includes(env.accepted[7]!.sequenceNumber));
    // The retry starts exactly at the failed record and keeps the rest of that batch.
    expect(batches[failing + 1]).toEqual(
      batches[failing]!.slice(batches[failing]!.indexOf(env.accepted[7]!.sequenceNumber)),
    );
    const delivered = batches.flat();
    expect(new Set(delivered).size).toBe(30);
    expect(batches.every((b) => b.length <= 10)).toBe(true);
  });

  it('keeps per-partition-key order with ParallelizationFactor 4 while running lanes concurrently', async () => {
    const env = await setup(1, 400, 16);
    const seen = new Map<string, number[]>();
    let concurrent = 0;
    let maxConcurrent = 0;
    const handler = async (event: KinesisStreamEvent) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      await new Promise((r) => setTimeout(r, 5));
      for (const r of event.Records) {
        const [key, i] = Buffer.from(r.kinesis.data, 'base64').toString().split(':').map(Number);
        seen.set(String(key), [...(seen.get(String(key)) ?? []), i!]);
      }
      concurrent--;
      return { batchItemFailures: [] };
    };
    const m = mapping(env, handler, { batchSize: 10, parallelizationFactor: 4 });
    m.start();
    await eventually('drain', drained(m, env));
    await m.stop();
    expect(maxConcurrent).toBeGreaterThan(1);
    for (const [, list] of seen) expect(list).toEqual([...list].sort((a, b) => a - b));
    expect([...seen.values()].flat()).toHaveLength(400);
  });

  it('resumes from its checkpoint after a restart without losing or re-reading what was done', async () => {
    const env = await setup(2, 200);
    const firstRun: string[] = [];
    const first = mapping(
      env,
      async (event) => {
        firstRun.push(...event.Records.map((r) => r.kinesis.sequenceNumber));
        return { batchItemFailures: [] };
      },
      { batchSize: 25 },
    );
    first.start();
    await eventually('some progress', async () => (firstRun.length >= 50 ? true : undefined));
    await first.stop();
    const checkpoints = await env.checkpoints.list();
    expect(checkpoints.length).toBe(2);
    // Publish more while stopped; the second run must pick up after the checkpoints.
    const more = await new Producer({ kinesis: clients.kinesis, streamName: env.names.streamName }).publish(
      Array.from({ length: 50 }, (_, i) => ({
        partitionKey: `key-${i % 10}`,
        data: Buffer.from(`late:${i}`),
      })),
    );
    env.accepted.push(...more);
    const secondRun: string[] = [];
    const second = mapping(
      env,
      async (event) => {
        secondRun.push(...event.Records.map((r) => r.kinesis.sequenceNumber));
        return { batchItemFailures: [] };
      },
      { batchSize: 25 },
    );
    second.start();
    await eventually('drain', drained(second, env));
    await second.stop();
    const all = new Set([...firstRun, ...secondRun]);
    expect(all.size).toBe(250);
    const checkpointed = new Set(
      firstRun.filter((s) =>
        checkpoints.some((c) => c.checkpoint !== undefined && compareSequenceNumbers(s, c.checkpoint) <= 0),
      ),
    );
    for (const s of checkpointed) expect(secondRun).not.toContain(s);
  });

  it('sends records to the on-failure destination after the maximum retry attempts, with their payload', async () => {
    const env = await setup(1, 5);
    let calls = 0;
    const m = mapping(
      env,
      async (event) => {
        calls++;
        expect(event.Records.map((r) => r.kinesis.sequenceNumber)).toContain(env.accepted[2]!.sequenceNumber);
        return { batchItemFailures: [{ itemIdentifier: env.accepted[2]!.sequenceNumber }] };
      },
      { batchSize: 10, maximumRetryAttempts: 2 },
    );
    m.start();
    await eventually('drain', drained(m, env));
    await m.stop();
    const parked = await env.parked.scanAll();
    expect(parked.map((p) => p.reason)).toEqual([
      'RETRIES_EXHAUSTED',
      'RETRIES_EXHAUSTED',
      'RETRIES_EXHAUSTED',
    ]);
    expect(parked.map((p) => Buffer.from(p.record.data, 'base64').toString()).sort()).toEqual([
      '2:2',
      '3:3',
      '4:4',
    ]);
    expect(calls).toBe(3);
  });

  it('sends records older than the maximum record age to the on-failure destination', async () => {
    const env = await setup(1, 4);
    let delivered = 0;
    const m = new LocalEventSourceMapping({
      kinesis: clients.kinesis,
      streamName: env.names.streamName,
      streamArn: env.streamArn,
      handler: async (event) => {
        delivered += event.Records.length;
        return { batchItemFailures: [] };
      },
      checkpoints: env.checkpoints,
      parkedStore: env.parked,
      settings: { maximumRecordAgeSeconds: 60 },
      owner: 'test',
      // Two minutes ahead of the records' arrival: every record is past its age.
      now: () => Date.now() + 120_000,
    });
    m.start();
    await eventually('drain', drained(m, env));
    await m.stop();
    expect(delivered).toBe(0);
    expect((await env.parked.scanAll()).map((p) => p.reason)).toEqual(Array(4).fill('RECORD_TOO_OLD'));
  });

  it('rejects settings Lambda would reject, naming the value', () => {
    expect(() => new LocalEventSourceMapping({ settings: { parallelizationFactor: 11 } } as never)).toThrow(
      'parallelizationFactor must be an integer in 1..10, received 11',
    );
  });
});
