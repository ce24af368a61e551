import { describe, expect, it } from 'vitest';
import type {
  CoordinationStore,
  ItemKey,
  LeaseRecord,
  LeaseWriteResult,
} from '../../core/coordination/index.js';
import { instanceKey, lockKey, membershipKey, shardLeaseKey } from '../../core/coordination/index.js';
import type { GrantLeaseRequest } from '../../core/coordination/store.js';

let counter = 0;
const token = () => `v-${++counter}`;
const grantRequest = (owner: string, expect: GrantLeaseRequest['expect'] = { free: true }) => ({
  owner,
  leaseDurationMs: 10_000,
  renewal: 'record' as const,
  expect,
  version: token(),
  wallMs: 1_700_000_000_000,
});
const holder = (record: LeaseRecord) => ({
  owner: record.owner!,
  fence: record.fence,
  version: token(),
  wallMs: 1_700_000_000_500,
});

function won(result: LeaseWriteResult): LeaseRecord {
  if (!result.ok) throw new Error(`expected the write to win; current: ${JSON.stringify(result.current)}`);
  return result.record;
}

function lost(result: LeaseWriteResult): LeaseRecord | undefined {
  if (result.ok) throw new Error(`expected the write to lose; record: ${JSON.stringify(result.record)}`);
  return result.current;
}

/**
 * The behaviour every `CoordinationStore` must have. Runs against the in-memory twin (unit) and DynamoDB
 * Local (integration), so the twin cannot drift from the real conditions.
 */
