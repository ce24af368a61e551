import { type Clock, systemClock } from './clock.js';
import { CoordinationStoreError } from './errors.js';
import type { LeaseGuard } from './fenced-writer.js';
import { leaderKey } from './keys.js';
import type { Lease } from './lease.js';
import { LeaseClient } from './lease-client.js';
import { LeaseKeeper } from './lease-keeper.js';
import type { LeaseStore } from './store.js';
import { durationMs, heartbeatWithinLease, identifier, positiveInteger } from './validate.js';

interface LeaderElectionOptions {
  readonly store: LeaseStore;
  /** This candidate's id (its instance id). */
  readonly candidateId: string;
  /** @default systemClock */
  readonly clock?: Clock;
  /** How long leadership outlives the leader's last renewal. @default 15_000 */
  readonly leaseDurationMs?: number;
  /** How often a leader renews while it runs; at most half the lease. @default leaseDurationMs / 3 */
  readonly heartbeatPeriodMs?: number;
  /**
   * Longest gap between a follower's looks at the leader record (`retryInMs` never exceeds it). Half a
   * heartbeat bounds failover by one lease duration plus one heartbeat, with half a heartbeat left for I/O.
   * @default heartbeatPeriodMs / 2
   */
  readonly followerPollMs?: number;
  /** Consecutive failures of the leader's work after which it steps down. @default 3 */
  readonly maxConsecutiveFailures?: number;
  /** After stepping down, do not campaign for this long (let a healthier candidate win). @default 2 × leaseDurationMs */
  readonly stepDownCooldownMs?: number;
  /** See {@link LeaseClientOptions.clockSkewAllowanceMs}. @default undefined (off) */
  readonly clockSkewAllowanceMs?: number;
  /** @default crypto.randomUUID */
  readonly newVersion?: () => string;
}

/**
 * One term of leadership. `term` is the lease's fence: strictly greater than every earlier term of the role.
 * Carry it as the fence of every write the leader makes; stop when `signal` aborts.
 */
interface LeaderTerm {
  readonly role: string;
  readonly leaderId: string;
  readonly term: number;
  readonly signal: AbortSignal;
  /** The grant, for `FencedWriter` writes that must also check that leadership is still this term. */
  readonly guard: LeaseGuard;
}

/** What a campaign found when it did not win. */
interface Follower {
  readonly leader: false;
  readonly role: string;
  /** The leader as last seen; `undefined` if there was none. */
  readonly leaderId: string | undefined;
  readonly term: number | undefined;
  /** When to campaign again: when the current leader could first be judged gone, or the next poll. */
  readonly retryInMs: number;
  readonly reason: 'follower' | 'cooling-down';
}

type LeaderRun<T> = { readonly leader: true; readonly term: number; readonly value: T } | Follower;

interface RoleState {
  lease: Lease | undefined;
  failures: number;
  cooldownUntilMs: number;
}

/**
 * Leader election per role on the coordination table: a lease on `LEADER/<role>` whose fence is the term.
 * A released leadership is taken at once (one conditional write); an abandoned one after the old leader has
 * been silent for a lease duration on the candidate's own clock. A leader whose work keeps failing steps
 * down and sits out a cool-down.
 *
 * @example
 * ```ts
 * const election = new LeaderElection({ store, candidateId: instanceId });
 * const run = await election.runIfLeader('cluster-manager', (t) => manageCluster({ fence: t.term, signal: t.signal }));
 * if (!run.leader) await clock.sleep(run.retryInMs);
 * ```
 */
class LeaderElection {
  readonly #leases: LeaseClient;
  readonly #clock: Clock;
  readonly #candidateId: string;
  readonly #leaseDurationMs: number;
  readonly #heartbeatPeriodMs: number;
  readonly #followerPollMs: number;
  readonly #maxFailures: number;
  readonly #cooldownMs: number;
  readonly #roles = new Map<string, RoleState>();

