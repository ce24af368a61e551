import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../core/coordination/clock.js';
import { FanOutReader } from '../../../core/esm/fan-out-reader.js';
import type { ShardStart } from '../../../core/esm/shard-reader.js';
import { event, record, ScriptedKinesis } from './scripted-kinesis.js';

const SHARD = 'shardId-000000000001';
const seq = (n: number) => String(n).padStart(20, '0');

function setup(start: Partial<ShardStart> = {}, options: { resubscribeIntervalMs?: number } = {}) {
  const clock = new ManualClock();
  const kinesis = new ScriptedKinesis();
  const reader = new FanOutReader({
    kinesis: kinesis.client,
    consumerArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/cdcp-workers:1',
    resubscribeIntervalMs: options.resubscribeIntervalMs ?? 60_000,
    clock,
  });
  const cursor = reader.open({
    shardId: SHARD,
    startAfter: undefined,
    startingPosition: 'TRIM_HORIZON',
    ...start,
  });
  const signal = new AbortController().signal;
  const next = (maxWaitMs = 1_000) => cursor.next({ signal, maxWaitMs });
  return { clock, kinesis, cursor, next };
}

const sequences = (page: { records: readonly { SequenceNumber?: string }[] }) =>
  page.records.map((r) => r.SequenceNumber);

