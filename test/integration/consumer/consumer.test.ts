import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FAULT_INJECTION_COLUMN,
  mirrorProjection,
  type Projection,
} from '../../../core/processing/projection.js';
import { ParkedReplayer } from '../../../core/processing/replay.js';
import { orderChange } from '../../helpers/changes.js';
import { changeRecord, consumerUnderTest, seq } from '../../helpers/consumer.js';
import { testClients } from '../../helpers/engines.js';

const clients = testClients();
afterAll(() => clients.destroy());

const poisoned = (id: number, lsn: number) =>
  orderChange(id, lsn, 'update', { id, status: 'poison', [FAULT_INJECTION_COLUMN]: 'always fails' });

describe('Consumer handler on DynamoDB Local', () => {
  it('skips duplicates and late redeliveries, applying each change once', async () => {
    const consumer = await consumerUnderTest(clients);
    const first = await consumer.invoke([
      changeRecord(orderChange(1, 10, 'create'), 10, 1),
      changeRecord(orderChange(1, 20), 20, 2),
      changeRecord(orderChange(2, 30, 'create'), 30, 3),
    ]);
    expect(first.stats).toMatchObject({ applied: 3, duplicates: 0 });
    // The same batch again, then a batch with a late copy of the oldest change next to a new one.
    const again = await consumer.invoke([
      changeRecord(orderChange(1, 10, 'create'), 10, 1),
      changeRecord(orderChange(1, 20), 20, 2),
      changeRecord(orderChange(2, 30, 'create'), 30, 3),
    ]);
    expect(again.stats).toMatchObject({ applied: 0, duplicates: 3 });
    const late = await consumer.invoke([
      changeRecord(orderChange(1, 10, 'create'), 10, 4),
      changeRecord(orderChange(1, 40), 40, 5),
    ]);
    expect(late.stats).toMatchObject({ applied: 1, duplicates: 1 });
    const item = await consumer.state.get('public.orders#1');
    expect(item).toMatchObject({
      position: orderChange(1, 40).position,
      deleted: false,
      state: { id: 1, status: 's40' },
    });
  });

  it('keeps a deleted aggregate deleted when a late older duplicate arrives', async () => {
    const consumer = await consumerUnderTest(clients);
    await consumer.invoke([
      changeRecord(orderChange(7, 10, 'create'), 10, 1),
      changeRecord(orderChange(7, 20, 'delete'), 20, 2),
    ]);
    const late = await consumer.invoke([changeRecord(orderChange(7, 15), 15, 3)]);
    expect(late.stats).toMatchObject({ applied: 0, duplicates: 1 });
    const item = await consumer.state.get('public.orders#7');
    expect(item).toMatchObject({ deleted: true, state: null, position: orderChange(7, 20).position });
  });

  it('quarantines only the poisoned aggregate; others in the same batch and shard go on', async () => {
    const consumer = await consumerUnderTest(clients, {
      config: { processing: { faultInjection: true, maxAttempts: 3 } },
    });
    const batch = [
      changeRecord(orderChange(1, 10, 'create'), 10, 1),
      changeRecord(orderChange(2, 11, 'create'), 11, 2),
      changeRecord(poisoned(1, 12), 12, 3),
      changeRecord(orderChange(2, 13), 13, 4),
      changeRecord(orderChange(1, 14), 14, 5),
      changeRecord(orderChange(3, 15, 'create'), 15, 6),
    ];
    // Attempts 1 and 2: the batch is reported failed at the poison, the lowest failing record.
    for (let attempt = 1; attempt <= 2; attempt++) {
      const { response, stats } = await consumer.invoke(batch.slice(attempt === 1 ? 0 : 2));
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: seq(3) }]);
      expect(stats.failedAggregates).toBe(1);
    }
    expect(await consumer.state.get('public.orders#2')).toMatchObject({ state: { id: 2, status: 's13' } });
    expect(await consumer.state.get('public.orders#3')).toMatchObject({ state: { id: 3, status: 's15' } });
    expect((await consumer.state.get('public.orders#1'))?.pendingFailure).toMatchObject({ attempts: 2 });
    // Attempt 3: parked and quarantined; the batch succeeds.
    const third = await consumer.invoke(batch.slice(2));
    expect(third.response.batchItemFailures).toEqual([]);
    expect(third.stats).toMatchObject({ quarantined: 1, parked: 2 });
    const one = await consumer.state.get('public.orders#1');
    expect(one).toMatchObject({ state: { id: 1, status: 's10' }, position: orderChange(1, 10).position });
    expect(one?.quarantine).toMatchObject({ position: orderChange(1, 12).position, sequenceNumber: seq(3) });
    const parked = await consumer.parked.listAggregate('public.orders#1');
    expect(parked.map((p) => [p.reason, p.change?.position])).toEqual([
      ['POISON', orderChange(1, 12).position],
      ['QUARANTINED', orderChange(1, 14).position],
    ]);
    expect(parked[0]!.message).toContain('injected fault');
    expect(Buffer.from(parked[0]!.record.data, 'base64').toString()).toContain('always fails');
    // A redelivery of the same batch keeps the poison's item (reason, error, attempts) as it is.
    await consumer.invoke(batch.slice(2));
    expect((await consumer.parked.listAggregate('public.orders#1'))[0]).toMatchObject({
      reason: 'POISON',
      attempts: 3,
    });
    // Later changes of the quarantined aggregate are parked behind it, in order.
    const later = await consumer.invoke([
      changeRecord(orderChange(1, 16), 16, 7),
      changeRecord(orderChange(2, 17), 17, 8),
    ]);
    expect(later.stats).toMatchObject({ parked: 1, applied: 1 });
    expect((await consumer.parked.listAggregate('public.orders#1')).map((p) => p.reason)).toEqual([
      'POISON',
      'QUARANTINED',
      'QUARANTINED',
    ]);
  });

  it('never lets a quarantine expire with the tombstone it was set on', async () => {
    const consumer = await consumerUnderTest(clients, {
      config: { processing: { faultInjection: true, maxAttempts: 1 } },
    });
    await consumer.invoke([
      changeRecord(orderChange(8, 10, 'create'), 10, 1),
      changeRecord(orderChange(8, 11, 'delete'), 11, 2),
    ]);
    const ttlOf = async () =>
      (
        await clients.dynamodb.send(
          new GetItemCommand({
            TableName: consumer.names.stateTable,
            Key: { aggregateId: { S: 'public.orders#8' } },
          }),
        )
      ).Item?.ttl;
    expect(await ttlOf()).toBeDefined();
    await consumer.invoke([changeRecord(poisoned(8, 12), 12, 3)]);
    expect((await consumer.state.get('public.orders#8'))?.quarantine).toMatchObject({ reason: 'POISON' });
    expect(await ttlOf()).toBeUndefined();
    // Lifted with nothing newer applied, the tombstone expires again.
    await new ParkedReplayer({
      stateStore: consumer.state,
      parkedStore: consumer.parked,
      projection: { ...mirrorProjection, apply: (p, c) => mirrorProjection.apply(p, { ...c, op: 'delete' }) },
    }).replayAggregate('public.orders#8');
    expect(await ttlOf()).toBeDefined();
  });

  it('replays parked changes in order and lifts the quarantine', async () => {
    const consumer = await consumerUnderTest(clients, {
      config: { processing: { faultInjection: true, maxAttempts: 1 } },
    });
    await consumer.invoke([
      changeRecord(orderChange(5, 10, 'create'), 10, 1),
      changeRecord(poisoned(5, 11), 11, 2),
      changeRecord(orderChange(5, 12), 12, 3),
    ]);
    expect((await consumer.state.get('public.orders#5'))?.quarantine).toBeDefined();
    // Replaying with the fault still present keeps everything parked.
    const stillFailing = new ParkedReplayer({
      stateStore: consumer.state,
      parkedStore: consumer.parked,
      projection: {
        ...mirrorProjection,
        apply: (p, c) => {
          if (c.after?.[FAULT_INJECTION_COLUMN]) throw new Error('still broken');
          return mirrorProjection.apply(p, c);
        },
      },
    });
    const failed = await stillFailing.replayAggregate('public.orders#5');
    expect(failed).toMatchObject({ lifted: false, replayed: 0, remaining: 2 });
    // The fault fixed: replay applies both changes in order and lifts the quarantine.
    const fixed = new ParkedReplayer({
      stateStore: consumer.state,
      parkedStore: consumer.parked,
      projection: mirrorProjection,
    });
    const outcome = await fixed.replayAggregate('public.orders#5');
    expect(outcome).toMatchObject({ lifted: true, replayed: 2, remaining: 0 });
    const item = await consumer.state.get('public.orders#5');
    expect(item).toMatchObject({ position: orderChange(5, 12).position, state: { id: 5, status: 's12' } });
    expect(item?.quarantine).toBeUndefined();
    expect(await consumer.parked.listAggregate('public.orders#5')).toEqual([]);
    // The aggregate takes new changes directly again.
    const next = await consumer.invoke([changeRecord(orderChange(5, 13), 13, 4)]);
    expect(next.stats).toMatchObject({ applied: 1, parked: 0 });
  });

  it('parks a change too large for one DynamoDB item whole, and replays it', async () => {
    const consumer = await consumerUnderTest(clients, {
      config: { processing: { faultInjection: true, maxAttempts: 1 } },
    });
    const blob = 'é'.repeat(150_000);
    const big = orderChange(6, 11, 'update', {
      id: 6,
      blob,
      [FAULT_INJECTION_COLUMN]: 'too big to apply now',
    });
    await consumer.invoke([changeRecord(orderChange(6, 10, 'create'), 10, 1), changeRecord(big, 11, 2)]);
    const [parked] = await consumer.parked.listAggregate('public.orders#6');
    expect(parked?.change?.after?.blob).toBe(blob);
    expect(JSON.parse(Buffer.from(parked!.record.data, 'base64').toString()).after.blob).toBe(blob);
    expect((await consumer.parked.scanAll()).map((p) => String(p.change?.after?.blob).length)).toEqual([
      150_000,
    ]);
    const raw = async () =>
      (await clients.dynamodb.send(new ScanCommand({ TableName: consumer.names.parkedTable }))).Count;
    expect(await raw()).toBeGreaterThan(2);
    const outcome = await new ParkedReplayer({
      stateStore: consumer.state,
      parkedStore: consumer.parked,
      projection: {
        ...mirrorProjection,
        apply: (p, c) =>
          mirrorProjection.apply(p, { ...c, after: { id: 6, size: String(c.after?.blob).length } }),
      },
    }).replayAggregate('public.orders#6');
    expect(outcome).toMatchObject({ lifted: true, replayed: 1 });
    expect(await raw()).toBe(0);
  });

  it('parks undecodable and keyless records with a reason code and goes on', async () => {
    const consumer = await consumerUnderTest(clients);
    const keyless = changeRecord(orderChange(1, 10, 'create', { name: 'no id' }), 10, 2);
    const { response, stats } = await consumer.invoke([
      { data: '{"truncated": ', partitionKey: 'x', sequenceNumber: seq(1) },
      keyless,
      { data: '{"hello":"world"}', partitionKey: 'y', sequenceNumber: seq(3) },
      changeRecord(orderChange(9, 11, 'create'), 11, 4),
      { data: '', partitionKey: 'tombstone', sequenceNumber: seq(5) },
    ]);
    expect(response.batchItemFailures).toEqual([]);
    expect(stats).toMatchObject({ badInput: 3, applied: 1, tombstones: 1 });
    const parked = await consumer.parked.scanAll();
    expect(parked.map((p) => p.reason).sort()).toEqual(['MISSING_KEY', 'NOT_JSON', 'UNKNOWN_FORMAT']);
    const notJson = parked.find((p) => p.reason === 'NOT_JSON')!;
    expect(Buffer.from(notJson.record.data, 'base64').toString()).toBe('{"truncated": ');
  });

  it('reads previous state for a folding projection and never double-counts a redelivery', async () => {
    const counter: Projection = {
      name: 'change-counter',
      needsPreviousState: true,
      apply: (previous, change) => ({
        deleted: false,
        state: { id: change.after?.id ?? null, changes: Number(previous?.state?.changes ?? 0) + 1 },
      }),
    };
    const consumer = await consumerUnderTest(clients, { projection: counter });
    const batch = [
      changeRecord(orderChange(1, 10, 'create'), 10, 1),
      changeRecord(orderChange(1, 11), 11, 2),
    ];
    await consumer.invoke(batch);
    await consumer.invoke(batch);
    await consumer.invoke([...batch, changeRecord(orderChange(1, 12), 12, 3)]);
    expect((await consumer.state.get('public.orders#1'))?.state).toEqual({ id: 1, changes: 3 });
  });

  // DMS learns a table's primary key from its create-table control record, mid-stream: a row decoded again
  // later in the batch (the second pass) could then get another aggregate id. DMS changes keep their first decode.
  it('keeps each DMS row on the key learned before it when a create-table in the same batch changes the key', async () => {
    const consumer = await consumerUnderTest(clients);
    const schema = `s${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    const createTable = (primaryKey: string[]) => ({
      control: {
        'table-def': {
          columns: { id: { type: 'INT32', nullable: false }, name: { type: 'STRING', nullable: true } },
          'primary-key': primaryKey,
        },
      },
      metadata: {
        operation: 'create-table',
        'record-type': 'control',
        'schema-name': schema,
        'table-name': 'people',
        timestamp: '2024-07-29T00:58:17.000000Z',
        'partition-key-type': 'task-id',
      },
    });
    const insert = (id: number, name: string, at: string) => ({
      data: { id, name },
      metadata: {
        operation: 'insert',
        'record-type': 'data',
        'schema-name': schema,
        'table-name': 'people',
        'commit-timestamp': at,
        timestamp: at,
        'transaction-id': String(id),
        'partition-key-type': 'schema-table',
      },
    });
    const record = (value: unknown, n: number) => ({
      data: JSON.stringify(value),
      partitionKey: `${schema}.people`,
      sequenceNumber: seq(n),
    });

    const { response, stats } = await consumer.invoke([
      record(createTable(['name']), 1),
      record(insert(1, 'ada', '2024-07-29T00:58:18.000000Z'), 2),
      record(createTable(['id']), 3),
      record(insert(2, 'bob', '2024-07-29T00:58:19.000000Z'), 4),
    ]);

    expect(response.batchItemFailures).toEqual([]);
    expect(stats).toMatchObject({ applied: 2, badInput: 0, parked: 0 });
    expect(await consumer.state.get(`${schema}.people#ada`)).toMatchObject({ state: { id: 1, name: 'ada' } });
    expect(await consumer.state.get(`${schema}.people#2`)).toMatchObject({ state: { id: 2, name: 'bob' } });
    expect(await consumer.state.get(`${schema}.people#1`)).toBeUndefined();
  });
});
