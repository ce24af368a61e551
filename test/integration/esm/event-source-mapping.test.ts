import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { type Clock, systemClock } from '../../../core/coordination/clock.js';
import {
  EventSourceMapping,
  type KinesisHandler,
  type ShardCheckpoint,
  type ShardOwnership,
} from '../../../core/esm/event-source-mapping.js';
import { PollingReader } from '../../../core/esm/polling-reader.js';
import { listStreamShards } from '../../../core/esm/shards.js';
import { compareSequenceNumbers } from '../../../core/events/position.js';
import { Producer } from '../../../core/producer/producer.js';
import { ParkedStore } from '../../../core/state/parked-store.js';
import { provision, resourceNames } from '../../../localstack/provision.js';
import { testClients, uniqueName } from '../../helpers/engines.js';
import { eventually } from '../../helpers/eventually.js';

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
    parked: new ParkedStore({ client: clients.dynamodb, tableName: names.parkedTable }),
  };
}

/** A stand-in for the worker's lease: keeps checkpoints in memory, in the order they were taken. */
class Ownership implements ShardOwnership {
  readonly checkpoints: ShardCheckpoint[] = [];
  readonly controller = new AbortController();
  ended = false;
  public constructor(
    public readonly shardId: string,
    public readonly startAfter: string | undefined = undefined,
    private readonly accept: () => boolean = () => true,
  ) {}
  public get signal(): AbortSignal {
    return this.controller.signal;
  }
  public mayProcess: () => boolean = () => !this.controller.signal.aborted;
  public get last(): string | undefined {
    return this.checkpoints.at(-1)?.sequenceNumber;
  }
  public async checkpoint(progress: ShardCheckpoint): Promise<boolean> {
    if (!this.accept()) return false;
    this.checkpoints.push(progress);
    return true;
  }
  public async end(progress: ShardCheckpoint): Promise<boolean> {
    this.checkpoints.push(progress);
    this.ended = true;
    return true;
  }
}

function mapping(
  env: Awaited<ReturnType<typeof setup>>,
  handler: KinesisHandler,
  settings: ConstructorParameters<typeof EventSourceMapping>[0]['settings'] = {},
  clock?: Clock,
) {
  return new EventSourceMapping({
    reader: new PollingReader({ kinesis: clients.kinesis, streamName: env.names.streamName }),
    streamArn: env.streamArn,
    handler,
    parkedStore: env.parked,
    settings,
    idlePollMs: 20,
    clock,
  });
}

/** Starts every shard of the stream with its own ownership. */
async function startAll(
  m: EventSourceMapping,
  env: Awaited<ReturnType<typeof setup>>,
  after = new Map<string, string | undefined>(),
) {
  const owners = new Map<string, Ownership>();
  for (const shard of await listStreamShards(clients.kinesis, env.names.streamName)) {
    const o = new Ownership(shard.shardId, after.get(shard.shardId));
    owners.set(shard.shardId, o);
    m.start(o);
  }
  return owners;
}

const drained = (owners: Map<string, Ownership>, env: Awaited<ReturnType<typeof setup>>) => async () => {
  const tips = new Map<string, string>();
  for (const a of env.accepted)
    if (!tips.has(a.shardId) || compareSequenceNumbers(a.sequenceNumber, tips.get(a.shardId)!) > 0)
      tips.set(a.shardId, a.sequenceNumber);
  return [...tips].every(([s, t]) => {
    const last = owners.get(s)?.last;
    return last !== undefined && compareSequenceNumbers(last, t) >= 0;
  })
    ? true
    : undefined;
};

