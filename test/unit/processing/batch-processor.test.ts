import { describe, expect, it, vi } from 'vitest';
import type { ChangeEvent } from '../../../core/events/change.js';
import { createDecodeContext } from '../../../core/events/decode-context.js';
import type { ChangeDecoder } from '../../../core/events/decoder.js';
import { createDefaultRegistry } from '../../../core/events/default-registry.js';
import { DecoderRegistry } from '../../../core/events/registry.js';
import {
  BatchProcessor,
  type BatchProcessorOptions,
  type BatchStats,
  emptyStats,
  type StreamRecord,
} from '../../../core/processing/batch-processor.js';
import {
  FAULT_INJECTION_COLUMN,
  mirrorProjection,
  withFaultInjection,
} from '../../../core/processing/projection.js';
import { aggregate } from '../../../core/producer/kpl-aggregator.js';
import type { StateStorePort } from '../../../core/state/index.js';
import { toStreamRecords } from '../../../functions/consumer/create-handler.js';
import { debeziumEnvelope as debezium, orderChange } from '../../helpers/changes.js';
import { changeRecord, kinesisEvent, seq, type TestRecord } from '../../helpers/consumer.js';
import { stateTwins } from '../../helpers/state-twins.js';

const poisoned = (id: number, lsn: number) =>
  orderChange(id, lsn, 'update', { id, [FAULT_INJECTION_COLUMN]: 'boom' });
/** A Debezium record of `change` at LSN `lsn`, delivered as sequence number `n`. */
const at = (change: ChangeEvent, lsn: number, n: number) => changeRecord(change, lsn, n);
const streamRecords = (records: readonly TestRecord[]): StreamRecord[] =>
  toStreamRecords(kinesisEvent(records));
const stats = (partial: Partial<BatchStats>): BatchStats => ({ ...emptyStats(), ...partial });
const base64 = (text: string | Uint8Array) => Buffer.from(text).toString('base64');

function setup(options: Partial<BatchProcessorOptions> & { readonly needsPreviousState?: boolean } = {}) {
  const twins = stateTwins();
  const logger = { warn: vi.fn(), error: vi.fn() };
  const { needsPreviousState = false, ...rest } = options;
  const processor = new BatchProcessor({
    registry: createDefaultRegistry(),
    decodeContext: createDecodeContext(),
    stateStore: twins.stateStore,
    parkedStore: twins.parkedStore,
    projection: withFaultInjection({ ...mirrorProjection, needsPreviousState }),
    maxAttempts: 3,
    aggregateConcurrency: 4,
    logger,
    now: twins.now,
    clock: twins.clock,
    // One try: these tests see what a failure does; the retries have tests of their own.
    transientAttempts: 1,
    ...rest,
  });
  return {
    ...twins,
    logger,
    process: (records: readonly TestRecord[]) => processor.process(streamRecords(records)),
    processRecords: (records: readonly StreamRecord[]) => processor.process(records),
    reasons: async () => (await twins.parkedTwin.scanAll()).map((p) => p.reason).sort(),
  };
}

/** A decoder of `{"id": n, "lsn": n}` records that answers from a list of aggregate ids, one per decode. */
function scriptedDecoder(ids: string[], stateful: boolean): ChangeDecoder & { calls: number } {
  const decoder = {
    format: 'scripted',
    stateful,
    calls: 0,
    matches: (value: unknown) => typeof value === 'object' && value !== null && 'lsn' in value,
    decode: (value: unknown) => {
      decoder.calls++;
      const { lsn } = value as { lsn: number };
      return [{ ...orderChange(1, lsn), aggregateId: ids.shift() ?? 'public.orders#1' }];
    },
  };
  return decoder;
}

