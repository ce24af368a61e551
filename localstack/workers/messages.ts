import type { Config } from '../../core/config/schema.js';
import type { BatchStats } from '../../core/processing/batch-processor.js';
import type { Endpoints } from '../engines/engines.js';
import type { MappingSettings } from '../esm/settings.js';
import type { ResourceNames } from '../provision.js';
import type { WorkerEvent } from './events.js';
import type { WorkerTimings } from './timings.js';

/** Everything a worker process needs, passed by its parent in `CDCP_WORKER_SPEC` (JSON). */
interface WorkerSpec {
  readonly instanceId: string;
  readonly endpoints: Pick<Endpoints, 'dynamodb' | 'kinesis'>;
  readonly names: ResourceNames;
  readonly streamArn: string;
  /** The configuration the run started with; a worker follows `configFile` when given. */
  readonly config: Config;
  /** The local config store (a JSON file) every worker watches, so `cdcp config set` reaches them. */
  readonly configFile?: string;
  readonly mapping: Partial<MappingSettings>;
  readonly timings?: Partial<WorkerTimings>;
  /** Send an `invocation` message when each handler invocation starts and ends (tests that kill mid-batch). */
  readonly reportInvocations?: boolean;
  /** Apply the counting projection, which proves exactly-once effects (see `localstack/run/effect-audit.ts`). */
  readonly auditEffects?: boolean;
  /** How often the worker reports its figures. @default 500 */
  readonly statsIntervalMs?: number;
}

/** A worker's figures, sent every `statsIntervalMs` and once more when it stops. */
interface WorkerStats {
  /** Cumulative batch counters of this worker process. */
  readonly totals: BatchStats;
  readonly eventsPerSecond: number;
  readonly lagMs: number;
  readonly leases: readonly string[];
  readonly assigner: boolean;
  readonly inFlight: number;
  /** Requests sent to the coordination table so far (heartbeats, lease reads and writes, checkpoints). */
  readonly coordinationRequests: number;
  readonly coordinationByOperation: Readonly<Record<string, number>>;
}

type WorkerMessage =
  | { readonly type: 'ready'; readonly instanceId: string; readonly pid: number }
  | { readonly type: 'stats'; readonly stats: WorkerStats }
  | { readonly type: 'event'; readonly event: WorkerEvent; readonly atWallMs: number }
  | {
      readonly type: 'invocation';
      readonly shardId: string;
      readonly phase: 'start' | 'end';
      readonly records: number;
      readonly atWallMs: number;
    }
  | { readonly type: 'stopped' };

type SupervisorMessage = { readonly type: 'stop' };

/** The environment variable that carries the spec to a worker process. */
const WORKER_SPEC_ENV = 'CDCP_WORKER_SPEC';

export type { SupervisorMessage, WorkerMessage, WorkerSpec, WorkerStats };
export { WORKER_SPEC_ENV };
