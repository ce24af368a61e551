import { describe, expect, it } from 'vitest';
import {
  FaultInjectingStore,
  InMemoryCoordinationStore,
  ManualClock,
  Membership,
} from '../../../core/coordination/index.js';
import { OptionsError } from '../../../core/errors.js';

const LEASE_MS = 4_000;

function fleet(options: { groups?: number } = {}) {
  const clock = new ManualClock();
  const store = new InMemoryCoordinationStore();
  const member = (memberId: string, incarnation = `${memberId}-1`) =>
    new Membership({
      store,
      fleet: 'orders',
      memberId,
      failureDetectionMs: LEASE_MS,
      groups: options.groups,
      clock,
      newIncarnation: () => incarnation,
    });
  return { clock, store, member };
}

describe('Class: Membership', () => {
  describe('Method: beat', () => {
    it("returns everyone's heartbeat of the group with each member's own write: nobody reads", async () => {
      const { member } = fleet();
      const [a, b, c] = [member('a'), member('b'), member('c')];

      await a.beat({});
      await b.beat({ eventsPerSecond: 5 });
      await c.beat({ leaving: true });
      await a.beat({});

      expect(
        a
          .members()
          .map((m) => m.memberId)
          .sort(),
      ).toEqual(['a', 'b', 'c']);
      expect(a.view('b')?.entry.load.eventsPerSecond).toBe(5);
      expect(a.view('c')?.entry.load.leaving).toBe(true);
      expect(a.members().every((m) => m.alive)).toBe(true);
    });

    it('judges a member dead only once its counter stood still for the window on the observer’s clock, confirmed by a read', async () => {
      const { clock, member } = fleet();
      const [a, b] = [member('a'), member('b')];
      await b.beat({});
      await a.beat({});
      const seenAt = clock.now();

      await clock.advance(LEASE_MS - 1);
      await a.beat({});
      const justBefore = a.view('b')!;
      await clock.advance(1);
      const unconfirmed = a.view('b')!;
      await a.beat({});
      const confirmed = a.view('b')!;

      expect(justBefore.alive).toBe(true);
      expect(justBefore.verdict.remainingMs).toBe(1);
      // Time alone decides nothing: the verdict is the one of the last read.
      expect(unconfirmed.alive).toBe(true);
      expect(confirmed.alive).toBe(false);
      expect(confirmed.readAtMs - confirmed.verdict.silentForMs).toBe(seenAt);
    });

    it('a moving counter, or a restarted member under the same id, is alive; wall clocks play no part', async () => {
      const { clock, member } = fleet();
      const a = member('a');
      const b1 = member('b', 'b-1');
      await b1.beat({});
      await a.beat({});
      for (let i = 0; i < 10; i++) {
        await clock.advance(LEASE_MS / 2);
        clock.shiftWall(-3_600_000);
        await b1.beat({});
        await a.beat({});
      }
      const moving = a.view('b')!.alive;
      // A new process under the same id restarts its counter at 1: a new signature, so alive.
      await clock.advance(LEASE_MS - 100);
      const b2 = member('b', 'b-2');
      await b2.beat({});
      await clock.advance(200);
      await a.beat({});

      expect(moving).toBe(true);
      expect(a.view('b')?.entry).toMatchObject({ incarnation: 'b-2', beat: 1 });
      expect(a.view('b')?.alive).toBe(true);
    });

    it('the holder stops first: its last accepted heartbeat was sent no later than any observer first saw it', async () => {
      const clock = new ManualClock();
      const faulty = new FaultInjectingStore({ store: new InMemoryCoordinationStore(), clock });
      const holder = new Membership({
        store: faulty,
        fleet: 'f',
        memberId: 'h',
        failureDetectionMs: LEASE_MS,
        clock,
      });
      const observer = new Membership({
        store: faulty,
        fleet: 'f',
        memberId: 'o',
        failureDetectionMs: LEASE_MS,
        clock,
      });
      await holder.beat({});
      // A response lost after the write was applied: the holder does not count it, the observer sees it.
      faulty.inject({ kind: 'lost-response', operations: ['beatMember'], times: 3 });
      await clock.advance(500);
      await expect(clock.runUntil(holder.beat({}))).rejects.toThrow('lost response');
      await observer.beat({});
      const sighting = observer.view('h')!;

      expect(sighting.entry.beat).toBe(2);
      expect(holder.lastBeatSentAtMs! + LEASE_MS).toBeLessThanOrEqual(
        sighting.readAtMs - sighting.verdict.silentForMs + LEASE_MS,
      );
    });
  });

  describe('Method: mail', () => {
    it('sets a member’s mail to a new token, which it sees in the response to its next heartbeat', async () => {
      const { member } = fleet();
      const [a, b] = [member('a'), member('b')];
      await a.beat({});
      await b.beat({});
      const before = b.mailToken;

      await a.mail(['b', 'b']);
      const unseen = b.mailToken;
      await b.beat({});
      const first = b.mailToken;
      // Removed as dead and back under the same id: a new mailing is still a change.
      await a.mail(['b']);
      await b.beat({});

      expect(before).toBeUndefined();
      expect(unseen).toBeUndefined();
      expect(first).toBeDefined();
      expect(b.mailToken).not.toBe(first);
    });
  });

  describe('Method: removeDead', () => {
    it('removes only a member judged dead, and only if its counter has not moved since', async () => {
      const { clock, member } = fleet();
      const [a, b, c] = [member('a'), member('b'), member('c')];
      await b.beat({});
      await c.beat({});
      await a.beat({});

      const alive = await a.removeDead('b');
      await clock.advance(LEASE_MS);
      await a.beat({});
      // c's late heartbeat lands after a judged it dead: it stays.
      await c.beat({});
      const late = await a.removeDead('c');
      const removed = await a.removeDead('b');
      await a.beat({});

      expect(alive).toBe(false);
      expect(late).toBe(false);
      expect(removed).toBe(true);
      expect(
        a
          .members()
          .map((m) => m.memberId)
          .sort(),
      ).toEqual(['a', 'c']);
    });
  });

  describe('Groups', () => {
    it('spreads members over groups by id; each heartbeat returns its group only; an observer reads the others', async () => {
      const { member } = fleet({ groups: 4 });
      const ids = Array.from({ length: 40 }, (_, i) => `worker-${i}`);
      const members = ids.map((id) => member(id));
      for (const m of members) await m.beat({});
      const observer = members[0]!;

      await observer.beat({});
      const ownGroupOnly = observer.members().length;
      await observer.read([0, 1, 2, 3].filter((g) => g !== observer.group));

      const sizes = [0, 1, 2, 3].map((g) => ids.filter((id) => Membership.groupOf(id, 4) === g).length);
      expect(Math.min(...sizes)).toBeGreaterThan(0);
      expect(ownGroupOnly).toBe(sizes[observer.group]);
      expect(observer.members()).toHaveLength(40);
      expect(members.every((m) => m.group === Membership.groupOf(m.memberId, 4))).toBe(true);
    });

    it('a member writing into a second group is judged by its own group’s entry', async () => {
      const { clock, member } = fleet({ groups: 8 });
      const ids = Array.from({ length: 64 }, (_, i) => `w-${i}`);
      const [x, y] = ids.filter(
        (id, i, all) => all.findIndex((o) => Membership.groupOf(o, 8) === Membership.groupOf(id, 8)) === i,
      );
      const [mx, my] = [member(x!), member(y!)];
      await mx.beat({}, [my.group]);
      await my.beat({});
      await mx.beat({});

      await clock.advance(LEASE_MS);
      await mx.beat({});
      await my.read([mx.group]);
      await my.beat({});

      expect(my.view(x!)?.group).toBe(mx.group);
      expect(my.view(x!)?.alive).toBe(true);
    });
  });

  it('rejects options that cannot work, naming the value', () => {
    const store = new InMemoryCoordinationStore();
    expect(() => new Membership({ store, fleet: 'f', memberId: 'a', failureDetectionMs: 0 })).toThrow(
      OptionsError,
    );
    expect(
      () => new Membership({ store, fleet: 'f', memberId: 'a', failureDetectionMs: 1_000, groups: 0 }),
    ).toThrow('groups');
  });
});
