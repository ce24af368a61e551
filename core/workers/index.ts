export { OptionsError } from '../errors.js';
export { Assigner, type AssignerOptions, type AssignerRound } from './assigner.js';
export {
  type AssignmentInput,
  type AssignmentStrategy,
  createStrategy,
  type ShardLoad,
  type WorkerLoad,
} from './assignment/index.js';
export { type ConsumerWorker, type ConsumerWorkerOptions, createConsumerWorker } from './consumer-worker.js';
export type { WorkerEvent } from './events.js';
export { type HealthReport, type HealthStatus, type HealthSubject, workerHealth } from './health.js';
export { leaseDeleter } from './lease-deleter.js';
export { LoadMeter, type ProcessUsage } from './load-meter.js';
export { countTableRequests } from './request-meter.js';
export { planShards, type ShardPlan } from './shard-graph.js';
export {
  ASSIGNER_SK,
  assignerLeaseKey,
  type ShardLease,
  type ShardLeaseData,
  shardLeaseData,
  splitLeases,
} from './shard-lease.js';
export {
  exitCodeOf,
  GracefulShutdown,
  type GracefulShutdownOptions,
  type ShutdownOutcome,
  type ShutdownReport,
} from './shutdown.js';
export { type WorkerTimings, workerTimings } from './timings.js';
export { type ShardProcessor, Worker, type WorkerOptions } from './worker.js';