  public constructor(options: LeaderElectionOptions) {
    this.#clock = options.clock ?? systemClock;
    this.#candidateId = identifier('candidateId', options.candidateId);
    this.#leaseDurationMs = durationMs('leaseDurationMs', options.leaseDurationMs ?? 15_000);
    this.#heartbeatPeriodMs = durationMs(
      'heartbeatPeriodMs',
      options.heartbeatPeriodMs ?? this.#leaseDurationMs / 3,
    );
    heartbeatWithinLease(this.#heartbeatPeriodMs, this.#leaseDurationMs);
    this.#followerPollMs = durationMs(
      'followerPollMs',
      options.followerPollMs ?? this.#heartbeatPeriodMs / 2,
    );
    this.#maxFailures = positiveInteger('maxConsecutiveFailures', options.maxConsecutiveFailures ?? 3);
    this.#cooldownMs = durationMs(
      'stepDownCooldownMs',
      options.stepDownCooldownMs ?? 2 * this.#leaseDurationMs,
      true,
    );
    this.#leases = new LeaseClient({
      store: options.store,
      clock: this.#clock,
      clockSkewAllowanceMs: options.clockSkewAllowanceMs,
      newVersion: options.newVersion,
    });
  }

  public get candidateId(): string {
    return this.#candidateId;
  }

  /** True while this candidate holds the role, on its own clock (no store call). */
  public isLeader(role: string): boolean {
    const lease = this.#roles.get(role)?.lease;
    return lease !== undefined && !lease.isExpired(this.#clock.now());
  }

  /**
   * Runs `fn` if this candidate is (or becomes) the leader of `role`, renewing leadership in the background
   * while `fn` runs. Leadership is kept after `fn` returns; call again within the lease to keep it. An error
   * of `fn` is rethrown; after `maxConsecutiveFailures` in a row the leader steps down first.
   */
  public async runIfLeader<T>(role: string, fn: (term: LeaderTerm) => Promise<T>): Promise<LeaderRun<T>> {
    const outcome = await this.campaign(role);
    if (!outcome.leader) return outcome;
    const state = this.#state(role);
    const keeper = new LeaseKeeper({
      client: this.#leases,
      lease: outcome.lease,
      clock: this.#clock,
      heartbeatPeriodMs: this.#heartbeatPeriodMs,
    });
    keeper.start();
    const term: LeaderTerm = {
      role,
      leaderId: this.#candidateId,
      term: outcome.lease.fence,
      signal: keeper.signal,
      guard: { key: outcome.lease.key, owner: this.#candidateId, fence: outcome.lease.fence },
    };
    try {
      const value = await fn(term);
      state.failures = 0;
      return { leader: true, term: term.term, value };
    } catch (error) {
      state.failures += 1;
      if (state.failures >= this.#maxFailures) {
        await keeper.stop();
        state.lease = keeper.isHeld ? keeper.lease : undefined;
        await this.#stepDown(role, state);
      }
      throw error;
    } finally {
      const lost = keeper.endReason !== undefined && keeper.endReason !== 'finished';
      await keeper.stop('finished');
      if (state.lease !== undefined) state.lease = lost ? undefined : keeper.lease;
    }
  }

  /**
   * One campaign without running anything: renews this candidate's leadership, or takes it if it is free
   * or its leader has been silent for a lease duration on this candidate's clock.
   */
  public async campaign(role: string): Promise<{ readonly leader: true; readonly lease: Lease } | Follower> {
    identifier('role', role);
    const state = this.#state(role);
    const now = this.#clock.now();
    if (state.cooldownUntilMs > now)
      return this.#follower(role, undefined, state.cooldownUntilMs - now, 'cooling-down');
    const held = state.lease;
    if (held !== undefined && !held.isExpired(now)) {
      try {
        const renewed = await this.#leases.renew(held);
        state.lease = renewed;
        if (renewed !== undefined) return { leader: true, lease: renewed };
      } catch (error) {
        if (!(error instanceof CoordinationStoreError && error.retryable)) throw error;
        return this.#follower(role, held.record, this.#followerPollMs, 'follower');
      }
    }
    state.lease = undefined;
    const attempt = await this.#leases.tryAcquire(leaderKey(role), {
      owner: this.#candidateId,
      leaseDurationMs: this.#leaseDurationMs,
    });
    if (attempt.lease !== undefined) {
      state.lease = attempt.lease;
      return { leader: true, lease: attempt.lease };
    }
    return this.#follower(
      role,
      attempt.current,
      Math.min(this.#followerPollMs, attempt.retryInMs),
      'follower',
    );
  }

  /** Gives up leadership of `role` so another candidate takes it at once; `false` if it was not held. */
  public async resign(role: string): Promise<boolean> {
    const state = this.#state(role);
    const lease = state.lease;
    state.lease = undefined;
    return lease === undefined ? false : this.#leases.release(lease);
  }

  /** The current leader record of `role` as stored (alive or not), or `undefined` if never elected. */
  public async leaderOf(
    role: string,
  ): Promise<{ readonly leaderId: string | undefined; readonly term: number } | undefined> {
    const record = await this.#leases.get(leaderKey(role));
    return record === undefined ? undefined : { leaderId: record.owner, term: record.fence };
  }

  async #stepDown(role: string, state: RoleState): Promise<void> {
    state.failures = 0;
    state.cooldownUntilMs = this.#clock.now() + this.#cooldownMs;
    await this.resign(role).catch(() => false);
  }

  #follower(
    role: string,
    current: { readonly owner: string | undefined; readonly fence: number } | undefined,
    retryInMs: number,
    reason: Follower['reason'],
  ): Follower {
    return {
      leader: false,
      role,
      leaderId: current?.owner,
      term: current?.fence,
      retryInMs: Math.max(1, retryInMs),
      reason,
    };
  }

  #state(role: string): RoleState {
    let state = this.#roles.get(role);
    if (state === undefined) {
      state = { lease: undefined, failures: 0, cooldownUntilMs: Number.NEGATIVE_INFINITY };
      this.#roles.set(role, state);
    }
    return state;
  }
}

export type { Follower, LeaderElectionOptions, LeaderRun, LeaderTerm };
export { LeaderElection };
