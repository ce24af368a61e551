import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbCoordinationStore, FencedWriter, LockClient } from '../../../core/coordination/index.js';
import { createCoordinationTable } from '../../helpers/coordination.js';
import { testClients, uniqueName } from '../../helpers/engines.js';

const LEASE = 1_000;
const clients = testClients();
let table: string;
let store: DynamoDbCoordinationStore;
let writer: FencedWriter;

beforeAll(async () => {
  table = await createCoordinationTable(clients.dynamodb, uniqueName('paused'));
  store = new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: table });
  writer = new FencedWriter({ client: clients.dynamodb, tableName: table, coordinationTableName: table });
});
afterAll(() => clients.destroy());

/** A holder that stops heartbeating: a process in a stop-the-world pause (GC, frozen Lambda, SIGSTOP). */
const pausedHolder = () =>
  new LockClient({
    store,
    ownerId: 'paused',
    leaseDurationMs: LEASE,
    heartbeatPeriodMs: LEASE / 4,
    autoHeartbeat: false,
  });
const successor = () => new LockClient({ store, ownerId: 'successor', backoffBaseMs: 10, backoffMaxMs: 100 });

describe('A lock holder paused past its lease', () => {
  it('cannot write after it wakes: the successor took over and its higher fence is stored', async () => {
    // Prepare
    const key = { pk: `JOB#${uniqueName('fence')}`, sk: 'STATE' };
    const paused = pausedHolder();
    const stale = await paused.acquire(key.pk, { waitMs: 0 });
    expect((await writer.update({ key, fence: stale.fence, set: { by: 'paused', step: 1 } })).outcome).toBe(
      'applied',
    );

    // Act: while it is paused, another holder waits out the lease, takes over and writes
    const fresh = await successor().acquire(key.pk, { waitMs: 10 * LEASE });
    const successorWrite = await writer.update({
      key,
      fence: fresh.fence,
      set: { by: 'successor', step: 2 },
    });
    const wokenWrite = await writer.update({ key, fence: stale.fence, set: { by: 'paused', step: 3 } });

    // Assert
    expect(fresh.fence).toBe(stale.fence + 1);
    expect(successorWrite.outcome).toBe('applied');
    expect(wokenWrite).toMatchObject({ outcome: 'stale-fence', storedFence: fresh.fence });
    expect(stale.isHeld).toBe(false);
    expect(await paused.heartbeat(stale)).toBe(false);
    expect(await paused.release(stale)).toBe(false);
    const final = await writer.update({ key, fence: fresh.fence, set: {} });
    expect(final).toMatchObject({
      outcome: 'applied',
      item: { by: 'successor', step: 2, fence: fresh.fence },
    });
  });

  it('cannot write with a guard as soon as it was taken over, even before the successor writes', async () => {
    // Prepare
    const key = { pk: `JOB#${uniqueName('guard')}`, sk: 'STATE' };
    const paused = pausedHolder();
    const stale = await paused.acquire(key.pk, { waitMs: 0 });
    expect(
      (await writer.update({ key, fence: stale.fence, set: { step: 1 }, guard: stale.guard })).outcome,
    ).toBe('applied');

    // Act: the successor holds the lock but has not written anything yet when the paused holder wakes
    const fresh = await successor().acquire(key.pk, { waitMs: 10 * LEASE });
    const guarded = await writer.update({ key, fence: stale.fence, set: { step: 2 }, guard: stale.guard });
    // Without the guard the fence alone cannot know about a grant that has not written yet:
    const unguarded = await writer.update({ key, fence: stale.fence, set: { unguarded: true } });
    const successorWrite = await writer.update({
      key,
      fence: fresh.fence,
      set: { step: 3 },
      guard: fresh.guard,
    });

    // Assert
    expect(guarded).toMatchObject({
      outcome: 'lease-lost',
      current: { owner: 'successor', fence: fresh.fence },
    });
    expect(unguarded.outcome).toBe('applied');
    expect(successorWrite.outcome).toBe('applied');
    const stored = await writer.update({ key, fence: fresh.fence, set: {} });
    expect(stored).toMatchObject({ item: { step: 3, fence: fresh.fence } });
  });
});
