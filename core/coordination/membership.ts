import { randomUUID } from 'node:crypto';
import { withRetries } from './backoff.js';
import { type Clock, systemClock } from './clock.js';
import { type ItemKey, membershipKey } from './keys.js';
import { LivenessTracker, type LivenessVerdict } from './liveness.js';
import type { InstanceLoad, MemberEntry, MembershipItem } from './records.js';
import type { MembershipStore } from './store.js';
import { durationMs, identifier, positiveInteger } from './validate.js';

interface MembershipOptions {
  readonly store: MembershipStore;
  /** Whose members these are: one fleet per stream (the key of its membership items). */
  readonly fleet: string;
  /** This member's id (its instance id). */
  readonly memberId: string;
  /** A member whose counter has not moved for this long, on this observer's clock, is presumed dead. */
  readonly failureDetectionMs: number;
  /**
   * Membership items the fleet is spread over; each member writes to the one its id hashes to. One item holds
   * a small fleet; a large one needs several (each heartbeat is billed for its item's size). @default 1
   */
  readonly groups?: number;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Attempts per store request on retryable errors. @default 3 */
  readonly maxAttempts?: number;
  /** Token of this process's incarnation. @default 12 random hex digits */
  readonly newIncarnation?: () => string;
}

/** One member as this observer judged it at the last read of its group's item. */
interface MemberView {
  readonly memberId: string;
  readonly group: number;
  readonly entry: MemberEntry;
  /** False once its counter stood still for the failure-detection window on this observer's clock. */
  readonly alive: boolean;
  readonly verdict: LivenessVerdict;
  /** When this observer last read the member's group item (its clock). */
  readonly readAtMs: number;
}

/** FNV-1a over the id's UTF-16 code units: a stable spread of member ids over groups. */
function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * The fleet's heartbeats in shared membership items (docs/cluster.md, "Membership"): each heartbeat of a member
 * is one write of its entry (a counter, its load) into its group's item that returns the whole item, so every
 * member learns every other member's counter of its group at no extra request, and nobody polls. Each observer
 * judges a member dead when its counter has not moved for `failureDetectionMs` **on the observer's own
 * monotonic clock**, confirmed by a read at least that long after it first saw the counter (docs/architecture.md
 * contract 8); no wall clock of another machine takes part.
 *
 * The holder's side: {@link lastBeatSentAtMs} is when the last heartbeat the store accepted was sent. Observers
 * first see its counter no earlier than the write took effect, so a member that stops acting
 * `failureDetectionMs` after that moment has stopped before any observer may judge it dead.
 *
 * A member's `mail` in the item lets anyone ask it to look at the leases again: it sees its mail change in the
 * response to its next heartbeat.
 *
 * @example
 * ```ts
 * const membership = new Membership({ store, fleet: streamName, memberId, failureDetectionMs: 4_500 });
 * await membership.beat({ eventsPerSecond: 120 });
 * const dead = membership.members().filter((m) => !m.alive);
 * ```
 */
class Membership {
  readonly #store: MembershipStore;
  readonly #clock: Clock;
  readonly #fleet: string;
  readonly #memberId: string;
  readonly #failureDetectionMs: number;
  readonly #groups: number;
  readonly #group: number;
  readonly #incarnation: string;
  readonly #retry: Parameters<typeof withRetries>[1];
  readonly #tracker: LivenessTracker;
  readonly #views = new Map<string, MemberView>();
  readonly #mail = new Map<string, string>();
  readonly #newToken: () => string;
  #beat = 0;
  #lastBeatSentAtMs: number | undefined;