function describeCoordinationStoreContract(name: string, makeStore: () => Promise<CoordinationStore>): void {
  let n = 0;
  const fresh = async (): Promise<{ store: CoordinationStore; key: ItemKey }> => ({
    store: await makeStore(),
    key: lockKey(`contract-${name}-${Date.now()}-${++n}`),
  });

  describe(`CoordinationStore contract: ${name}`, () => {
    describe('Method: grantLease', () => {
      it('creates an absent lease with fence 1 and refuses a second free grant, naming the winner', async () => {
        // Prepare
        const { store, key } = await fresh();

        // Act
        const first = won(await store.grantLease(key, grantRequest('a')));
        const second = lost(await store.grantLease(key, grantRequest('b')));

        // Assert
        expect(first).toMatchObject({ owner: 'a', fence: 1, leaseDurationMs: 10_000, renewal: 'record' });
        expect(second).toMatchObject({ owner: 'a', fence: 1, version: first.version });
      });

      it('grants a released lease with the next fence', async () => {
        const { store, key } = await fresh();
        const first = won(await store.grantLease(key, grantRequest('a')));
        won(await store.releaseLease(key, holder(first)));

        const second = won(await store.grantLease(key, grantRequest('b')));

        expect(second).toMatchObject({ owner: 'b', fence: 2 });
      });

      it('takes over only the version the caller saw', async () => {
        const { store, key } = await fresh();
        const first = won(await store.grantLease(key, grantRequest('a')));
        const renewed = won(await store.renewLease(key, holder(first)));

        const stale = lost(await store.grantLease(key, grantRequest('b', { version: first.version })));
        const taken = won(await store.grantLease(key, grantRequest('b', { version: renewed.version })));

        expect(stale?.version).toBe(renewed.version);
        expect(taken).toMatchObject({ owner: 'b', fence: 2 });
      });

      it('applies a request once when it is sent again after a lost response', async () => {
        const { store, key } = await fresh();
        const request = grantRequest('a');

        const first = won(await store.grantLease(key, request));
        const retried = won(await store.grantLease(key, request));

        expect(retried).toMatchObject({ owner: 'a', fence: 1, version: first.version });
      });
    });

    describe('Method: renewLease', () => {
      it('changes the version and keeps owner and fence', async () => {
        const { store, key } = await fresh();
        const first = won(await store.grantLease(key, grantRequest('a')));

        const renewed = won(await store.renewLease(key, holder(first)));

        expect(renewed).toMatchObject({ owner: 'a', fence: 1 });
        expect(renewed.version).not.toBe(first.version);
      });

      it('refuses a holder whose grant was taken over, returning the new grant', async () => {
        const { store, key } = await fresh();
        const first = won(await store.grantLease(key, grantRequest('a')));
        won(await store.grantLease(key, grantRequest('b', { version: first.version })));

        const current = lost(await store.renewLease(key, holder(first)));

        expect(current).toMatchObject({ owner: 'b', fence: 2 });
      });

      it('replaces data in the same fenced write (a checkpoint)', async () => {
        const { store, key } = await fresh();
        const first = won(await store.grantLease(key, grantRequest('a')));

        const renewed = won(await store.renewLease(key, { ...holder(first), data: { checkpoint: '0042' } }));

        expect(renewed.data).toEqual({ checkpoint: '0042' });
      });
    });

    describe('Method: releaseLease', () => {
      it('frees the lease, keeps the fence, and answers a retried release as applied', async () => {
        const { store, key } = await fresh();
        const first = won(await store.grantLease(key, grantRequest('a')));
        const request = holder(first);

        const released = won(await store.releaseLease(key, request));
        const retried = await store.releaseLease(key, request);

        expect(released).toMatchObject({ owner: undefined, fence: 1 });
        expect(retried.ok).toBe(true);
      });

      it('refuses a release by someone who does not hold the grant', async () => {
        const { store, key } = await fresh();
        const first = won(await store.grantLease(key, grantRequest('a')));

        const current = lost(await store.releaseLease(key, { ...holder(first), owner: 'b' }));

        expect(current).toMatchObject({ owner: 'a', fence: 1 });
      });
    });

    describe('Method: handOffLease', () => {
      it('moves the lease to the new owner with a new fence, in one write', async () => {
        const { store, key } = await fresh();
        const first = won(await store.grantLease(key, grantRequest('a')));
        won(await store.requestHandOff(key, { fence: 1, to: 'b' }));

        const handed = won(await store.handOffLease(key, { ...holder(first), to: 'b' }));
        const oldHolder = lost(await store.renewLease(key, holder(first)));

        expect(handed).toMatchObject({ owner: 'b', fence: 2, pendingOwner: undefined });
        expect(oldHolder).toMatchObject({ owner: 'b', fence: 2 });
      });
    });

    describe('Method: requestHandOff', () => {
      it('marks the pending owner without changing owner, fence or version, and only on the grant seen', async () => {
        const { store, key } = await fresh();
        const first = won(await store.grantLease(key, grantRequest('a')));

        const marked = won(await store.requestHandOff(key, { fence: 1, to: 'b' }));
        const wrongGrant = lost(await store.requestHandOff(key, { fence: 7, to: 'c' }));

        expect(marked).toMatchObject({ owner: 'a', fence: 1, version: first.version, pendingOwner: 'b' });
        expect(wrongGrant?.pendingOwner).toBe('b');
      });
    });

    describe('Method: acceptHandOff', () => {
      it('records the acceptance only by the requested owner of the grant requested; a new request clears it; the hand-off clears it', async () => {
        const { store, key } = await fresh();
        const first = won(await store.grantLease(key, grantRequest('a')));
        won(await store.requestHandOff(key, { fence: 1, to: 'b' }));

        const byOther = lost(await store.acceptHandOff(key, { fence: 1, to: 'c' }));
        const otherGrant = lost(await store.acceptHandOff(key, { fence: 2, to: 'b' }));
        const accepted = won(await store.acceptHandOff(key, { fence: 1, to: 'b' }));
        const redirected = won(await store.requestHandOff(key, { fence: 1, to: 'c' }));
        won(await store.acceptHandOff(key, { fence: 1, to: 'c' }));
        const handed = won(await store.handOffLease(key, { ...holder(first), to: 'c' }));

        expect(byOther?.handOffAcceptedFence).toBeUndefined();
        expect(otherGrant?.handOffAcceptedFence).toBeUndefined();
        expect(accepted).toMatchObject({
          owner: 'a',
          fence: 1,
          version: first.version,
          handOffAcceptedFence: 1,
        });
        expect(redirected).toMatchObject({ pendingOwner: 'c', handOffAcceptedFence: undefined });
        expect(handed).toMatchObject({
          owner: 'c',
          fence: 2,
          pendingOwner: undefined,
          handOffAcceptedFence: undefined,
        });
      });
    });

    describe('Method: setSuccessor', () => {
      it('names a successor on the grant seen only, keeps owner, fence and version, and any new grant clears it', async () => {
        const { store, key } = await fresh();
        const first = won(await store.grantLease(key, grantRequest('a')));

        const named = won(await store.setSuccessor(key, { owner: 'a', fence: 1, successor: 'b' }));
        const staleGrant = lost(await store.setSuccessor(key, { owner: 'a', fence: 0, successor: 'c' }));
        const cleared = won(await store.setSuccessor(key, { owner: 'a', fence: 1, successor: undefined }));
        won(await store.setSuccessor(key, { owner: 'a', fence: 1, successor: 'b' }));
        const handed = won(await store.handOffLease(key, { ...holder(first), to: 'b' }));

        expect(named).toMatchObject({ owner: 'a', fence: 1, version: first.version, successor: 'b' });
        expect(staleGrant?.successor).toBe('b');
        expect(cleared.successor).toBeUndefined();
        expect(handed.successor).toBeUndefined();
      });
    });

    describe('Method: grantLease (take-over of a dead owner)', () => {
      it("takes over only the owner's grant judged, whatever its checkpoints changed since", async () => {
        const { store, key } = await fresh();
        const first = won(await store.grantLease(key, { ...grantRequest('a'), renewal: 'heartbeat' }));
        const checkpointed = won(
          await store.renewLease(key, { ...holder(first), data: { checkpoint: '42' } }),
        );
        const grant = { grant: { owner: 'a', fence: 1 } };

        const taken = won(await store.grantLease(key, { ...grantRequest('b', grant), renewal: 'heartbeat' }));
        const second = lost(
          await store.grantLease(key, { ...grantRequest('c', grant), renewal: 'heartbeat' }),
        );
        const stale = lost(await store.renewLease(key, holder(checkpointed)));

        expect(taken).toMatchObject({ owner: 'b', fence: 2, data: { checkpoint: '42' } });
        expect(second).toMatchObject({ owner: 'b', fence: 2 });
        expect(stale).toMatchObject({ owner: 'b', fence: 2 });
      });
    });

    describe('Membership items', () => {
      const entry = (beat: number, incarnation = 'i1') => ({
        incarnation,
        beat,
        atWallMs: 1_700_000_000_000 + beat,
        load: { eventsPerSecond: 12.5, inFlightBatches: 1, leaving: beat > 100 ? true : undefined },
      });

      it('a heartbeat creates the item, writes its entry and returns everyone’s; a retry writes the same entry', async () => {
        const { store } = await fresh();
        const key = membershipKey(`fleet-${name}-${++n}`, 0);

        const first = await store.beatMember(key, 'w1', entry(1));
        const second = await store.beatMember(key, 'w2', entry(1, 'i2'));
        const again = await store.beatMember(key, 'w1', entry(2));
        const retried = await store.beatMember(key, 'w1', entry(2));

        expect([...first.members.keys()]).toEqual(['w1']);
        expect([...second.members.keys()].sort()).toEqual(['w1', 'w2']);
        expect(again.members.get('w1')).toEqual({
          incarnation: 'i1',
          beat: 2,
          atWallMs: 1_700_000_000_002,
          load: { eventsPerSecond: 12.5, inFlightBatches: 1 },
        });
        expect(again.members.get('w2')?.beat).toBe(1);
        expect(retried.members.get('w1')?.beat).toBe(2);
      });

      it('mail tokens are set per member and come back with the next heartbeat; reading several items at once', async () => {
        const { store } = await fresh();
        const fleet = `fleet-${name}-${++n}`;
        await store.beatMember(membershipKey(fleet, 0), 'w1', entry(1));

        await store.mailMembers(membershipKey(fleet, 0), ['w1', 'w2'], 't1');
        await store.mailMembers(membershipKey(fleet, 0), ['w1'], 't2');
        await store.mailMembers(membershipKey(fleet, 1), ['w3'], 't3');
        const beat = await store.beatMember(membershipKey(fleet, 0), 'w1', entry(2));
        const [g0, g1, g2] = await store.readMemberships([
          membershipKey(fleet, 0),
          membershipKey(fleet, 1),
          membershipKey(fleet, 2),
        ]);

        expect(beat.mail.get('w1')).toBe('t2');
        expect(beat.mail.get('w2')).toBe('t1');
        expect(g0!.members.get('w1')?.beat).toBe(2);
        expect(g1!.mail.get('w3')).toBe('t3');
        expect(g2!.members.size).toBe(0);
      });

      it('removes a member judged dead only if its counter has not moved; a graceful exit is idempotent', async () => {
        const { store } = await fresh();
        const key = membershipKey(`fleet-${name}-${++n}`, 0);
        await store.beatMember(key, 'w1', entry(1));
        await store.beatMember(key, 'w2', entry(5));
        await store.mailMembers(key, ['w2'], 't');

        const moved = await store.removeMember(key, 'w2', { beat: 4 });
        const removed = await store.removeMember(key, 'w2', { beat: 5 });
        const gone = await store.removeMember(key, 'w2', { beat: 5 });
        await store.removeMember(key, 'w1');
        await store.removeMember(key, 'w1');
        const [after] = await store.readMemberships([key]);

        expect([moved, removed, gone]).toEqual([false, true, true]);
        expect(after!.members.size).toBe(0);
        expect(after!.mail.has('w2')).toBe(false);
      });
    });

    describe('Method: createLease', () => {
      it('creates a free lease once; grants keep its data', async () => {
        const { store } = await fresh();
        const key = shardLeaseKey(`stream-${name}-${++n}`, 'shardId-000000000001');
        const request = {
          leaseDurationMs: 10_000,
          renewal: 'heartbeat' as const,
          data: { parents: ['p0'] },
          version: token(),
        };

        const created = won(await store.createLease(key, request));
        const again = lost(await store.createLease(key, { ...request, version: token() }));
        const granted = won(await store.grantLease(key, { ...grantRequest('a'), renewal: 'heartbeat' }));

        expect(created).toMatchObject({
          owner: undefined,
          fence: 0,
          renewal: 'heartbeat',
          data: { parents: ['p0'] },
        });
        expect(again?.version).toBe(request.version);
        expect(granted).toMatchObject({ owner: 'a', fence: 1, data: { parents: ['p0'] } });
      });
    });

    describe('Method: listLeases', () => {
      it('lists the leases of one partition in sort-key order', async () => {
        const { store } = await fresh();
        const stream = `stream-${name}-${++n}`;
        for (const shard of ['s2', 's1', 's3'])
          won(
            await store.createLease(shardLeaseKey(stream, shard), {
              leaseDurationMs: 1,
              renewal: 'heartbeat',
              data: {},
              version: token(),
            }),
          );

        const listed = await store.listLeases(shardLeaseKey(stream, 'x').pk);

        expect(listed.map((l) => l.key.sk)).toEqual(['s1', 's2', 's3']);
      });
    });

    describe('Instances', () => {
      const register = (instanceId: string, incarnation = token()) => ({
        instanceId,
        kind: 'worker' as const,
        incarnation,
        wallMs: 1_700_000_000_000,
        load: { eventsPerSecond: 1 },
        configVersion: '1',
        ttlEpochSeconds: 1_700_003_600,
      });
      const beat = (configVersion?: string) => ({
        wallMs: 1_700_000_001_000,
        load: { eventsPerSecond: 5, lagMs: 20 },
        configVersion,
        hotKeys: [{ key: 'order-1', count: 9 }],
        ttlEpochSeconds: 1_700_003_601,
      });

      it('registers an id once, and recognises its own retried registration', async () => {
        const { store } = await fresh();
        const id = `i-${name}-${++n}`;
        const request = register(id);

        const first = await store.registerInstance(request);
        const retried = await store.registerInstance(request);
        const other = await store.registerInstance(register(id));

        expect([first, retried, other]).toEqual([true, true, false]);
        expect(await store.getInstance(id)).toMatchObject({
          instanceId: id,
          heartbeat: 0,
          configVersion: '1',
        });
      });

      it('counts heartbeats, keeps the config version when none is reported, and refuses unknown ids', async () => {
        const { store } = await fresh();
        const id = `i-${name}-${++n}`;
        await store.registerInstance(register(id));

        await store.heartbeatInstance(id, beat('2'));
        const second = await store.heartbeatInstance(id, beat());
        const unknown = await store.heartbeatInstance(`${id}-unknown`, beat());

        expect(second).toMatchObject({
          heartbeat: 2,
          configVersion: '2',
          load: { eventsPerSecond: 5, lagMs: 20 },
          hotKeys: [{ key: 'order-1', count: 9 }],
          ttlEpochSeconds: 1_700_003_601,
        });
        expect(unknown).toBeUndefined();
        expect((await store.getInstance(`${id}-unknown`)) === undefined).toBe(true);
      });

      it('removes an instance only if its counter did not move, and deregisters idempotently', async () => {
        const { store } = await fresh();
        const id = `i-${name}-${++n}`;
        await store.registerInstance(register(id));
        await store.heartbeatInstance(id, beat());

        const moved = await store.removeInstance(id, { heartbeat: 0 });
        const removed = await store.removeInstance(id, { heartbeat: 1 });
        const again = await store.removeInstance(id, { heartbeat: 1 });
        await store.deregisterInstance(id);

        expect([moved, removed, again]).toEqual([false, true, true]);
        expect(await store.getInstance(id)).toBeUndefined();
        expect((await store.listInstances()).some((i) => i.instanceId === id)).toBe(false);
        expect(instanceKey(id).pk).toBe('INSTANCE');
      });
    });
  });
}

export { describeCoordinationStoreContract };