describe('Class: FanOutReader', () => {
  describe('Method: open', () => {
    it('subscribes at the starting position when the lease has no checkpoint, and hands the events on in order', async () => {
      const { kinesis, next } = setup();
      const first = next();
      await Promise.resolve();
      await new Promise((r) => setImmediate(r));
      kinesis.last.stream.push(event([record(1), record(2)]));

      expect(sequences(await first)).toEqual([seq(1), seq(2)]);
      expect(kinesis.subscriptions.map((s) => s.position)).toEqual([{ Type: 'TRIM_HORIZON' }]);
      kinesis.last.stream.push(event([record(3)]));
      expect(sequences(await next())).toEqual([seq(3)]);
    });

    it('subscribes right after the checkpoint it is given (a new owner resumes where the old one stopped)', async () => {
      const { kinesis, next } = setup({ startAfter: seq(41) });
      const page = next();
      await new Promise((r) => setImmediate(r));
      kinesis.last.stream.push(event([record(42)]));

      expect(sequences(await page)).toEqual([seq(42)]);
      expect(kinesis.subscriptions[0]!.position).toEqual({
        Type: 'AFTER_SEQUENCE_NUMBER',
        SequenceNumber: seq(41),
      });
    });
  });

  describe('Method: next', () => {
    it('renews the subscription once its interval is up, after the last record handed out: nothing skipped, nothing repeated', async () => {
      const { clock, kinesis, next } = setup({}, { resubscribeIntervalMs: 10_000 });
      const first = next();
      await new Promise((r) => setImmediate(r));
      kinesis.last.stream.push(event([record(1), record(2)]));
      await first;
      const old = kinesis.last.stream;

      await clock.advance(10_000);
      const renewed = next();
      await new Promise((r) => setImmediate(r));
      kinesis.last.stream.push(event([record(3)]));

      expect(sequences(await renewed)).toEqual([seq(3)]);
      expect(old.cancelled).toBe(true);
      expect(kinesis.subscriptions.map((s) => s.position)).toEqual([
        { Type: 'TRIM_HORIZON' },
        { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: seq(2) },
      ]);
    });

    it('subscribes again after Kinesis ends the stream, from the last record handed out', async () => {
      const { clock, kinesis, next } = setup();
      const first = next();
      await new Promise((r) => setImmediate(r));
      kinesis.last.stream.push(event([record(7)]));
      await first;
      kinesis.last.stream.end();

      expect((await next()).records).toEqual([]);
      // SubscribeToShard allows one call per second per shard.
      await clock.advance(1_000);
      const again = next();
      await new Promise((r) => setImmediate(r));
      kinesis.last.stream.push(event([record(8)]));

      expect(sequences(await again)).toEqual([seq(8)]);
      expect(kinesis.subscriptions[1]!.position).toEqual({
        Type: 'AFTER_SEQUENCE_NUMBER',
        SequenceNumber: seq(7),
      });
    });

    it('reports a failed stream, then subscribes again from the last record handed out', async () => {
      const { clock, kinesis, next } = setup();
      const first = next();
      await new Promise((r) => setImmediate(r));
      kinesis.last.stream.push(event([record(5)]));
      await first;
      const failing = next();
      await new Promise((r) => setImmediate(r));
      kinesis.last.stream.fail(
        Object.assign(new Error('connection reset'), { name: 'InternalFailureException' }),
      );

      await expect(failing).rejects.toThrow('connection reset');
      await clock.advance(1_000);
      const again = next();
      await new Promise((r) => setImmediate(r));
      kinesis.last.stream.push(event([record(6)]));
      expect(sequences(await again)).toEqual([seq(6)]);
      expect(kinesis.subscriptions.map((s) => s.position.SequenceNumber)).toEqual([undefined, seq(5)]);
    });

    it('waits out ResourceInUseException (the previous owner subscribed less than five seconds ago) without failing', async () => {
      const { clock, kinesis, next } = setup({ startAfter: seq(9) });
      kinesis.inUse = 2;

      // Refused: nothing to hand out, and no new call for the retry interval (one second).
      expect((await next(500)).records).toEqual([]);
      for (const advanceMs of [500, 500]) {
        const waiting = next(500);
        await new Promise((r) => setImmediate(r));
        await clock.advance(advanceMs);
        expect((await waiting).records).toEqual([]);
      }
      expect(kinesis.inUse).toBe(0);
      const third = next(1_000);
      await new Promise((r) => setImmediate(r));
      await clock.advance(1_000);
      await new Promise((r) => setImmediate(r));
      kinesis.last.stream.push(event([record(10)]));
      // The event arrives within that call or, if its wait ran out first, at the next: it is never lost.
      const page = (await third).records.length > 0 ? await third : await next();

      expect(sequences(page)).toEqual([seq(10)]);
      expect(kinesis.subscriptions).toHaveLength(1);
      expect(kinesis.subscriptions[0]!.position.SequenceNumber).toBe(seq(9));
    });

    it('returns an empty page after the longest wait, and the event that comes later is not lost', async () => {
      const { clock, kinesis, next } = setup();
      const waiting = next(200);
      await new Promise((r) => setImmediate(r));
      await clock.advance(200);
      expect((await waiting).records).toEqual([]);

      kinesis.last.stream.push(event([record(1)]));
      expect(sequences(await next())).toEqual([seq(1)]);
      expect(kinesis.subscriptions).toHaveLength(1);
    });

    it('says the shard ended when an event has no continuation, and subscribes no more', async () => {
      const { kinesis, next } = setup();
      const last = next();
      await new Promise((r) => setImmediate(r));
      kinesis.last.stream.push(event([record(99)], true));

      expect(await last).toMatchObject({ ended: true });
      expect((await last).records).toHaveLength(1);
      expect(await next()).toMatchObject({ ended: true, records: [] });
      expect(kinesis.subscriptions).toHaveLength(1);
      expect(kinesis.last.stream.cancelled).toBe(true);
    });
  });

  describe('Method: close', () => {
    it('cancels the subscription (a hand-off or a lost lease): the stream is not read again', async () => {
      const { kinesis, cursor, next } = setup();
      const first = next();
      await new Promise((r) => setImmediate(r));
      kinesis.last.stream.push(event([record(1)]));
      await first;

      await cursor.close();

      expect(kinesis.last.stream.cancelled).toBe(true);
      expect(kinesis.subscriptions).toHaveLength(1);
    });
  });

  it('rejects a renewal interval Kinesis would not allow, naming the value', () => {
    expect(
      () =>
        new FanOutReader({
          kinesis: new ScriptedKinesis().client,
          consumerArn: 'arn',
          resubscribeIntervalMs: 400_000,
        }),
    ).toThrow('resubscribeIntervalMs must be from 5000 to 300000');
  });
});
