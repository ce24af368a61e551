import { describe, expect, it } from 'vitest';
import {
  FaultInjectingStore,
  InMemoryCoordinationStore,
  LeaderElection,
  type LeaderElectionOptions,
  type LeaderTerm,
  ManualClock,
} from '../../../core/coordination/index.js';
import { OptionsError } from '../../../core/errors.js';

const LEASE = 3_000;
const HEARTBEAT = 1_000;
const ROLE = 'cluster-manager';

function setup() {
  const clock = new ManualClock();
  const store = new FaultInjectingStore({ store: new InMemoryCoordinationStore(), clock });
  const candidate = (candidateId: string, options: Partial<LeaderElectionOptions> = {}) =>
    new LeaderElection({
      store,
      clock,
      candidateId,
      leaseDurationMs: LEASE,
      heartbeatPeriodMs: HEARTBEAT,
      ...options,
    });
  return { clock, store, candidate };
}

const noop = async (term: LeaderTerm) => term.term;

describe('Class: LeaderElection', () => {
  describe('Method: constructor', () => {
    it('rejects a heartbeat period above half the lease', () => {
      const { candidate } = setup();

      expect(() => candidate('a', { heartbeatPeriodMs: 2_000 })).toThrow(OptionsError);
    });
  });

  describe('Method: runIfLeader', () => {
    it('runs the work of the first candidate with term 1; the other learns who leads', async () => {
      // Prepare
      const { candidate } = setup();
      const [a, b] = [candidate('a'), candidate('b')];

      // Act
      const ran = await a.runIfLeader(ROLE, noop);
      const followed = await b.runIfLeader(ROLE, noop);

      // Assert
      expect(ran).toEqual({ leader: true, term: 1, value: 1 });
      expect(followed).toMatchObject({ leader: false, leaderId: 'a', term: 1, reason: 'follower' });
      expect(followed.leader === false && followed.retryInMs).toBeLessThanOrEqual(HEARTBEAT / 2);
      expect(a.isLeader(ROLE)).toBe(true);
      expect(b.isLeader(ROLE)).toBe(false);
    });

    it('keeps the same term while the leader keeps running within its lease', async () => {
      const { clock, candidate } = setup();
      const a = candidate('a');
      const b = candidate('b');
      const terms: number[] = [];

      for (let i = 0; i < 10; i++) {
        const run = await a.runIfLeader(ROLE, noop);
        if (run.leader) terms.push(run.term);
        await b.runIfLeader(ROLE, noop);
        await clock.advance(HEARTBEAT);
      }

      expect(terms).toEqual(Array(10).fill(1));
    });

    it('renews in the background while long work runs, and ends the term signal when the run ends', async () => {
      const { clock, candidate } = setup();
      const a = candidate('a');
      const b = candidate('b');
      let signal: AbortSignal | undefined;

      const run = a.runIfLeader(ROLE, async (term) => {
        signal = term.signal;
        await clock.sleep(5 * LEASE);
        return term.signal.aborted;
      });
      const follower = clock.runUntil(
        (async () => {
          for (;;) {
            const r = await b.runIfLeader(ROLE, noop);
            if (r.leader || clock.now() > 4 * LEASE) return r.leader;
            await clock.sleep(r.retryInMs);
          }
        })(),
      );

      expect(await follower).toBe(false);
      expect(await clock.runUntil(run)).toEqual({ leader: true, term: 1, value: false });
      expect(signal?.aborted).toBe(true);
    });

    it('fails over within one lease plus one heartbeat of the leader going silent, with a greater term', async () => {
      // Prepare: a leads and then stops (killed); b polls as told
      const { clock, candidate } = setup();
      const a = candidate('a');
      const b = candidate('b');
      await a.runIfLeader(ROLE, noop);
      await b.runIfLeader(ROLE, noop);
      await clock.advance(HEARTBEAT);
      await a.runIfLeader(ROLE, noop);
      const killedAt = clock.now();

      // Act
      const elected = await clock.runUntil(
        (async () => {
          for (;;) {
            const r = await b.runIfLeader(ROLE, async (t) => t.term);
            if (r.leader) return r;
            await clock.sleep(r.retryInMs);
          }
        })(),
      );

      // Assert
      expect(elected.term).toBe(2);
      expect(clock.now() - killedAt).toBeGreaterThanOrEqual(LEASE);
      expect(clock.now() - killedAt).toBeLessThanOrEqual(LEASE + HEARTBEAT);
      expect(await a.runIfLeader(ROLE, noop)).toMatchObject({ leader: false, leaderId: 'b', term: 2 });
    });

    it('lets the next candidate lead at once when the leader resigns', async () => {
      const { candidate } = setup();
      const a = candidate('a');
      const b = candidate('b');
      await a.runIfLeader(ROLE, noop);
      await b.runIfLeader(ROLE, noop);

      const resigned = await a.resign(ROLE);
      const run = await b.runIfLeader(ROLE, noop);

      expect(resigned).toBe(true);
      expect(run).toEqual({ leader: true, term: 2, value: 2 });
    });

    it('steps down after repeated failures and sits out a cool-down while another candidate leads', async () => {
      // Prepare
      const { clock, candidate } = setup();
      const a = candidate('a', { maxConsecutiveFailures: 2, stepDownCooldownMs: 10_000 });
      const b = candidate('b');
      const failing = async () => {
        throw new Error('cannot reach the Kinesis API');
      };

      // Act
      await expect(a.runIfLeader(ROLE, failing)).rejects.toThrow('cannot reach');
      const stillLeader = a.isLeader(ROLE);
      await expect(a.runIfLeader(ROLE, failing)).rejects.toThrow('cannot reach');
      const cooling = await a.runIfLeader(ROLE, noop);
      const next = await b.runIfLeader(ROLE, noop);
      await clock.advance(10_000);
      const back = await a.runIfLeader(ROLE, noop);

      // Assert
      expect(stillLeader).toBe(true);
      expect(cooling).toMatchObject({ leader: false, reason: 'cooling-down', retryInMs: 10_000 });
      expect(next).toEqual({ leader: true, term: 2, value: 2 });
      expect(back).toMatchObject({ leader: false, leaderId: 'b', term: 2 });
    });

    it('aborts the term signal when renewals fail until the lease runs out on the leader clock', async () => {
      const { clock, store, candidate } = setup();
      const a = candidate('a');
      let abortedAt: number | undefined;

      const run = a.runIfLeader(ROLE, async (term) => {
        store.inject({ kind: 'timeout', operations: ['renewLease'], times: Number.POSITIVE_INFINITY });
        const startedAt = clock.now();
        await clock.sleep(10 * LEASE, term.signal);
        abortedAt = clock.now() - startedAt;
        return term.signal.reason as string;
      });

      expect(await clock.runUntil(run)).toMatchObject({ leader: true, value: 'expired' });
      expect(abortedAt).toBe(LEASE);
      expect(a.isLeader(ROLE)).toBe(false);
    });
  });

  describe('Method: leaderOf', () => {
    it('reads the stored leader and term', async () => {
      const { candidate } = setup();
      const a = candidate('a');
      const before = await a.leaderOf(ROLE);
      await a.runIfLeader(ROLE, noop);

      expect(before).toBeUndefined();
      expect(await candidate('x').leaderOf(ROLE)).toEqual({ leaderId: 'a', term: 1 });
    });
  });
});
