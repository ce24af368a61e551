/**
 * What a `cdcp worker` process and its supervisor (`npm start -- --workers N`) say to each other on the IPC
 * channel. A worker started without one (a container) says nothing here and logs instead; it is configured
 * by environment and flags alone either way.
 */
import type { BatchStats } from '../../core/processing/batch-processor.js';
import type { SerializedLatencies } from '../../core/processing/latency.js';
import type { WorkerEvent } from '../../core/workers/events.js';

/** A worker's figures, sent every `--stats-interval-ms` and once more when it stops. */
interface WorkerStats {
  /** Cumulative batch counters of this worker process. */
  readonly totals: BatchStats;
  /** Latencies of every change this worker process applied. */
  readonly latency: SerializedLatencies;
  /** Latencies of the changes applied since the previous report. */
  readonly recentLatency: SerializedLatencies;
  readonly eventsPerSecond: number;
  readonly lagMs: number;
  /** Arrival lag of the newest record processed, per shard read now. */
  readonly shardLagMs: Readonly<Record<string, number>>;
  readonly leases: readonly string[];
  readonly assigner: boolean;
  readonly inFlight: number;
  /** Requests sent to the coordination table so far (heartbeats, lease reads and writes, checkpoints). */
  readonly coordinationRequests: number;
  readonly coordinationByOperation: Readonly<Record<string, number>>;
}

type WorkerMessage =
  | {
      readonly type: 'ready';
      readonly instanceId: string;
      readonly pid: number;
      /** The health endpoint, when the worker serves one. */
      readonly healthUrl: string | undefined;
    }
  | { readonly type: 'stats'; readonly stats: WorkerStats }
  | { readonly type: 'event'; readonly event: WorkerEvent; readonly atWallMs: number }
  | {
      readonly type: 'invocation';
      readonly shardId: string;
      readonly phase: 'start' | 'end';
      readonly records: number;
      readonly atWallMs: number;
    }
  | { readonly type: 'stopped'; readonly outcome: string };

export type { WorkerMessage, WorkerStats };