describe('Class: EventSourceMapping (kinesalite, polling)', () => {
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
    const owners = await startAll(m, env);
    await eventually('drain', drained(owners, env));
    await m.stopAll();
    const failing = batches.findIndex((b) => b.includes(env.accepted[7]!.sequenceNumber));
    // The retry starts exactly at the failed record and keeps the rest of that batch.
    expect(batches[failing + 1]).toEqual(
      batches[failing]!.slice(batches[failing]!.indexOf(env.accepted[7]!.sequenceNumber)),
    );
    const delivered = batches.flat();
    expect(new Set(delivered).size).toBe(30);
    expect(batches.every((b) => b.length <= 10)).toBe(true);
    // Checkpoints only after whole batches, in order, counting every record once.
    const checkpoints = [...owners.values()][0]!.checkpoints;
    expect(checkpoints.reduce((sum, c) => sum + c.records, 0)).toBe(30);
    expect(checkpoints.map((c) => c.sequenceNumber)).toEqual(
      [...checkpoints.map((c) => c.sequenceNumber!)].sort(compareSequenceNumbers),
    );
  });

  it('keeps per-partition-key order with ParallelizationFactor 4 while running lanes concurrently', async () => {
    const env = await setup(1, 400, 16);
    const seen = new Map<string, number[]>();
    let concurrent = 0;
    let maxConcurrent = 0;
    let overlapped!: () => void;
    const overlap = new Promise<void>((resolve) => {
      overlapped = resolve;
    });
    const handler = async (event: KinesisStreamEvent) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      if (concurrent > 1) overlapped();
      // Every batch waits until two lanes have run at once: lanes run one after the other never would, and the
      // drain below would time out.
      await overlap;
      for (const r of event.Records) {
        const [key, i] = Buffer.from(r.kinesis.data, 'base64').toString().split(':').map(Number);
        seen.set(String(key), [...(seen.get(String(key)) ?? []), i!]);
      }
      concurrent--;
      return { batchItemFailures: [] };
    };
    const m = mapping(env, handler, { batchSize: 10, parallelizationFactor: 4 });
    const owners = await startAll(m, env);
    await eventually('drain', drained(owners, env));
    await m.stopAll();
    expect(maxConcurrent).toBeGreaterThan(1);
    for (const [, list] of seen) expect(list).toEqual([...list].sort((a, b) => a - b));
    expect([...seen.values()].flat()).toHaveLength(400);
  });

  it('resumes after the checkpoint it was given, without losing or re-reading what was checkpointed', async () => {
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
    const firstOwners = await startAll(first, env);
    await eventually('some progress', async () => (firstRun.length >= 50 ? true : undefined));
    await first.stopAll();
    const saved = new Map([...firstOwners].map(([id, o]) => [id, o.last]));
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
    const secondOwners = await startAll(second, env, saved);
    await eventually('drain', drained(secondOwners, env));
    await second.stopAll();
    expect(new Set([...firstRun, ...secondRun]).size).toBe(250);
    // A graceful stop finished and checkpointed every batch it started: nothing is read twice.
    expect(secondRun.filter((s) => firstRun.includes(s))).toEqual([]);
  });

  it('stops at once when the lease is lost: no checkpoint after the loss', async () => {
    const env = await setup(1, 300);
    let accept = true;
    let calls = 0;
    const m = mapping(
      env,
      async () => {
        calls++;
        // The lease is lost while the third batch runs: its checkpoint is refused.
        if (calls === 3) accept = false;
        return { batchItemFailures: [] };
      },
      { batchSize: 10 },
    );
    const [shard] = await listStreamShards(clients.kinesis, env.names.streamName);
    const owner = new Ownership(shard!.shardId, undefined, () => accept);
    m.start(owner);
    await eventually('the mapping to stop reading', () => m.shards.length === 0);
    await m.stopAll();
    // No batch after the refused checkpoint, and nothing recorded after the loss (not even an end).
    expect(calls).toBe(3);
    expect(owner.checkpoints).toHaveLength(2);
    expect(owner.ended).toBe(false);
  });

  it('asks the owner before every invocation and starts none once it may no longer act', async () => {
    const env = await setup(1, 300);
    let calls = 0;
    let may = true;
    const m = mapping(
      env,
      async () => {
        calls++;
        // The owner's lease runs out while the third batch runs.
        if (calls === 3) may = false;
        return { batchItemFailures: [] };
      },
      { batchSize: 10 },
    );
    const [shard] = await listStreamShards(clients.kinesis, env.names.streamName);
    const owner = new Ownership(shard!.shardId);
    owner.mayProcess = () => may;
    m.start(owner);
    await eventually('the mapping to stop reading', () => m.shards.length === 0);
    await m.stopAll();
    // The batch that was already running finishes; no other starts.
    expect(calls).toBe(3);
    expect(owner.ended).toBe(false);
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
    const owners = await startAll(m, env);
    await eventually('drain', drained(owners, env));
    await m.stopAll();
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
    const m = mapping(
      env,
      async (event) => {
        delivered += event.Records.length;
        return { batchItemFailures: [] };
      },
      { maximumRecordAgeSeconds: 60 },
      // A wall clock two minutes ahead of the records' arrival: every record is past its age.
      { ...systemClock, wallNow: () => Date.now() + 120_000 },
    );
    const owners = await startAll(m, env);
    await eventually('drain', drained(owners, env));
    await m.stopAll();
    expect(delivered).toBe(0);
    expect((await env.parked.scanAll()).map((p) => p.reason)).toEqual(Array(4).fill('RECORD_TOO_OLD'));
  });

  it('rejects settings Lambda would reject, naming the value', () => {
    expect(() => new EventSourceMapping({ settings: { parallelizationFactor: 11 } } as never)).toThrow(
      'parallelizationFactor must be an integer in 1..10; received 11',
    );
  });
});
