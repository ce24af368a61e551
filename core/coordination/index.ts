export { OptionsError } from '../errors.js';
export { backoffDelayMs } from './backoff.js';
export { type Clock, ManualClock, systemClock } from './clock.js';
export * as conditions from './conditions.js';
export { DynamoDbCoordinationStore, type DynamoDbCoordinationStoreOptions } from './dynamodb-store.js';
export {
  CoordinationError,
  CoordinationStoreError,
  LeaseLostError,
  LockNotGrantedError,
} from './errors.js';
export {
  FaultInjectingStore,
  type FaultKind,
  type FaultRule,
  type InjectedFault,
  type StoreOperation,
} from './fault-injecting-store.js';
export {
  type FenceCondition,
  type FencedUpdate,
  type FencedWriteResult,
  FencedWriter,
  type FencedWriterOptions,
  fenceCondition,
  type LeaseGuard,
} from './fenced-writer.js';
export { InMemoryCoordinationStore } from './in-memory-store.js';
export {
  InstancePresence,
  type InstancePresenceOptions,
  type PresenceOperation,
  type PresenceOutcome,
} from './instance-presence.js';
export {
  type HeartbeatOutcome,
  type HeartbeatReport,
  InstanceRegistry,
  type InstanceRegistryOptions,
  type InstanceView,
} from './instance-registry.js';
export {
  INSTANCE_PK,
  type ItemKey,
  instanceKey,
  keyString,
  LEADER_PK,
  leaderKey,
  lockKey,
  MEMBERSHIP_PK_PREFIX,
  membershipKey,
  SHARD_LEASE_PK_PREFIX,
  shardLeaseKey,
} from './keys.js';
export {
  type Follower,
  LeaderElection,
  type LeaderElectionOptions,
  type LeaderRun,
  type LeaderTerm,
} from './leader-election.js';
export { Lease } from './lease.js';
export {
  type AcquireLeaseOptions,
  type LeaseAttempt,
  LeaseClient,
  type LeaseClientOptions,
} from './lease-client.js';
export { type LeaseEndReason, LeaseKeeper, type LeaseKeeperOptions } from './lease-keeper.js';
export { LivenessTracker, type LivenessVerdict, Sighting } from './liveness.js';
export { Lock } from './lock.js';
export {
  type AcquireOptions,
  LockClient,
  type LockClientOptions,
  type TryAcquireOptions,
} from './lock-client.js';
export { Membership, type MembershipOptions, type MemberView } from './membership.js';
export type {
  HotKey,
  InstanceKind,
  InstanceLoad,
  InstanceRecord,
  LeaseRecord,
  LeaseRenewal,
  MemberEntry,
  MembershipItem,
} from './records.js';
export type {
  CoordinationStore,
  InstanceStore,
  LeaseStore,
  LeaseWriteResult,
  MembershipStore,
} from './store.js';
