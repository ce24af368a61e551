/** What successor planning needs of a lease. */
interface SuccessorLease {
  readonly shardId: string;
  readonly owner: string | undefined;
  readonly successor: string | undefined;
}

/** A live worker that may take leases over (not leaving), and the membership group it heartbeats into. */
interface SuccessorCandidate {
  readonly workerId: string;
  readonly group: number;
}

/**
 * Who takes each lease over if its owner dies (pure). A successor sees its owner's heartbeat in the membership
 * item they share and takes the lease over by itself the moment it judges the owner dead, so failover needs
 * neither the assigner nor a notification. The rules:
 *
 * 1. only leases whose owner is a candidate get a successor (a leaving owner's leases are being handed off;
 *    a dead owner's are being taken over);
 * 2. a successor is another candidate of the owner's group (it must see the owner's heartbeat);
 * 3. a valid successor is kept (no writes while nothing changes);
 * 4. the others go, one by one in shard order, to the group-mate with the fewest of that owner's leases so far,
 *    then the fewest leases of its own, then the lowest id: a dead owner's leases spread over its group as
 *    evenly as they can.
 *
 * Returns only the leases whose successor should change (`undefined`: none is possible, clear it).
 *
 * @example
 * ```ts
 * const changes = planSuccessors(leases, [{ workerId: 'a', group: 0 }, { workerId: 'b', group: 0 }]);
 * ```
 */
function planSuccessors(
  leases: readonly SuccessorLease[],
  candidates: readonly SuccessorCandidate[],
): Map<string, string | undefined> {
  const groupOf = new Map(candidates.map((c) => [c.workerId, c.group]));
  const owned = new Map<string, number>();
  for (const lease of leases)
    if (lease.owner !== undefined) owned.set(lease.owner, (owned.get(lease.owner) ?? 0) + 1);
  const byOwner = new Map<string, SuccessorLease[]>();
  for (const lease of [...leases].sort((a, b) => (a.shardId < b.shardId ? -1 : 1)))
    if (lease.owner !== undefined && groupOf.has(lease.owner))
      byOwner.set(lease.owner, [...(byOwner.get(lease.owner) ?? []), lease]);
  const changes = new Map<string, string | undefined>();
  for (const [owner, ownerLeases] of byOwner) {
    const group = groupOf.get(owner)!;
    const mates = candidates
      .filter((c) => c.group === group && c.workerId !== owner)
      .map((c) => c.workerId)
      .sort();
    const duties = new Map(mates.map((m) => [m, 0]));
    const valid = (s: string | undefined) => s !== undefined && duties.has(s);
    for (const lease of ownerLeases)
      if (valid(lease.successor)) duties.set(lease.successor!, duties.get(lease.successor!)! + 1);
    for (const lease of ownerLeases) {
      if (valid(lease.successor)) continue;
      const pick = mates.reduce<string | undefined>((best, m) => {
        if (best === undefined) return m;
        const [d, db] = [duties.get(m)!, duties.get(best)!];
        if (d !== db) return d < db ? m : best;
        const [o, ob] = [owned.get(m) ?? 0, owned.get(best) ?? 0];
        return o < ob ? m : best;
      }, undefined);
      if (pick !== undefined) duties.set(pick, duties.get(pick)! + 1);
      if (pick !== lease.successor) changes.set(lease.shardId, pick);
    }
  }
  return changes;
}

export type { SuccessorCandidate, SuccessorLease };
export { planSuccessors };
