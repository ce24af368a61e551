import { describe, expect, it } from 'vitest';
import { AggregateApplier } from '../../../core/processing/apply-aggregate.js';
import { ParkedDiscarder } from '../../../core/processing/discard.js';
import {
  FAULT_INJECTION_COLUMN,
  mirrorProjection,
  withFaultInjection,
} from '../../../core/processing/projection.js';
import { recordParkedItem } from '../../../core/state/index.js';
import { orderChange, pending } from '../../helpers/changes.js';
import { afterImagePayloads, loseNextWrites, stateTwins } from '../../helpers/state-twins.js';

const ID = 'public.orders#1';
const change = (lsn: number) => pending(orderChange(1, lsn), String(lsn));
const poison = (lsn: number) =>
  pending(orderChange(1, lsn, 'update', { id: 1, [FAULT_INJECTION_COLUMN]: 'boom' }), String(lsn));
const pos = (lsn: number) => orderChange(1, lsn).position;

function setup() {
  const twins = stateTwins();
  const applier = new AggregateApplier({
    stateStore: twins.stateTwin,
    parkedStore: twins.parkedTwin,
    projection: withFaultInjection(mirrorProjection),
    maxAttempts: 1,
    now: twins.now,
  });
  const truncate = recordParkedItem(
    {
      data: Buffer.from('{"op":"t"}').toString('base64'),
      partitionKey: 't',
      sequenceNumber: '99',
      subSequenceNumber: 0,
      shardId: 'shardId-000000000000',
      approximateArrivalTimestamp: 0,
      eventSourceArn: 'arn',
    },
    'TRUNCATE',
    'truncate of public.orders',
    new Date(0),
  );
  return {
    ...twins,
    truncate,
    consume: (...changes: ReturnType<typeof change>[]) => applier.apply(ID, changes, afterImagePayloads),
    discarder: new ParkedDiscarder({ stateStore: twins.stateStore, parkedStore: twins.parkedStore }),
  };
}

describe('Class: ParkedDiscarder', () => {
  it('selects by reason, by aggregate or by key, and never everything', async () => {
    const t = setup();
    await t.consume(change(10), poison(11), change(12));
    await t.parkedTwin.put([t.truncate]);
    const [poisoned] = await t.parkedTwin.listAggregate(ID);

    expect((await t.discarder.select({ reason: 'TRUNCATE' })).map((p) => p.reason)).toEqual(['TRUNCATE']);
    expect((await t.discarder.select({ aggregateId: ID })).map((p) => p.change?.position)).toEqual([
      pos(11),
      pos(12),
    ]);
    expect(await t.discarder.select({ key: { pk: poisoned!.pk, sk: poisoned!.sk } })).toEqual([poisoned]);
    expect(await t.discarder.select({ aggregateId: ID, reason: 'TRUNCATE' })).toEqual([]);
    await expect(t.discarder.select({})).rejects.toThrow('a discard names an aggregate, a reason or a key');
  });

  it('lifts the quarantine of an aggregate it leaves with nothing parked, so its next change applies', async () => {
    const t = setup();
    await t.consume(change(10), poison(11), change(12));

    const outcome = await t.discarder.discard(await t.discarder.select({ aggregateId: ID }));
    const next = await t.consume(change(13));

    expect(outcome.lifted).toEqual([ID]);
    expect(t.parkedTwin.size).toBe(0);
    expect(next).toMatchObject({ applied: 1, parked: 0 });
    expect(await t.stateTwin.get(ID)).toMatchObject({ position: pos(13), quarantine: undefined });
  });

  it('keeps the quarantine while changes stay parked behind it', async () => {
    const t = setup();
    await t.consume(change(10), poison(11), change(12));
    const [poisoned] = await t.parkedTwin.listAggregate(ID);

    const outcome = await t.discarder.discard([poisoned!]);

    expect(outcome.lifted).toEqual([]);
    expect((await t.stateTwin.get(ID))?.quarantine).toMatchObject({ position: pos(11) });
  });

  it('lifts again after losing the race to a writer that touched the item', async () => {
    const t = setup();
    await t.consume(change(10), poison(11));
    loseNextWrites(t, ID);

    const outcome = await t.discarder.discard(await t.discarder.select({ aggregateId: ID }));

    expect(outcome.lifted).toEqual([ID]);
    expect((await t.stateTwin.get(ID))?.quarantine).toBeUndefined();
  });

  it('discards records that never decoded without touching any state', async () => {
    const t = setup();
    await t.parkedTwin.put([t.truncate]);

    const outcome = await t.discarder.discard(await t.discarder.select({ reason: 'TRUNCATE' }));

    expect(outcome).toEqual({ discarded: [t.truncate], lifted: [] });
    expect(t.parkedTwin.size).toBe(0);
    expect(t.stateTwin.size).toBe(0);
  });
});
