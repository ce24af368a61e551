/**
 * Every condition expression of the coordination table, each with the race it prevents. Attribute names are
 * placeholders bound in `item-mapping.ts` (`ATTRIBUTE_NAMES`).
 */

/** Grant only a lease nobody holds: of two contenders for a free (absent or released) lease, one wins. */
const LEASE_IS_FREE = 'attribute_not_exists(#owner)';

/**
 * Take over only the exact version the observer judged expired: a renewal, release or competing take-over
 * since that judgement changes the version and makes this take-over lose.
 */
const LEASE_VERSION_UNCHANGED = '#version = :expectedVersion';

/**
 * Renew, release, hand off or checkpoint only the caller's own grant: a holder that was taken over (the new
 * grant has a higher fence) cannot extend, free or overwrite the new grant.
 */
const LEASE_HELD_BY_CALLER = '#owner = :owner AND #fence = :fence';

/** Mark a hand-off only on the grant the assigner saw: the request cannot attach to a later grant. */
const LEASE_GRANT_UNCHANGED = 'attribute_exists(#owner) AND #fence = :fence';

/**
 * Take over (or annotate) only the grant the observer judged: a hand-off, release, adoption or competing
 * take-over since then changes owner or fence and makes the write lose. Checkpoints change neither, so the
 * owner's last checkpoint cannot make a successor's take-over of a dead owner's lease lose.
 */
const LEASE_GRANT_IS = '#owner = :expectedOwner AND #fence = :expectedFence';

/**
 * Accept a hand-off only as the requested new owner of the grant requested: an acceptance cannot attach to
 * a later grant or to a request that was redirected to someone else.
 */
const HANDOFF_REQUESTED_FOR_CALLER = '#pendingOwner = :to AND #fence = :fence';

/** Create a lease item only once: two creators cannot reset each other's fence or data. */
const LEASE_ABSENT = 'attribute_not_exists(#pk)';

/** Register only a fresh id: two instances that drew one id cannot share a record. */
const INSTANCE_ABSENT = 'attribute_not_exists(#pk)';

/**
 * Heartbeat only a registered instance: a paused instance whose record was removed as dead does not
 * resurrect it silently; it learns it was presumed dead and registers again.
 */
const INSTANCE_PRESENT = 'attribute_exists(#pk)';

/** Remove a presumed-dead instance only if its counter has not moved since: a late heartbeat saves it. */
const INSTANCE_COUNTER_UNCHANGED = '#heartbeat = :heartbeat';

/** Create a membership item only once: a second creator cannot erase the heartbeats already in it. */
const MEMBERSHIP_ABSENT = 'attribute_not_exists(#pk)';

/**
 * Remove a member judged dead only if its counter did not move since: a late heartbeat saves it, as
 * `INSTANCE_COUNTER_UNCHANGED` does for instance items. `#member` is bound to the member's id.
 */
const MEMBER_BEAT_UNCHANGED = '#members.#member.#beat = :beat';

/**
 * Apply a protected write only if its fence is not lower than the stored one: a holder that lost its lock
 * or leadership cannot overwrite what a later holder wrote (docs/architecture.md contract 7).
 */
const FENCE_NOT_LOWER = 'attribute_not_exists(#fence) OR #fence <= :fence';

/** Apply a retried protected write once: the id the first attempt stored makes a retry after a lost response lose. */
const WRITE_NOT_APPLIED = 'attribute_not_exists(#writeId) OR #writeId <> :writeId';

export {
  FENCE_NOT_LOWER,
  HANDOFF_REQUESTED_FOR_CALLER,
  INSTANCE_ABSENT,
  INSTANCE_COUNTER_UNCHANGED,
  INSTANCE_PRESENT,
  LEASE_ABSENT,
  LEASE_GRANT_IS,
  LEASE_GRANT_UNCHANGED,
  LEASE_HELD_BY_CALLER,
  LEASE_IS_FREE,
  LEASE_VERSION_UNCHANGED,
  MEMBER_BEAT_UNCHANGED,
  MEMBERSHIP_ABSENT,
  WRITE_NOT_APPLIED,
};