describe('Class: BatchProcessor', () => {
  describe('constructor', () => {
    it.each([
      ['aggregateConcurrency', { aggregateConcurrency: 0 }, 0],
      ['maxInFlightBytes', { maxInFlightBytes: 0.5 }, 0.5],
    ])('rejects %s below one whole unit, naming the value', (option, override, received) => {
      expect(() => setup(override)).toThrow(
        `${option} must be a whole number of at least 1; received ${received}`,
      );
    });
  });

  describe('Method: process', () => {
    it('applies each aggregate with one write, in order, skipping redelivered changes', async () => {
      const t = setup();
      await t.process([at(orderChange(1, 10, 'create'), 10, 1)]);

      const result = await t.process([
        at(orderChange(1, 10, 'create'), 10, 1),
        at(orderChange(2, 11, 'create'), 11, 2),
        at(orderChange(1, 12), 12, 3),
      ]);

      expect(result).toEqual({
        batchItemFailures: [],
        stats: stats({ records: 3, changes: 3, applied: 2, duplicates: 1, aggregates: 2, stateWrites: 2 }),
      });
      expect(await t.stateTwin.get('public.orders#1')).toMatchObject({
        position: orderChange(1, 12).position,
        state: { id: 1, status: 's12' },
      });
    });

    it('does nothing for an empty batch', async () => {
      const t = setup();
      const getMany = vi.spyOn(t.stateStore, 'getMany');

      expect(await t.process([])).toEqual({ batchItemFailures: [], stats: emptyStats() });
      expect(getMany).not.toHaveBeenCalled();
    });

    it('parks undecodable records whole with their reason, counts tombstones, and goes on', async () => {
      const t = setup();

      const result = await t.process([
        { data: '{"truncated": ', partitionKey: 'x', sequenceNumber: seq(1) },
        at(orderChange(1, 10, 'create', { name: 'no id' }), 10, 2),
        { data: '{"hello":"world"}', partitionKey: 'y', sequenceNumber: seq(3) },
        at(orderChange(9, 11, 'create'), 11, 4),
        { data: '', partitionKey: 'tombstone', sequenceNumber: seq(5) },
      ]);

      expect(result).toEqual({
        batchItemFailures: [],
        stats: stats({
          records: 5,
          changes: 1,
          applied: 1,
          parked: 3,
          badInput: 3,
          undecodable: 3,
          tombstones: 1,
          aggregates: 1,
          stateWrites: 1,
        }),
      });
      expect(await t.reasons()).toEqual(['MISSING_KEY', 'NOT_JSON', 'UNKNOWN_FORMAT']);
      const notJson = (await t.parkedTwin.scanAll()).find((p) => p.reason === 'NOT_JSON');
      expect(notJson).toMatchObject({
        pk: 'BAD#shardId-000000000000',
        record: { data: base64('{"truncated": '), sequenceNumber: seq(1), subSequenceNumber: 0 },
        parkedAt: '2026-01-01T00:00:00.000Z',
      });
    });

    it('parks a record whose decoder fails unexpectedly as INVALID_ENVELOPE, with what it threw', async () => {
      const throwing: ChangeDecoder = {
        format: 'throwing',
        matches: () => true,
        decode: (value) => {
          if ((value as { kind: string }).kind === 'text') throw 'not an Error';
          throw new Error('decoder bug');
        },
      };
      const t = setup({ registry: new DecoderRegistry({ decoders: [throwing] }) });

      await t.process([
        { data: '{"kind":"error"}', partitionKey: 'a', sequenceNumber: seq(1) },
        { data: '{"kind":"text"}', partitionKey: 'b', sequenceNumber: seq(2) },
      ]);

      const parked = await t.parkedTwin.scanAll();
      expect(parked.map((p) => [p.reason, p.message]).sort()).toEqual([
        ['INVALID_ENVELOPE', 'the record could not be decoded (Error: decoder bug); check what produced it'],
        ['INVALID_ENVELOPE', 'the record could not be decoded (not an Error); check what produced it'],
      ]);
    });

    it('parks a corrupt KPL aggregate whole', async () => {
      const t = setup();
      const corrupt = Uint8Array.from([0xf3, 0x89, 0x9a, 0xc2, 1, 2, 3]);

      const result = await t.process([{ data: corrupt, partitionKey: 'k', sequenceNumber: seq(1) }]);

      expect(result.stats).toMatchObject({ badInput: 1, parked: 1 });
      expect((await t.parkedTwin.scanAll())[0]).toMatchObject({
        reason: 'KPL_CORRUPT',
        record: { data: base64(corrupt), subSequenceNumber: 0, partitionKey: 'k' },
      });
    });

    it('decodes each KPL sub-record on its own and parks a bad one as itself', async () => {
      const t = setup();
      const subRecords = [
        JSON.stringify(debezium(orderChange(1, 10, 'create'), 10)),
        'not json',
        JSON.stringify(debezium(orderChange(1, 11), 11)),
      ].map((s) => Buffer.from(s));

      const result = await t.process([
        {
          data: aggregate('public.orders#1', subRecords),
          partitionKey: 'public.orders#1',
          sequenceNumber: seq(1),
        },
      ]);

      expect(result.stats).toMatchObject({ records: 1, changes: 2, applied: 2, badInput: 1 });
      expect((await t.parkedTwin.scanAll())[0]).toMatchObject({
        reason: 'NOT_JSON',
        record: { data: base64('not json'), sequenceNumber: seq(1), subSequenceNumber: 1 },
      });
    });

    it('parks a poison change from a KPL sub-record with the sub-record as its payload', async () => {
      const t = setup({ maxAttempts: 1 });
      const poison = Buffer.from(JSON.stringify(debezium(poisoned(1, 11), 11)));
      const subRecords = [Buffer.from(JSON.stringify(debezium(orderChange(1, 10, 'create'), 10))), poison];

      const result = await t.process([
        {
          data: aggregate('public.orders#1', subRecords),
          partitionKey: 'public.orders#1',
          sequenceNumber: seq(1),
        },
      ]);

      expect(result.stats).toMatchObject({ applied: 1, parked: 1, quarantined: 1 });
      expect((await t.parkedTwin.listAggregate('public.orders#1'))[0]).toMatchObject({
        reason: 'POISON',
        record: { data: base64(poison), subSequenceNumber: 1, partitionKey: 'public.orders#1' },
      });
    });

    it('keeps the sub-sequence number of a replayed sub-record, when it is parked', async () => {
      const t = setup({ maxAttempts: 1 });
      const [plain, bad] = streamRecords([
        at(poisoned(1, 11), 11, 1),
        { data: 'still bad', partitionKey: 'k', sequenceNumber: seq(2) },
      ]);

      await t.processRecords([
        { ...plain!, subSequenceNumber: 3 },
        { ...bad!, subSequenceNumber: 4 },
      ]);

      const parked = await t.parkedTwin.scanAll();
      expect(parked.map((p) => [p.reason, p.record.subSequenceNumber]).sort()).toEqual([
        ['NOT_JSON', 4],
        ['POISON', 3],
      ]);
    });

    it('redelivers from the bad input when it cannot be parked, and applies the rest', async () => {
      const t = setup();
      t.parkedStore.inject({ kind: 'throttle', operations: ['put'] });

      const result = await t.process([
        at(orderChange(1, 10, 'create'), 10, 1),
        { data: 'not json', partitionKey: 'x', sequenceNumber: seq(2) },
      ]);

      expect(result.batchItemFailures).toEqual([{ itemIdentifier: seq(2) }]);
      expect(result.stats).toMatchObject({ applied: 1, badInput: 0, parked: 0 });
      expect(t.logger.error).toHaveBeenCalledWith(
        'cannot park bad input; the batch will be retried from it',
        expect.objectContaining({ error: expect.any(Error) }),
      );
    });

    it('reads the state of every aggregate in one request when the projection needs it', async () => {
      const t = setup({ needsPreviousState: true });
      await t.process([at(orderChange(1, 10, 'create'), 10, 1), at(orderChange(2, 10, 'create'), 10, 2)]);
      const getMany = vi.spyOn(t.stateStore, 'getMany');
      const get = vi.spyOn(t.stateStore, 'get');

      const result = await t.process([
        at(orderChange(2, 11), 11, 3),
        at(orderChange(1, 11), 11, 4),
        at(orderChange(2, 12), 12, 5),
      ]);

      expect(getMany).toHaveBeenCalledTimes(1);
      expect(getMany).toHaveBeenCalledWith(['public.orders#2', 'public.orders#1']);
      expect(get).not.toHaveBeenCalled();
      expect(result.stats).toMatchObject({ applied: 3, stateWrites: 2 });
    });

    it("reads in one request the aggregates whose table's conflict strategy needs the state, only those", async () => {
      const t = setup({
        conflictPolicy: (table) =>
          table === 'public.orders' ? { strategy: 'last-writer-wins' } : { strategy: 'single-source' },
      });
      const getMany = vi.spyOn(t.stateStore, 'getMany');
      const get = vi.spyOn(t.stateStore, 'get');
      const line = { ...orderChange(7, 11, 'create'), table: 'public.lines', aggregateId: 'public.lines#7' };

      const result = await t.process([
        at(orderChange(2, 11, 'create'), 11, 1),
        at(line, 11, 2),
        at(orderChange(1, 12, 'create'), 12, 3),
      ]);

      expect(getMany).toHaveBeenCalledTimes(1);
      expect(getMany).toHaveBeenCalledWith(['public.orders#2', 'public.orders#1']);
      expect(get).not.toHaveBeenCalled();
      expect(result.stats).toMatchObject({ applied: 3, stateWrites: 3 });
    });

    it('does not read a new aggregate again after the batch read found it absent', async () => {
      const t = setup({ needsPreviousState: true });
      const get = vi.spyOn(t.stateStore, 'get');

      const result = await t.process([
        at(orderChange(1, 10, 'create'), 10, 1),
        at(orderChange(2, 10, 'create'), 10, 2),
      ]);

      expect(get).not.toHaveBeenCalled();
      expect(result.stats).toMatchObject({ applied: 2, stateWrites: 2 });
    });

    it('tries a throttled read, park and write again with backoff on the clock before failing the batch', async () => {
      const t = setup({ needsPreviousState: true, transientAttempts: 3 });
      t.stateStore.inject({ kind: 'throttle', operations: ['getMany'] });
      t.parkedStore.inject({ kind: 'timeout', operations: ['put'] });
      t.stateStore.inject({ kind: 'throttle', operations: ['write'] });

      const result = await t.clock.runUntil(
        t.process([
          { data: 'not json', partitionKey: 'x', sequenceNumber: seq(1) },
          at(orderChange(1, 10, 'create'), 10, 2),
        ]),
      );

      expect(result).toMatchObject({ batchItemFailures: [], stats: { applied: 1, parked: 1, badInput: 1 } });
      expect([...t.stateStore.injected, ...t.parkedStore.injected].map((f) => f.operation).sort()).toEqual([
        'getMany',
        'put',
        'write',
      ]);
    });

    it('counts bad input delivered again as parked once, keeping its first reason (park once, count once)', async () => {
      const t = setup();
      const bad = { data: '{"truncated": ', partitionKey: 'x', sequenceNumber: seq(1) };

      const first = await t.process([bad]);
      const again = await t.process([bad]);

      expect(first.stats).toMatchObject({ parked: 1, badInput: 1, undecodable: 1 });
      expect(again.stats).toMatchObject({ parked: 0, badInput: 0, undecodable: 1 });
      expect(await t.reasons()).toEqual(['NOT_JSON']);
    });

    it('redelivers every aggregate from its first change when their state cannot be read', async () => {
      const t = setup({ needsPreviousState: true });
      t.stateStore.inject({ kind: 'timeout', operations: ['getMany'] });

      const result = await t.process([
        at(orderChange(1, 10, 'create'), 10, 7),
        at(orderChange(2, 10, 'create'), 10, 5),
        at(orderChange(1, 11), 11, 6),
      ]);

      expect(result.batchItemFailures).toEqual([{ itemIdentifier: seq(5) }]);
      expect(result.stats).toMatchObject({ aggregates: 2, applied: 0, stateWrites: 0 });
      expect(t.stateTwin.size).toBe(0);
      expect(t.logger.error).toHaveBeenCalledWith(
        'cannot read aggregate state; the batch will be retried',
        expect.anything(),
      );
    });

    it('redelivers an aggregate that failed unexpectedly from its first change, and applies the others', async () => {
      const t = setup({ aggregateConcurrency: 1 });
      t.stateStore.inject({ kind: 'throttle', operations: ['write'] });

      const result = await t.process([
        at(orderChange(1, 10, 'create'), 10, 1),
        at(orderChange(2, 10, 'create'), 10, 2),
        at(orderChange(1, 11), 11, 3),
      ]);

      expect(result.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
      expect(result.stats).toMatchObject({ failedAggregates: 1, applied: 1 });
      expect(await t.stateTwin.get('public.orders#1')).toBeUndefined();
      expect(t.logger.error).toHaveBeenCalledWith('aggregate failed; the batch will be retried from it', {
        aggregateId: 'public.orders#1',
        txId: '10',
        sequenceNumber: seq(1),
        error: expect.any(Error),
      });
    });

    it('reports the lowest failing change while the other aggregates go on', async () => {
      const t = setup();

      const result = await t.process([
        at(orderChange(1, 10, 'create'), 10, 1),
        at(poisoned(2, 10), 10, 2),
        at(poisoned(1, 11), 11, 3),
        at(orderChange(3, 10, 'create'), 10, 4),
      ]);

      expect(result.batchItemFailures).toEqual([{ itemIdentifier: seq(2) }]);
      expect(result.stats).toMatchObject({ failedAggregates: 2, applied: 2, quarantined: 0 });
      expect(t.logger.warn).toHaveBeenCalledWith('change failed; it will be redelivered', {
        aggregateId: 'public.orders#1',
        txId: '11',
        sequenceNumber: seq(3),
        error: 'injected fault: boom',
      });
    });

    it('compares failing sequence numbers as numbers, whatever their length', async () => {
      const t = setup();

      const result = await t.process([
        { ...at(poisoned(1, 10), 10, 1), sequenceNumber: '100' },
        { ...at(poisoned(2, 10), 10, 2), sequenceNumber: '99' },
      ]);

      expect(result.batchItemFailures).toEqual([{ itemIdentifier: '99' }]);
    });

    it('counts quarantined aggregates and the changes parked behind them', async () => {
      const t = setup({ maxAttempts: 1 });

      const result = await t.process([
        at(orderChange(1, 10, 'create'), 10, 1),
        at(poisoned(1, 11), 11, 2),
        at(orderChange(1, 12), 12, 3),
      ]);

      expect(result).toEqual({
        batchItemFailures: [],
        stats: stats({
          records: 3,
          changes: 3,
          applied: 1,
          parked: 2,
          quarantined: 1,
          aggregates: 1,
          stateWrites: 1,
        }),
      });
      expect(t.logger.warn).toHaveBeenCalledWith(
        'change parked as poison; its aggregate is quarantined until replayed',
        {
          aggregateId: 'public.orders#1',
          txId: '11',
          sequenceNumber: seq(2),
          error: 'ProjectionError: injected fault: boom',
        },
      );
    });

    it('defers the changes of a deferred table', async () => {
      const t = setup({ isDeferred: (table) => table === 'public.orders' });

      const result = await t.process([at(orderChange(1, 10, 'create'), 10, 1)]);

      expect(result.stats).toMatchObject({ applied: 0, parked: 1, deferred: 1, stateWrites: 1 });
      expect(await t.reasons()).toEqual(['DEFERRED']);
    });

    it('fails an aggregate whose changes decode differently the second time, naming the fix', async () => {
      const decoder = scriptedDecoder(['public.orders#1', 'public.orders#2'], false);
      const t = setup({ registry: new DecoderRegistry({ decoders: [decoder] }) });

      const result = await t.process([{ data: '{"lsn": 10}', partitionKey: 'k', sequenceNumber: seq(1) }]);

      expect(result.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
      const [, { error }] = t.logger.error.mock.calls[0] as [string, { error: Error }];
      expect(error.message).toBe(
        `record ${seq(1)}/0 decoded to another change the second time; its decoder must be marked stateful`,
      );
    });

    it("keeps a stateful decoder's changes from their first decode", async () => {
      const decoder = scriptedDecoder(['public.orders#1', 'public.orders#2'], true);
      const t = setup({ registry: new DecoderRegistry({ decoders: [decoder] }) });

      const result = await t.process([{ data: '{"lsn": 10}', partitionKey: 'k', sequenceNumber: seq(1) }]);

      expect(result.stats).toMatchObject({ applied: 1, failedAggregates: 0 });
      expect(decoder.calls).toBe(1);
      expect(await t.stateTwin.get('public.orders#1')).toBeDefined();
    });

    it('goes on without a logger', async () => {
      const t = setup({ logger: undefined, aggregateConcurrency: 1 });
      t.stateStore.inject({ kind: 'throttle', operations: ['write'] });

      const result = await t.process([at(orderChange(1, 10, 'create'), 10, 1), at(poisoned(2, 10), 10, 2)]);

      expect(result.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
    });
  });

  describe('decoding and the byte budget', () => {
    /** Records what the processor does, in order: second-pass decodes and the writes around them. */
    function traced(options: Partial<BatchProcessorOptions>) {
      const events: string[] = [];
      const t = setup(options);
      const inner = t.stateStore;
      const stateStore: StateStorePort = {
        get: (id) => inner.get(id),
        getMany: (ids) => inner.getMany(ids),
        write: async (id, mutation, guard) => {
          events.push(`write ${id}`);
          // Let every other aggregate in flight run before this write ends.
          await new Promise((resolve) => setImmediate(resolve));
          events.push(`written ${id}`);
          return inner.write(id, mutation, guard);
        },
        transact: (id, mutation, guard, options) => inner.transact(id, mutation, guard, options),
      };
      const registry = createDefaultRegistry();
      const decode = registry.decode.bind(registry);
      vi.spyOn(registry, 'decode').mockImplementation((data, origin, context) => {
        const decoded = decode(data, origin, context);
        events.push(`decode ${decoded.changes[0]?.aggregateId}`);
        return decoded;
      });
      const processor = new BatchProcessor({
        registry,
        decodeContext: createDecodeContext(),
        stateStore,
        parkedStore: t.parkedStore,
        projection: mirrorProjection,
        maxAttempts: 3,
        aggregateConcurrency: 8,
        ...options,
      });
      const batch = [1, 2, 3].map((id) => at(orderChange(id, 10, 'create'), 10, id));
      return { events, run: () => processor.process(streamRecords(batch)) };
    }

    it('decodes an aggregate again only when its write is due, one at a time within a small budget', async () => {
      const { events, run } = traced({ maxInFlightBytes: 1 });

      await run();

      expect(events.slice(3)).toEqual([
        'decode public.orders#1',
        'write public.orders#1',
        'written public.orders#1',
        'decode public.orders#2',
        'write public.orders#2',
        'written public.orders#2',
        'decode public.orders#3',
        'write public.orders#3',
        'written public.orders#3',
      ]);
    });

    it('applies aggregates side by side within the default budget', async () => {
      const { events, run } = traced({});

      await run();

      expect(events.slice(3, 6)).toEqual([
        'decode public.orders#1',
        'write public.orders#1',
        'decode public.orders#2',
      ]);
      expect(events.indexOf('write public.orders#3')).toBeLessThan(events.indexOf('written public.orders#1'));
    });
  });
});
