import type { PutRecordsCommand, PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { deaggregate } from '../../../core/events/kpl.js';
import { RecordsRejectedError } from '../../../core/producer/errors.js';
import { aggregate } from '../../../core/producer/kpl-aggregator.js';
import { Producer } from '../../../core/producer/producer.js';
import { seededRandom } from '../../../localstack/workload/random.js';

/**
 * A stand-in for the PutRecords API (no engine can fail entries on demand): it accepts or fails each entry
 * as told and appends accepted records to a per-key log, as a shard would.
 */
class FakeStream {
  public readonly log = new Map<string, string[]>();
  public requests = 0;
  public maxRecordsPerRequest = 0;
  public readonly inFlightKeys = new Set<string>();
  public keysInFlightTwice = 0;
  #sequence = 1000;

  public constructor(
    private readonly decide: (key: string, index: number) => 'ok' | 'throttle' | 'invalid',
    private readonly throwFirst = 0,
  ) {}

  /** Every response handed out, so a test can wait for them all. */
  public readonly responses: Promise<unknown>[] = [];

  public send(command: PutRecordsCommand): Promise<PutRecordsCommandOutput> {
    const response = this.#answer(command);
    this.responses.push(response);
    return response;
  }

  async #answer(command: PutRecordsCommand): Promise<PutRecordsCommandOutput> {
    this.requests++;
    const entries = command.input.Records ?? [];
    this.maxRecordsPerRequest = Math.max(this.maxRecordsPerRequest, entries.length);
    for (const e of entries) {
      if (this.inFlightKeys.has(e.PartitionKey!)) this.keysInFlightTwice++;
      this.inFlightKeys.add(e.PartitionKey!);
    }
    await new Promise((r) => setTimeout(r, 1));
    for (const e of entries) this.inFlightKeys.delete(e.PartitionKey!);
    if (this.requests <= this.throwFirst)
      throw Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
    const records = entries.map((e, index) => {
      const verdict = this.decide(e.PartitionKey!, index);
      if (verdict === 'throttle')
        return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' };
      if (verdict === 'invalid') return { ErrorCode: 'ValidationException', ErrorMessage: 'too big' };
      const seq = String(this.#sequence++);
      const payloads = deaggregate({
        data: e.Data!,
        partitionKey: e.PartitionKey!,
        sequenceNumber: seq,
      }).records;
      const list = this.log.get(e.PartitionKey!) ?? [];
      list.push(...payloads.map((p) => Buffer.from(p.data).toString()));
      this.log.set(e.PartitionKey!, list);
      return { ShardId: 'shardId-000000000000', SequenceNumber: seq };
    });
    return {
      Records: records,
      FailedRecordCount: records.filter((r) => 'ErrorCode' in r).length,
      $metadata: {},
    };
  }
}

function workload(keys: number, perKey: number) {
  const records: { partitionKey: string; data: Uint8Array }[] = [];
  for (let i = 0; i < perKey; i++)
    for (let k = 0; k < keys; k++)
      records.push({ partitionKey: `agg-${k}`, data: Buffer.from(`agg-${k}/${i}`) });
  return records;
}

describe('Class: Producer', () => {
  describe('Method: publish', () => {
    it('never reorders one aggregate when a third of the entries fail and are retried', async () => {
      const random = seededRandom(42);
      const stream = new FakeStream(() => (random() < 0.33 ? 'throttle' : 'ok'));
      const producer = new Producer({
        kinesis: stream,
        streamName: 's',
        retryBaseDelayMs: 1,
        retryMaxDelayMs: 5,
      });
      const records = workload(50, 20);
      const accepted = await producer.publish(records);
      expect(accepted).toHaveLength(1000);
      for (let k = 0; k < 50; k++)
        expect(stream.log.get(`agg-${k}`)).toEqual(Array.from({ length: 20 }, (_, i) => `agg-${k}/${i}`));
      expect(producer.stats.retries).toBeGreaterThan(100);
      expect(stream.keysInFlightTwice).toBe(0);
    });

    it('keeps order with KPL aggregation on, and packs a hot key into few records', async () => {
      const random = seededRandom(7);
      const stream = new FakeStream(() => (random() < 0.25 ? 'throttle' : 'ok'));
      const producer = new Producer({
        kinesis: stream,
        streamName: 's',
        aggregateMaxRecords: 50,
        retryBaseDelayMs: 1,
        retryMaxDelayMs: 5,
      });
      const records = workload(3, 200);
      await producer.publish(records);
      for (let k = 0; k < 3; k++)
        expect(stream.log.get(`agg-${k}`)).toEqual(Array.from({ length: 200 }, (_, i) => `agg-${k}/${i}`));
      expect(stream.requests).toBeLessThan(100);
    });

    it('reports sub-sequence numbers of aggregated records in input order', async () => {
      const stream = new FakeStream(() => 'ok');
      const producer = new Producer({
        kinesis: stream,
        streamName: 's',
        aggregateMaxRecords: 10,
        maxInFlightRequests: 1,
      });
      const first = producer.publish([{ partitionKey: 'a', data: Buffer.from('0') }]);
      const rest = producer.publish(
        Array.from({ length: 3 }, (_, i) => ({ partitionKey: 'a', data: Buffer.from(String(i + 1)) })),
      );
      const [a] = await first;
      const others = await rest;
      expect(a!.subSequenceNumber).toBe(0);
      expect(others.map((o) => o.subSequenceNumber)).toEqual([0, 1, 2]);
      expect(new Set(others.map((o) => o.sequenceNumber)).size).toBe(1);
    });

    it('retries a request that failed as a whole (throttling) without losing records', async () => {
      const stream = new FakeStream(() => 'ok', 3);
      const producer = new Producer({
        kinesis: stream,
        streamName: 's',
        retryBaseDelayMs: 1,
        retryMaxDelayMs: 2,
      });
      await producer.publish(workload(10, 3));
      expect([...stream.log.values()].flat()).toHaveLength(30);
      expect(producer.stats.pending).toBe(0);
    });

    it('fills requests up to the 500-record limit', async () => {
      const stream = new FakeStream(() => 'ok');
      const producer = new Producer({ kinesis: stream, streamName: 's', maxInFlightRequests: 1 });
      await producer.publish(workload(1200, 1));
      expect(stream.maxRecordsPerRequest).toBe(500);
    });

    it('rejects a record Kinesis refuses, together with the records held back behind it', async () => {
      const stream = new FakeStream((key) => (key === 'bad' ? 'invalid' : 'ok'));
      const producer = new Producer({ kinesis: stream, streamName: 's', retryBaseDelayMs: 1 });
      const bad = producer.publish([
        { partitionKey: 'bad', data: Buffer.from('1') },
        { partitionKey: 'bad', data: Buffer.from('2') },
      ]);
      const good = producer.publish([{ partitionKey: 'good', data: Buffer.from('1') }]);
      await expect(bad).rejects.toBeInstanceOf(RecordsRejectedError);
      await expect(good).resolves.toHaveLength(1);
      expect(stream.log.get('bad')).toBeUndefined();
    });

    it('refuses a record Kinesis can never take on its own, without failing the others', async () => {
      const stream = new FakeStream(() => 'ok');
      const producer = new Producer({ kinesis: stream, streamName: 's' });
      const tooLong = producer.publish([{ partitionKey: 'k'.repeat(257), data: Buffer.from('x') }]);
      const tooBig = producer.publish([{ partitionKey: 'big', data: Buffer.alloc(1024 * 1024) }]);
      const fine = producer.publish([{ partitionKey: 'fine', data: Buffer.from('y') }]);
      await expect(tooLong).rejects.toThrow('partition key must be 1 to 256 characters, received 257');
      await expect(tooBig).rejects.toThrow("above Kinesis' limit of 1048576");
      await expect(fine).resolves.toHaveLength(1);
    });

    it('settles every record when closed while a request is in flight, without crashing', async () => {
      const stream = new FakeStream(() => 'ok');
      const producer = new Producer({ kinesis: stream, streamName: 's' });
      const pending = producer.publish(workload(5, 2));
      producer.close();
      await expect(pending).rejects.toThrow('producer closed before the record was accepted');
      await Promise.allSettled(stream.responses);
      await expect(producer.publish(workload(1, 1))).rejects.toThrow('the producer is closed');
    });

    it('rejects unsafe options with the value received', () => {
      expect(
        () =>
          new Producer({ kinesis: new FakeStream(() => 'ok'), streamName: 's', maxRecordsPerRequest: 501 }),
      ).toThrow(
        'maxRecordsPerRequest must be an integer from 1 to 500 (PutRecords takes at most 500); received 501',
      );
    });
  });
});

describe('Function: aggregate', () => {
  it('round-trips through the de-aggregator with sub-sequence numbers', () => {
    const data = aggregate('public.orders#1', [Buffer.from('a'), Buffer.from('bb'), Buffer.alloc(300, 1)]);
    const out = deaggregate({ data, partitionKey: 'public.orders#1', sequenceNumber: '5' });
    expect(out.aggregated).toBe(true);
    expect(out.records.map((r) => [r.partitionKey, r.subSequenceNumber, r.data.byteLength])).toEqual([
      ['public.orders#1', 0, 1],
      ['public.orders#1', 1, 2],
      ['public.orders#1', 2, 300],
    ]);
  });
});
