import type { KinesisStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../core/coordination/clock.js';
import {
  EventSourceMapping,
  type ShardCheckpoint,
  type ShardOwnership,
} from '../../../core/esm/event-source-mapping.js';
import { FanOutReader } from '../../../core/esm/fan-out-reader.js';
import { eventually } from '../../helpers/eventually.js';
import { event, record, ScriptedKinesis } from './scripted-kinesis.js';

const SHARD = 'shardId-000000000000';
const seq = (n: number) => String(n).padStart(20, '0');

/** A stand-in for a worker's lease of the shard: keeps the checkpoints it is given. */
function ownership(startAfter: string | undefined) {
  const lost = new AbortController();
  const checkpoints: string[] = [];
  const lease: ShardOwnership = {
    shardId: SHARD,
    startAfter,
    signal: lost.signal,
    mayProcess: () => !lost.signal.aborted,
    checkpoint: async (progress: ShardCheckpoint) => {
      checkpoints.push(progress.sequenceNumber!);
      return true;
    },
    end: async () => true,
  };
  return { lease, checkpoints };
}

/** A worker's mapping reading through enhanced fan-out, with a handler that records what it got. */
function worker(kinesis: ScriptedKinesis, clock: ManualClock) {
  const delivered: string[] = [];
  const mapping = new EventSourceMapping({
    reader: new FanOutReader({ kinesis: kinesis.client, consumerArn: 'arn:consumer', clock }),
    streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/orders',
    handler: async (e: KinesisStreamEvent) => {
      delivered.push(...e.Records.map((r) => r.kinesis.sequenceNumber));
      return { batchItemFailures: [] };
    },
    parkedStore: { put: async () => 0 },
    clock,
  });
  return { mapping, delivered };
}

describe('Class: EventSourceMapping (enhanced fan-out)', () => {
  it('hands a shard off mid-stream: the old owner checkpoints and cancels its subscription, the new one subscribes after that checkpoint', async () => {
    const clock = new ManualClock();
    const kinesis = new ScriptedKinesis();
    const a = worker(kinesis, clock);
    const leaseA = ownership(undefined);
    a.mapping.start(leaseA.lease);
    await eventually('the first subscription', () => kinesis.subscriptions.length === 1, {
      clock,
      timeoutMs: 60_000,
    });
    kinesis.last.stream.push(event([record(1), record(2), record(3)]));
    await eventually('the first checkpoint', () => leaseA.checkpoints.length === 1, {
      clock,
      timeoutMs: 60_000,
    });

    // Hand-off: the owner finishes its chunk, checkpoints, and stops reading.
    await a.mapping.stop(SHARD);
    const b = worker(kinesis, clock);
    const leaseB = ownership(leaseA.checkpoints.at(-1));
    // The old owner's subscription is less than five seconds old: Kinesis refuses the new one once.
    kinesis.inUse = 1;
    b.mapping.start(leaseB.lease);
    await eventually('the new owner subscribed', () => kinesis.subscriptions.length === 2, {
      clock,
      timeoutMs: 60_000,
    });
    kinesis.last.stream.push(event([record(4), record(5)]));
    await eventually("the new owner's checkpoint", () => leaseB.checkpoints.length === 1, {
      clock,
      timeoutMs: 60_000,
    });
    await b.mapping.stop(SHARD);

    expect(kinesis.subscriptions[0]!.stream.cancelled).toBe(true);
    expect(kinesis.subscriptions.map((s) => s.position)).toEqual([
      { Type: 'TRIM_HORIZON' },
      { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: seq(3) },
    ]);
    expect(a.delivered).toEqual([seq(1), seq(2), seq(3)]);
    expect(b.delivered).toEqual([seq(4), seq(5)]);
    expect([...leaseA.checkpoints, ...leaseB.checkpoints]).toEqual([seq(3), seq(5)]);
  });

  it('processes a closed shard to its end and reports the end to its owner', async () => {
    const clock = new ManualClock();
    const kinesis = new ScriptedKinesis();
    const { mapping, delivered } = worker(kinesis, clock);
    let ended: string | undefined;
    const { lease } = ownership(undefined);
    mapping.start({
      ...lease,
      end: async (progress) => {
        ended = progress.sequenceNumber;
        return true;
      },
    });
    await eventually('the subscription', () => kinesis.subscriptions.length === 1, {
      clock,
      timeoutMs: 60_000,
    });
    kinesis.last.stream.push(event([record(1)]));
    kinesis.last.stream.push(event([record(2)], true));
    await eventually('the end', () => ended !== undefined, { clock, timeoutMs: 60_000 });

    expect(delivered).toEqual([seq(1), seq(2)]);
    expect(ended).toBe(seq(2));
    expect(mapping.shards).toEqual([]);
  });
});
