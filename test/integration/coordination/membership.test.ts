import { afterAll, describe, expect, it } from 'vitest';
import {
  DynamoDbCoordinationStore,
  Lease,
  LeaseClient,
  ManualClock,
  Membership,
  shardLeaseKey,
} from '../../../core/coordination/index.js';
import { createCoordinationTable } from '../../helpers/coordination.js';
import { testClients, uniqueName } from '../../helpers/engines.js';

const clients = testClients();
afterAll(() => clients.destroy());
const LEASE_MS = 4_500;

/**
 * The membership mechanism on DynamoDB Local: safety only (who may act, which write wins), never timing. The
 * observers' clocks are manual, so verdicts are exact; the store is the real one, with concurrent requests.
 */
describe('Membership on DynamoDB Local', () => {
  const fresh = async () => {
    const store = new DynamoDbCoordinationStore({
      client: clients.dynamodb,
      tableName: await createCoordinationTable(clients.dynamodb, uniqueName('members')),
    });
    const clock = new ManualClock();
    const member = (memberId: string) =>
      new Membership({ store, fleet: 'orders', memberId, failureDetectionMs: LEASE_MS, clock });
    return { store, clock, member };
  };

  it('concurrent heartbeats into one item lose nobody: every response holds its writer’s own entry, the item holds everyone’s last', async () => {
    const { member } = await fresh();
    const members = Array.from({ length: 8 }, (_, i) => member(`worker-${i}`));

    for (let round = 1; round <= 5; round++)
      await Promise.all(members.map((m) => m.beat({ eventsPerSecond: round })));
    const observer = member('observer');
    await observer.beat({});

    for (const m of members) expect(m.view(m.memberId)?.entry.beat).toBe(5);
    expect(
      observer
        .members()
        .filter((v) => v.memberId !== 'observer')
        .map((v) => [v.memberId, v.entry.beat])
        .sort(),
    ).toEqual(members.map((m) => [m.memberId, 5]));
  });

  it('a dead owner’s lease: of two successors racing, exactly one takes it, under one new fence; the owner’s late checkpoint is refused', async () => {
    const { store, clock, member } = await fresh();
    const [owner, s1, s2] = [member('owner'), member('s1'), member('s2')];
    const leases = new LeaseClient({ store, clock });
    const key = shardLeaseKey('orders', 'shardId-000000000000');
    await leases.create(key, { leaseDurationMs: LEASE_MS, renewal: 'heartbeat', data: { records: 0 } });
    await owner.beat({});
    const granted = (await leases.grantIfFree(key, {
      owner: 'owner',
      leaseDurationMs: LEASE_MS,
      renewal: 'heartbeat',
    }))!;
    const checkpointed = (await leases.renew(granted, { checkpoint: '42' }))!;
    await Promise.all([s1.beat({}), s2.beat({})]);

    await clock.advance(LEASE_MS);
    await Promise.all([s1.beat({}), s2.beat({})]);
    const verdicts = [s1.view('owner')!.alive, s2.view('owner')!.alive];
    const [r1, r2] = await Promise.all(
      [s1, s2].map((s) =>
        new LeaseClient({ store, clock }).takeOverFromDeadOwner(checkpointed.record, {
          owner: s.memberId,
          leaseDurationMs: LEASE_MS,
          renewal: 'heartbeat',
        }),
      ),
    );
    const late = await leases.renew(new Lease(checkpointed.record, clock.now()), { checkpoint: '43' });
    const final = (await leases.get(key))!;

    expect(verdicts).toEqual([false, false]);
    expect([r1!.lease, r2!.lease].filter((l) => l !== undefined)).toHaveLength(1);
    expect(final.fence).toBe(checkpointed.fence + 1);
    expect(['s1', 's2']).toContain(final.owner);
    expect(final.data).toMatchObject({ checkpoint: '42' });
    expect(late).toBeUndefined();
  });

  it('the holder stops first: its last accepted heartbeat plus the lease ends no later than any observer may judge it dead', async () => {
    const { clock, member } = await fresh();
    const [holder, observer] = [member('holder'), member('observer')];
    await holder.beat({});
    await observer.beat({});
    await clock.advance(1_000);
    await holder.beat({});
    const holderValidUntil = holder.lastBeatSentAtMs! + LEASE_MS;

    await clock.advance(500);
    await observer.beat({});
    const seen = observer.view('holder')!;

    expect(seen.entry.beat).toBe(2);
    expect(holderValidUntil).toBeLessThanOrEqual(seen.readAtMs - seen.verdict.silentForMs + LEASE_MS);
  });

  it('a member judged dead is removed only if its counter has not moved: a late heartbeat keeps it', async () => {
    const { clock, member } = await fresh();
    const [a, b] = [member('a'), member('b')];
    await b.beat({});
    await a.beat({});
    await clock.advance(LEASE_MS);
    await a.beat({});
    const judgedDead = !a.view('b')!.alive;

    await b.beat({});
    const removed = await a.removeDead('b');
    await a.beat({});

    expect(judgedDead).toBe(true);
    expect(removed).toBe(false);
    expect(a.view('b')?.entry.beat).toBe(2);
  });
});
