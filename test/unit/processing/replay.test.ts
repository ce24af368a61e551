import { describe, expect, it } from 'vitest';
import { createDecodeContext } from '../../../core/events/decode-context.js';
import { createDefaultRegistry } from '../../../core/events/default-registry.js';
import { AggregateApplier } from '../../../core/processing/apply-aggregate.js';
import { BatchProcessor } from '../../../core/processing/batch-processor.js';
import {
  FAULT_INJECTION_COLUMN,
  mirrorProjection,
  type Projection,
  withFaultInjection,
} from '../../../core/processing/projection.js';
import { ParkedReplayer } from '../../../core/processing/replay.js';
import { recordParkedItem } from '../../../core/state/index.js';
import { debeziumEnvelope, orderChange, pending } from '../../helpers/changes.js';
import { parkedChange } from '../../helpers/parked-store-contract.js';
import { afterImagePayloads, loseNextWrites, stateTwins } from '../../helpers/state-twins.js';

const ID = 'public.orders#1';
const change = (lsn: number) => pending(orderChange(1, lsn), String(lsn));
const poison = (lsn: number) =>
  pending(orderChange(1, lsn, 'update', { id: 1, [FAULT_INJECTION_COLUMN]: 'boom' }), String(lsn));
const pos = (lsn: number) => orderChange(1, lsn).position;
const faulty = withFaultInjection(mirrorProjection);

/** A Kinesis record of `data`, as it is parked. */
function record(data: string, sequenceNumber = '7') {
  return {
    data: Buffer.from(data).toString('base64'),
    partitionKey: ID,
    sequenceNumber,
    subSequenceNumber: 0,
    shardId: 'shardId-000000000000',
    approximateArrivalTimestamp: 1_700_000_000_000,
    eventSourceArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/test',
  };
}
/** The fault fixed: the marked change applies like any other. */
const fixed = mirrorProjection;

function setup() {
  const twins = stateTwins();
  const deferral = { on: false };
  const applier = new AggregateApplier({
    stateStore: twins.stateTwin,
    parkedStore: twins.parkedTwin,
    projection: faulty,
    maxAttempts: 1,
    now: twins.now,
    isDeferred: () => deferral.on,
  });
  const processor = new BatchProcessor({
    registry: createDefaultRegistry(),
    decodeContext: createDecodeContext(),
    stateStore: twins.stateStore,
    parkedStore: twins.parkedStore,
    projection: faulty,
    maxAttempts: 3,
    aggregateConcurrency: 1,
  });
  return {
    ...twins,
    deferral,
    processor,
    consume: (...changes: ReturnType<typeof change>[]) => applier.apply(ID, changes, afterImagePayloads),
    replayer: (projection: Projection, withProcessor = false) =>
      new ParkedReplayer({
        stateStore: twins.stateStore,
        parkedStore: twins.parkedStore,
        projection,
        now: twins.now,
        ...(withProcessor ? { processor } : {}),
      }),
    parked: async (id = ID) =>
      (await twins.parkedTwin.listAggregate(id)).map((p) => [p.reason, p.change?.position, p.attempts]),
  };
}