  public constructor(options: MembershipOptions) {
    this.#store = options.store;
    this.#clock = options.clock ?? systemClock;
    this.#fleet = identifier('fleet', options.fleet);
    this.#memberId = identifier('memberId', options.memberId);
    this.#failureDetectionMs = durationMs('failureDetectionMs', options.failureDetectionMs);
    this.#groups = positiveInteger('groups', options.groups ?? 1);
    this.#group = Membership.groupOf(this.#memberId, this.#groups);
    this.#incarnation = (options.newIncarnation ?? (() => randomUUID().slice(0, 12)))();
    this.#newToken = () => randomUUID().slice(0, 13);
    this.#retry = {
      clock: this.#clock,
      maxAttempts: positiveInteger('maxAttempts', options.maxAttempts ?? 3),
      baseMs: 20,
      random: Math.random,
    };
    this.#tracker = new LivenessTracker({ clock: this.#clock });
  }

  /** The group (membership item) a member's heartbeats go to. */
  public static groupOf(memberId: string, groups: number): number {
    return groups <= 1 ? 0 : hashOf(memberId) % groups;
  }

  public get memberId(): string {
    return this.#memberId;
  }

  public get group(): number {
    return this.#group;
  }

  public get groups(): number {
    return this.#groups;
  }

  public get failureDetectionMs(): number {
    return this.#failureDetectionMs;
  }

  /** When the last heartbeat the store accepted was sent (this member's clock); undefined before the first. */
  public get lastBeatSentAtMs(): number | undefined {
    return this.#lastBeatSentAtMs;
  }

  /** This member's mail as of its last heartbeat: it changes when someone wants it to look again. */
  public get mailToken(): string | undefined {
    return this.#mail.get(this.#memberId);
  }

  /** The key of group `group`'s membership item. */
  public keyOf(group: number): ItemKey {
    return membershipKey(this.#fleet, group);
  }

  /**
   * One heartbeat: writes this member's entry (counter + 1, load) into its group's item, and into `alsoInto`
   * groups (a member others outside its group must watch), and judges every member of those items from the
   * responses. Counts as a heartbeat for the holder only if every write was accepted. Throws the store's error
   * when a write fails after its retries.
   */
  public async beat(load: InstanceLoad, alsoInto: readonly number[] = []): Promise<void> {
    const sentAtMs = this.#clock.now();
    const entry: MemberEntry = {
      incarnation: this.#incarnation,
      beat: ++this.#beat,
      atWallMs: this.#clock.wallNow(),
      load,
    };
    const groups = [...new Set([this.#group, ...alsoInto])];
    const items = await Promise.all(
      groups.map((group) =>
        withRetries(() => this.#store.beatMember(this.keyOf(group), this.#memberId, entry), this.#retry),
      ),
    );
    for (const [i, group] of groups.entries()) this.#observe(group, items[i]!);
    this.#lastBeatSentAtMs = Math.max(this.#lastBeatSentAtMs ?? sentAtMs, sentAtMs);
  }

  /** Reads other groups' items (an assigner watching the whole fleet) and judges their members. */
  public async read(groups: readonly number[]): Promise<void> {
    if (groups.length === 0) return;
    const items = await withRetries(
      () => this.#store.readMemberships(groups.map((g) => this.keyOf(g))),
      this.#retry,
    );
    for (const [i, group] of groups.entries()) this.#observe(group, items[i]!);
  }

  /** Every member as judged at the last read of its group, this member included (always alive to itself). */
  public members(): MemberView[] {
    return [...this.#views.values()];
  }

  public view(memberId: string): MemberView | undefined {
    return this.#views.get(memberId);
  }

  /** The member's signature (incarnation and counter) as last read, for sightings kept elsewhere. */
  public signatureOf(memberId: string): string | undefined {
    const entry = this.#views.get(memberId)?.entry;
    return entry === undefined ? undefined : `${entry.incarnation}|${entry.beat}`;
  }

  /** Asks members to look at the leases again at their next heartbeat: one write per group concerned. */
  public async mail(memberIds: Iterable<string>): Promise<void> {
    const token = this.#newToken();
    const byGroup = new Map<number, string[]>();
    for (const id of new Set(memberIds)) {
      const group = this.#views.get(id)?.group ?? Membership.groupOf(id, this.#groups);
      byGroup.set(group, [...(byGroup.get(group) ?? []), id]);
    }
    await Promise.all(
      [...byGroup].map(([group, ids]) =>
        withRetries(() => this.#store.mailMembers(this.keyOf(group), ids, token), this.#retry),
      ),
    );
  }

  /**
   * Removes a member this observer judges dead, only if its counter has not moved since (a late heartbeat
   * keeps it); `false` if it moved or is alive.
   */
  public async removeDead(memberId: string): Promise<boolean> {
    const view = this.#views.get(memberId);
    if (view === undefined) return true;
    if (view.alive) return false;
    const { beat } = view.entry;
    const removed = await withRetries(
      () => this.#store.removeMember(this.keyOf(view.group), memberId, { beat }),
      this.#retry,
    );
    if (removed) this.#forget(memberId);
    return removed;
  }

  /** Graceful exit: removes this member's entry from its group (and `alsoFrom` groups); idempotent. */
  public async leave(alsoFrom: readonly number[] = []): Promise<void> {
    const groups = [...new Set([this.#group, ...alsoFrom])];
    await Promise.all(
      groups.map((group) =>
        withRetries(() => this.#store.removeMember(this.keyOf(group), this.#memberId), this.#retry),
      ),
    );
  }

  /** Removes this member's entry from one other group it no longer writes to (a former deputy's). */
  public async stopWritingInto(group: number): Promise<void> {
    if (group === this.#group) return;
    await withRetries(() => this.#store.removeMember(this.keyOf(group), this.#memberId), this.#retry);
  }

  #observe(group: number, item: MembershipItem): void {
    const readAtMs = this.#clock.now();
    for (const [id, view] of [...this.#views])
      if (view.group === group && !item.members.has(id)) this.#forget(id);
    for (const [id, entry] of item.members) {
      const known = this.#views.get(id);
      // A member writing into several groups (an assigner into its deputy's) is judged by its own group's copy.
      if (known !== undefined && known.group !== group && group !== Membership.groupOf(id, this.#groups))
        continue;
      const verdict =
        id === this.#memberId
          ? { expired: false, remainingMs: this.#failureDetectionMs, silentForMs: 0, byWallClock: false }
          : this.#tracker.observe(id, `${entry.incarnation}|${entry.beat}`, this.#failureDetectionMs);
      this.#views.set(id, { memberId: id, group, entry, alive: !verdict.expired, verdict, readAtMs });
    }
    for (const [id, token] of item.mail) if (this.#views.get(id)?.group === group) this.#mail.set(id, token);
  }

  #forget(memberId: string): void {
    this.#views.delete(memberId);
    this.#mail.delete(memberId);
    this.#tracker.forget(memberId);
  }
}

export type { MembershipOptions, MemberView };
export { Membership };
