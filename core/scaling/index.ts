export { OptionsError } from '../errors.js';
export {
  type AuditLog,
  actionHistory,
  type ClaimResult,
  DECISION_PK,
  type DecisionInputs,
  type DecisionRecord,
  decisionId,
  type NewDecision,
} from './audit-log.js';
export { CloudWatchMetricsSource, type CloudWatchMetricsSourceOptions } from './cloudwatch-metrics-source.js';
export {
  ClusterManager,
  type ClusterManagerOptions,
  type FleetFigures,
  type ManagerRun,
  type ManagerTerm,
  type Observation,
} from './cluster-manager.js';
export { ConfigSheddingControl, type SheddingControl } from './config-shedding-control.js';
export {
  type ConsumerLoadReport,
  ConsumerLoadTracker,
  type ConsumerLoadTrackerOptions,
  type TrackedRecord,
} from './consumer-load-tracker.js';
export {
  DECISION_ABSENT,
  DECISION_OF_TERM,
  DynamoDbAuditLog,
  type DynamoDbAuditLogOptions,
} from './dynamodb-audit-log.js';
export { EcsServiceControl, type ServiceControl, type ServiceCounts } from './ecs-service-control.js';
export { ScalingError, ScalingIoError, ScalingRuleViolationError } from './errors.js';
export {
  type ActionOutcome,
  actionRecordOf,
  type ExecuteOptions,
  ScalingExecutor,
  type ScalingExecutorOptions,
} from './executor.js';
export {
  cpuCapacityPercent,
  type FleetControl,
  fleetViewOf,
  WorkerFleet,
  type WorkerFleetOptions,
  workerLoadsOf,
} from './fleet-control.js';
export { fleetSummary, shardsAfterPlan, sizeWorkerFleet } from './fleet-rule.js';
export {
  adjacent,
  contains,
  type HashRange,
  hashKeyOf,
  hashRange,
  keyAtFraction,
  parseHashKey,
  shareOfKeySpace,
  uniformRanges,
  width,
} from './hash-key.js';
export { type HeavyHitter, HeavyHitters, type HeavyHittersOptions } from './heavy-hitters.js';
export { Housekeeper, type HousekeeperOptions, type HousekeepingReport } from './housekeeping.js';
export { InMemoryAuditLog } from './in-memory-audit-log.js';
export { InMemoryMetricsSource, type InMemoryMetricsSourceOptions } from './in-memory-metrics-source.js';
export {
  checkAction,
  isResharding,
  RULES,
  type RuleContext,
  type RuleName,
  type RuleViolation,
  updateShardCountCallsInWindow,
} from './kinesis-rules.js';
export {
  KinesisStreamControl,
  type ListedShard,
  type StreamControl,
  type StreamDescription,
} from './kinesis-stream-control.js';
export {
  LambdaParallelizationControl,
  type ParallelizationControl,
} from './lambda-parallelization-control.js';
export * from './limits.js';
export { loadMedianSplit, midpointSplit, type SplitPoint } from './load-median.js';
export {
  hotKeysFromInstances,
  lagFromInstances,
  type MetricsRequest,
  type MetricsSource,
} from './metrics-source.js';
export type {
  ActionOutcomeStatus,
  ActionRecord,
  BlockedAction,
  FleetSummary,
  FleetView,
  HotKeyFinding,
  KeyRate,
  MetricPoint,
  MetricsHistory,
  OpenShard,
  Plan,
  PlannedAction,
  PlanSummary,
  ScalingActionKind,
  ShardLoad,
  StreamStatus,
  StreamView,
  WorkerLoad,
} from './model.js';
export { demandOf, type PlanInput, planScaling, utilizationOf } from './planner.js';
export {
  DEFAULT_POLICY,
  type PolicyOverrides,
  policyFromConfig,
  type ScalingPolicy,
  type SheddingPolicy,
  scalingPolicy,
} from './policy.js';
export {
  StreamSampleMetricsSource,
  type StreamSampleMetricsSourceOptions,
} from './stream-sample-metrics-source.js';