describe('Class: ParkedReplayer', () => {
  describe('Method: replayAggregate', () => {
    it('applies the parked changes in order and lifts the quarantine', async () => {
      const t = setup();
      await t.consume(change(10), poison(11), change(12));

      const outcome = await t.replayer(fixed).replayAggregate(ID);

      expect(outcome).toEqual({
        target: ID,
        replayed: 2,
        skipped: 0,
        remaining: 0,
        lifted: true,
        error: undefined,
      });
      expect(await t.stateTwin.get(ID)).toMatchObject({ position: pos(12), quarantine: undefined });
      expect(t.parkedTwin.size).toBe(0);
    });

    it('keeps everything parked from a change that fails again, writing nothing', async () => {
      const t = setup();
      await t.consume(change(10), poison(11), change(12));
      const before = await t.stateTwin.get(ID);

      const outcome = await t.replayer(faulty).replayAggregate(ID);

      expect(outcome).toMatchObject({
        replayed: 0,
        remaining: 2,
        lifted: false,
        error: 'ProjectionError: injected fault: boom',
      });
      expect(await t.stateTwin.get(ID)).toEqual(before);
      expect(await t.parked()).toEqual([
        ['POISON', pos(11), 1],
        ['QUARANTINED', pos(12), 0],
      ]);
    });

    it('makes a deferred change that fails the poison, with the changes after it behind it', async () => {
      const t = setup();
      t.deferral.on = true;
      await t.consume(change(11), poison(12), change(13));

      const outcome = await t.replayer(faulty).replayAggregate(ID);

      expect(outcome).toMatchObject({ replayed: 1, remaining: 2, lifted: false });
      expect(await t.parked()).toEqual([
        ['POISON', pos(12), 1],
        ['QUARANTINED', pos(13), 0],
      ]);
      expect(await t.stateTwin.get(ID)).toMatchObject({
        position: pos(11),
        quarantine: { reason: 'POISON', position: pos(12), at: '2026-01-01T00:00:00.000Z' },
      });
    });

    it('removes parked changes the state already covers', async () => {
      const t = setup();
      await t.consume(change(20));
      await t.parkedTwin.put([parkedChange(orderChange(1, 15), 15, 'DEFERRED')]);

      const outcome = await t.replayer(fixed).replayAggregate(ID);

      expect(outcome).toMatchObject({ replayed: 0, skipped: 1, lifted: true });
      expect(t.parkedTwin.size).toBe(0);
      expect((await t.stateTwin.get(ID))?.revision).toBe(1);
    });

    it('creates the aggregate when only its parked changes are left', async () => {
      const t = setup();
      await t.parkedTwin.put([parkedChange(orderChange(1, 15), 15, 'POISON')]);

      const outcome = await t.replayer(fixed).replayAggregate(ID);

      expect(outcome).toMatchObject({ replayed: 1, lifted: true });
      expect(await t.stateTwin.get(ID)).toMatchObject({ position: pos(15), revision: 1 });
    });

    it('tries again when a change is parked behind the quarantine while it replays', async () => {
      const t = setup();
      await t.consume(change(10), poison(11));
      t.stateStore.inject({
        kind: 'interleave',
        operations: ['write'],
        before: async () => {
          await t.consume(change(12));
        },
      });

      const outcome = await t.replayer(fixed).replayAggregate(ID);

      expect(outcome).toMatchObject({ replayed: 2, lifted: true });
      expect(await t.stateTwin.get(ID)).toMatchObject({ position: pos(12), quarantine: undefined });
    });

    it('gives up after eight lost races in a row, to be run again', async () => {
      const t = setup();
      await t.consume(change(10), poison(11));
      loseNextWrites(t, ID, 8);

      await expect(t.replayer(fixed).replayAggregate(ID)).rejects.toThrow(
        `replay of ${ID}: lost 8 write races in a row; run it again`,
      );
      expect(await t.parked()).toHaveLength(1);
    });

    it('tries its poison write again when it loses a race', async () => {
      const t = setup();
      t.deferral.on = true;
      await t.consume(poison(11));
      loseNextWrites(t, ID);

      const outcome = await t.replayer(faulty).replayAggregate(ID);

      expect(outcome).toMatchObject({ remaining: 1, lifted: false });
      expect((await t.stateTwin.get(ID))?.quarantine?.reason).toBe('POISON');
    });
  });

  describe('Method: replayRecord', () => {
    it('needs a processor', async () => {
      const t = setup();
      const item = recordParkedItem(record('{'), 'NOT_JSON', 'not JSON', new Date(0));

      await expect(t.replayer(fixed).replayRecord(item)).rejects.toThrow(
        'replaying bad input needs a processor',
      );
    });

    it('puts a record through the consumer again and removes it once it applies', async () => {
      const t = setup();
      const envelope = JSON.stringify(debeziumEnvelope(orderChange(1, 10, 'create'), 10));
      const item = recordParkedItem(record(envelope), 'MISSING_KEY', 'no key then', new Date(0));
      await t.parkedTwin.put([item]);

      const outcome = await t.replayer(fixed, true).replayRecord(item);

      expect(outcome).toEqual({
        target: `${item.pk}/${item.sk}`,
        replayed: 1,
        skipped: 0,
        remaining: 0,
        lifted: true,
        error: undefined,
      });
      expect(t.parkedTwin.size).toBe(0);
      expect(await t.stateTwin.get(ID)).toMatchObject({ position: pos(10) });
    });

    it('keeps a record that is still undecodable, or whose change fails again', async () => {
      const t = setup();
      const bad = recordParkedItem(record('{'), 'NOT_JSON', 'not JSON', new Date(0));
      const failing = recordParkedItem(
        record(JSON.stringify(debeziumEnvelope(poison(10).change, 10))),
        'MISSING_KEY',
        'no key then',
        new Date(0),
      );

      const stillBad = await t.replayer(fixed, true).replayRecord(bad);
      const failedAgain = await t.replayer(fixed, true).replayRecord(failing);

      expect(stillBad).toMatchObject({ remaining: 1, lifted: false, error: 'still undecodable (NOT_JSON)' });
      expect(failedAgain).toMatchObject({ remaining: 1, lifted: false, error: 'the change failed again' });
    });
  });

  describe('Methods: replayDeferred and replayAll', () => {
    it('replays only the aggregates deferred by tables no longer deferred', async () => {
      const t = setup();
      t.deferral.on = true;
      await t.consume(change(11));
      await t.parkedTwin.put([parkedChange(orderChange(2, 5), 5, 'QUARANTINED')]);

      const stillPaused = await t.replayer(fixed).replayDeferred(() => true);
      const resumed = await t.replayer(fixed).replayDeferred(() => false);

      expect(stillPaused).toEqual([]);
      expect(resumed).toMatchObject([{ target: ID, replayed: 1, lifted: true }]);
      expect(await t.parked('public.orders#2')).toHaveLength(1);
    });

    it('replays every aggregate in order, then the bad input when it has a processor', async () => {
      const t = setup();
      const bad = recordParkedItem(record('{', '9'), 'NOT_JSON', 'not JSON', new Date(0));
      await t.parkedTwin.put([parkedChange(orderChange(2, 5), 5), parkedChange(orderChange(1, 5), 6), bad]);

      const all = await t.replayer(fixed, true).replayAll();

      expect(all.map((o) => [o.target, o.lifted])).toEqual([
        ['public.orders#1', true],
        ['public.orders#2', true],
        [`${bad.pk}/${bad.sk}`, false],
      ]);
    });

    it('leaves a truncate parked for discard, as no replay applies it, and says so', async () => {
      const t = setup();
      const truncate = recordParkedItem(
        record('{"op":"t"}', '8'),
        'TRUNCATE',
        'truncate of public.t',
        new Date(0),
      );
      await t.parkedTwin.put([truncate]);

      const [outcome] = await t.replayer(fixed, true).replayAll();

      expect(outcome).toMatchObject({
        target: `${truncate.pk}/${truncate.sk}`,
        lifted: false,
        remaining: 1,
        waitsForDiscard: true,
        error:
          'TRUNCATE is never replayed: act on it, then acknowledge it with `cdcp parked discard --reason TRUNCATE`',
      });
      expect(t.parkedTwin.size).toBe(1);
    });

    it('replays only the aggregate asked for, and no bad input without a processor', async () => {
      const t = setup();
      await t.parkedTwin.put([
        parkedChange(orderChange(2, 5), 5),
        parkedChange(orderChange(1, 5), 6),
        recordParkedItem(record('{', '9'), 'NOT_JSON', 'not JSON', new Date(0)),
      ]);

      const one = await t.replayer(fixed).replayAll({ aggregateId: 'public.orders#2' });
      const rest = await t.replayer(fixed).replayAll();

      expect(one.map((o) => o.target)).toEqual(['public.orders#2']);
      expect(rest.map((o) => o.target)).toEqual(['public.orders#1']);
      expect(t.parkedTwin.size).toBe(1);
    });
  });
});
