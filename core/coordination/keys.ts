/**
 * Keys of the coordination table's items (docs/architecture.md §5). One table holds every kind of item; the
 * partition key says which kind.
 */

/** Primary key of one coordination item. */
interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

const INSTANCE_PK = 'INSTANCE';
const LEADER_PK = 'LEADER';
const LOCK_PK_PREFIX = 'LOCK#';
const LOCK_SK = 'LOCK';
const SHARD_LEASE_PK_PREFIX = 'LEASE#';
const MEMBERSHIP_PK_PREFIX = 'MEMBERS#';
const MEMBERSHIP_SK = 'MEMBERS';
const HAND_OFF_KEYS_PK_PREFIX = 'CACHE#';

/** One running consumer instance. */
function instanceKey(instanceId: string): ItemKey {
  return { pk: INSTANCE_PK, sk: instanceId };
}

/** A named lock. */
function lockKey(name: string): ItemKey {
  return { pk: `${LOCK_PK_PREFIX}${name}`, sk: LOCK_SK };
}

/** Leadership of one role (cluster manager, lease assigner). */
function leaderKey(role: string): ItemKey {
  return { pk: LEADER_PK, sk: role };
}

/** Ownership of one shard of a stream (local workers). */
function shardLeaseKey(streamName: string, shardId: string): ItemKey {
  return { pk: `${SHARD_LEASE_PK_PREFIX}${streamName}`, sk: shardId };
}

/**
 * The heartbeats of one group of a fleet's members (one item per group; each group its own partition key, so
 * that DynamoDB's per-partition-key write limit applies to one group, not to the fleet).
 */
function membershipKey(fleet: string, group: number): ItemKey {
  return { pk: `${MEMBERSHIP_PK_PREFIX}${fleet}#${group}`, sk: MEMBERSHIP_SK };
}

/** The ids of the aggregates a worker had cached for a shard when it let the shard go (the owner cache). */
function handOffKeysKey(streamName: string, shardId: string): ItemKey {
  return { pk: `${HAND_OFF_KEYS_PK_PREFIX}${streamName}`, sk: shardId };
}

/** `pk/sk`, for messages and maps. */
function keyString(key: ItemKey): string {
  return `${key.pk}/${key.sk}`;
}

export type { ItemKey };
export {
  HAND_OFF_KEYS_PK_PREFIX,
  handOffKeysKey,
  INSTANCE_PK,
  instanceKey,
  keyString,
  LEADER_PK,
  leaderKey,
  lockKey,
  MEMBERSHIP_PK_PREFIX,
  membershipKey,
  SHARD_LEASE_PK_PREFIX,
  shardLeaseKey,
};
