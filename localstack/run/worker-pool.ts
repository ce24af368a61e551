import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../core/config/schema.js';
import { ENV } from '../../core/constants.js';
import type { MappingSettings } from '../../core/esm/settings.js';
import { type BatchStats, emptyStats } from '../../core/processing/batch-processor.js';
import { LatencyRecorder } from '../../core/processing/latency.js';
import type { WorkerEvent } from '../../core/workers/events.js';
import type { ProjectionIdentity } from '../../projection-module/identity.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../clients.js';
import type { Endpoints } from '../engines/engines.js';
import type { ResourceNames } from '../provision.js';
import type { WorkerMessage, WorkerStats } from './worker-messages.js';

/** The CLI every worker process runs: `cdcp worker`, as an ECS task runs it. */
const CDCP = fileURLToPath(new URL('../../bin/cdcp.js', import.meta.url));
const COUNTING_PROJECTION = fileURLToPath(new URL('./counting-projection.ts', import.meta.url));

/** What every worker process of a run is told (each also gets its own instance id). */
interface WorkerSpec {
  readonly endpoints: Pick<Endpoints, 'dynamodb' | 'kinesis'>;
  readonly names: ResourceNames;
  readonly streamArn: string;
  /** The configuration the run started with (CDCP_CONFIG_JSON); a worker follows `configFile` when given. */
  readonly config: Config;
  /** The local config store (a JSON file) every worker watches, so `cdcp config set` reaches them. */
  readonly configFile?: string;
  readonly mapping: Partial<MappingSettings>;
  /** @default 'polling' */
  readonly reader?: 'polling' | 'fan-out';
  /** Fan-out subscriptions are renewed this often (tests renew often). @default 300_000 */
  readonly resubscribeIntervalMs?: number;
  /** Send an `invocation` message when each handler invocation starts and ends (tests that kill mid-batch). */
  readonly reportInvocations?: boolean;
  /** Apply the counting projection, which proves exactly-once effects (see `localstack/run/effect-audit.ts`). */
  readonly auditEffects?: boolean;
  /**
   * The run's projection module (`npm start -- --projection`): each worker loads it from its entry and refuses
   * to start unless it has this identity, as a task checks the stack's. Ignored with `auditEffects`.
   */
  readonly projection?: ProjectionIdentity;
  /** How often the worker reports its figures. @default 500 */
  readonly statsIntervalMs?: number;
}

/** Mapping settings and the variables that carry them. */
const MAPPING_ENV: readonly (readonly [keyof MappingSettings, string])[] = [
  ['batchSize', ENV.WORKER_BATCH_SIZE],
  ['maximumBatchingWindowMs', ENV.WORKER_BATCHING_WINDOW_MS],
  ['parallelizationFactor', ENV.WORKER_PARALLELIZATION_FACTOR],
  ['maximumRetryAttempts', ENV.WORKER_MAX_RETRY_ATTEMPTS],
  ['maximumRecordAgeSeconds', ENV.WORKER_MAX_RECORD_AGE_SECONDS],
  ['startingPosition', ENV.WORKER_STARTING_POSITION],
];

/** Which projection module a worker loads, and the identity it must have (none for the counting audit). */
function projectionEnvironment(spec: WorkerSpec): NodeJS.ProcessEnv {
  if (spec.auditEffects) return { [ENV.WORKER_PROJECTION_MODULE]: COUNTING_PROJECTION };
  if (spec.projection?.entry == null) return {};
  return {
    [ENV.WORKER_PROJECTION_MODULE]: spec.projection.entry,
    [ENV.PROJECTION]: JSON.stringify(spec.projection),
  };
}

/**
 * `cdcp worker` on the local engines: the environment a container would get, with the engines as endpoints,
 * a health endpoint on a free loopback port, and the run's config store; plus the flags of the IPC reports.
 */
function workerCommand(spec: WorkerSpec, instanceId: string): { args: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_METRICS_DISABLED: 'true',
    [ENV.LOG_LEVEL]: process.env.LOG_LEVEL ?? 'ERROR',
    [ENV.AWS_REGION]: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    [ENV.AWS_ENDPOINT_URL_DYNAMODB]: spec.endpoints.dynamodb,
    [ENV.AWS_ENDPOINT_URL_KINESIS]: spec.endpoints.kinesis,
    [ENV.STREAM_NAME]: spec.names.streamName,
    [ENV.STREAM_ARN]: spec.streamArn,
    [ENV.STATE_TABLE]: spec.names.stateTable,
    [ENV.PARKED_TABLE]: spec.names.parkedTable,
    [ENV.COORDINATION_TABLE]: spec.names.coordinationTable,
    [ENV.CONFIG_JSON]: JSON.stringify(spec.config),
    [ENV.CONFIG_FILE]: spec.configFile,
    [ENV.WORKER_INSTANCE_ID]: instanceId,
    [ENV.WORKER_HEALTH_PORT]: '0',
    [ENV.WORKER_HEALTH_HOST]: '127.0.0.1',
    [ENV.WORKER_READER]: spec.reader ?? 'polling',
    [ENV.WORKER_RESUBSCRIBE_MS]: spec.resubscribeIntervalMs?.toString(),
    ...projectionEnvironment(spec),
  };
  for (const [setting, name] of MAPPING_ENV)
    if (spec.mapping[setting] !== undefined) env[name] = String(spec.mapping[setting]);
  // A value left undefined above must not reach the child as the string "undefined", nor be inherited.
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
  const args = ['worker', '--stats-interval-ms', String(spec.statsIntervalMs ?? 500)];
  if (spec.reportInvocations) args.push('--report-invocations');
  return { args, env };
}

type WorkerState = 'starting' | 'running' | 'stopping' | 'stopped' | 'killed' | 'crashed';

/** One worker process as its supervisor sees it. */
interface WorkerRow {
  readonly id: string;
  readonly pid: number;
  readonly state: WorkerState;
  readonly startedAtWallMs: number;
  readonly leases: readonly string[];
  readonly eventsPerSecond: number;
  readonly lagMs: number;
  /** Arrival lag of the newest record processed, per shard it reads (absent: not reported). */
  readonly shardLagMs?: Readonly<Record<string, number>>;
  readonly assigner: boolean;
  readonly inFlight: number;
  readonly coordinationRequests: number;
  /** How it ended, once it has. */
  readonly exit?: { readonly code: number | null; readonly signal: string | null };
}

interface PoolOptions {
  /** What every worker is told. */
  readonly spec: WorkerSpec;
  /** How long a graceful stop may take before the worker is killed. @default 30_000 */
  readonly stopTimeoutMs?: number;
  /** How long a worker may take to register. @default 60_000 */
  readonly startTimeoutMs?: number;
  readonly onEvent?: (workerId: string, event: WorkerEvent, atWallMs: number) => void;
  readonly onInvocation?: (workerId: string, message: Extract<WorkerMessage, { type: 'invocation' }>) => void;
  /** A worker ended without being asked to (a crash): its id, exit and the tail of its output. */
  readonly onCrash?: (row: WorkerRow, output: string) => void;
}

interface Member {
  readonly id: string;
  readonly child: ChildProcess;
  readonly startedAtWallMs: number;
  state: WorkerState;
  stats: WorkerStats | undefined;
  output: string;
  exit: { code: number | null; signal: string | null } | undefined;
  readonly exited: Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Last resort when the run's process exits: no worker outlives it (they also stop when the IPC channel closes). */
function killAllSync(): void {
  for (const child of live)
    try {
      child.kill('SIGKILL');
    } catch {
      // gone already
    }
}

/**
 * The worker processes of a local run: starts them (each a `cdcp worker`, configured by its environment as a
 * container would be, with an IPC channel for its reports), follows their figures and events, stops them
 * with SIGTERM (a graceful hand-off, as ECS stops a task) or kills them, and sums what they processed. No
 * worker outlives the run: each stops when its IPC channel closes, and the pool kills the rest when the run
 * exits.
 *
 * @example
 * ```ts
 * const pool = new WorkerPool({ spec });
 * await pool.add(); await pool.add();
 * await pool.kill(pool.list()[0]!.id);
 * await pool.stopAll();
 * ```
 */
class WorkerPool {
  readonly #o: PoolOptions;
  readonly #members = new Map<string, Member>();
  readonly #watchers = new Set<(workerId: string, message: WorkerMessage) => void>();
  /** The workers' recent latencies, merged as their reports come, until the live view drains them. */
  readonly #recentLatency = new LatencyRecorder();
  #ordinal = 0;

  public constructor(options: PoolOptions) {
    this.#o = options;
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', killAllSync);
    }
  }

  /** Starts one more worker; resolves once it has registered. */
  public async add(): Promise<WorkerRow> {
    const id = `worker-${++this.#ordinal}-${randomBytes(3).toString('hex')}`;
    const { args, env } = workerCommand(this.#o.spec, id);
    const child = fork(CDCP, args, { execArgv: [], env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    live.add(child);
    let ready: (() => void) | undefined;
    const readyPromise = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const member: Member = {
      id,
      child,
      startedAtWallMs: Date.now(),
      state: 'starting',
      stats: undefined,
      output: '',
      exit: undefined,
      exited: new Promise<void>((resolve) =>
        child.once('exit', (code, signal) => {
          live.delete(child);
          member.exit = { code, signal };
          if (member.state === 'starting' || member.state === 'running') {
            member.state = 'crashed';
            this.#o.onCrash?.(this.#row(member), member.output);
          } else if (member.state === 'stopping') member.state = signal === 'SIGKILL' ? 'killed' : 'stopped';
          ready?.();
          resolve();
        }),
      ),
    };
    const keep = (chunk: Buffer) => {
      member.output = (member.output + chunk.toString()).slice(-8_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', (chunk: Buffer) => {
      keep(chunk);
      if (process.env.LOG_LEVEL !== undefined) process.stderr.write(chunk);
    });
    child.on('message', (message: WorkerMessage) => this.#receive(member, message, ready));
    this.#members.set(id, member);
    const timeoutMs = this.#o.startTimeoutMs ?? 60_000;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await readyPromise;
    clearTimeout(timer);
    if (member.state !== 'running')
      throw new Error(
        `worker ${id} did not start (${member.exit === undefined ? `no answer within ${timeoutMs} ms` : `exited with ${member.exit.signal ?? `code ${member.exit.code}`}`}). Its output:\n${member.output}`,
      );
    return this.#row(member);
  }

  /**
   * Stops a worker with SIGTERM, as ECS stops a task: it finishes its batches, checkpoints, releases its
   * leases and deregisters.
   */
  public async remove(id: string): Promise<WorkerRow> {
    const member = this.#get(id);
    if (member.exit === undefined) {
      member.state = 'stopping';
      member.child.kill('SIGTERM');
      const timer = setTimeout(() => member.child.kill('SIGKILL'), this.#o.stopTimeoutMs ?? 30_000);
      await member.exited;
      clearTimeout(timer);
    }
    return this.#row(member);
  }

  /** Kills a worker with SIGKILL: no checkpoint, no release; its leases expire for the others. */
  public async kill(id: string): Promise<WorkerRow> {
    const member = this.#get(id);
    if (member.exit === undefined) {
      member.state = 'stopping';
      member.child.kill('SIGKILL');
      await member.exited;
    }
    return this.#row(member);
  }

  /** Every worker started, running or not, in start order. */
  public list(): WorkerRow[] {
    return [...this.#members.values()].map((m) => this.#row(m));
  }

  /** Workers running now. */
  public running(): WorkerRow[] {
    return this.list().filter((r) => r.state === 'running');
  }

  /** What every worker ever started has processed (the last figures each reported). */
  public totals(): BatchStats {
    const totals = emptyStats();
    for (const m of this.#members.values())
      if (m.stats !== undefined)
        for (const key of Object.keys(totals) as (keyof BatchStats)[]) totals[key] += m.stats.totals[key];
    return totals;
  }

  /** Latencies of every change every worker ever started applied (the last figures each reported). */
  public latency(): LatencyRecorder {
    const all = new LatencyRecorder();
    for (const m of this.#members.values())
      if (m.stats !== undefined) all.merge(LatencyRecorder.fromJSON(m.stats.latency));
    return all;
  }

  /** Latencies of the changes the workers reported since the previous call. */
  public drainRecentLatency(): LatencyRecorder {
    const recent = LatencyRecorder.fromJSON(this.#recentLatency.toJSON());
    this.#recentLatency.reset();
    return recent;
  }

  /** Latest figures of a worker. */
  public stats(id: string): WorkerStats | undefined {
    return this.#members.get(id)?.stats;
  }

  /** Calls `listener` with every message a worker sends (tests that act on invocations or events). */
  public watch(listener: (workerId: string, message: WorkerMessage) => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  /** Stops every worker gracefully, at once. */
  public async stopAll(): Promise<void> {
    await Promise.all(
      [...this.#members.values()].filter((m) => m.exit === undefined).map((m) => this.remove(m.id)),
    );
  }

  /** Resolves an id, a unique prefix of one, or a pid. */
  public resolve(idOrPid: string): string | undefined {
    const members = [...this.#members.values()];
    const exact = members.find((m) => m.id === idOrPid || String(m.child.pid) === idOrPid);
    if (exact !== undefined) return exact.id;
    const prefixed = members.filter((m) => m.id.startsWith(idOrPid));
    return prefixed.length === 1 ? prefixed[0]!.id : undefined;
  }

  #get(id: string): Member {
    const member = this.#members.get(id);
    if (member === undefined)
      throw new Error(
        `no worker ${JSON.stringify(id)} in this run; its workers are ${[...this.#members.keys()].join(', ') || 'none'}`,
      );
    return member;
  }

  #receive(member: Member, message: WorkerMessage, ready: (() => void) | undefined): void {
    for (const watcher of this.#watchers) watcher(member.id, message);
    switch (message.type) {
      case 'ready':
        if (member.state === 'starting') member.state = 'running';
        ready?.();
        return;
      case 'stats':
        member.stats = message.stats;
        this.#recentLatency.merge(LatencyRecorder.fromJSON(message.stats.recentLatency));
        return;
      case 'event':
        this.#o.onEvent?.(member.id, message.event, message.atWallMs);
        return;
      case 'invocation':
        this.#o.onInvocation?.(member.id, message);
        return;
      case 'stopped':
        return;
    }
  }

  #row(m: Member): WorkerRow {
    return {
      id: m.id,
      pid: m.child.pid ?? -1,
      state: m.state,
      startedAtWallMs: m.startedAtWallMs,
      leases: m.state === 'running' ? (m.stats?.leases ?? []) : [],
      eventsPerSecond: m.state === 'running' ? (m.stats?.eventsPerSecond ?? 0) : 0,
      lagMs: m.stats?.lagMs ?? 0,
      shardLagMs: m.state === 'running' ? (m.stats?.shardLagMs ?? {}) : {},
      assigner: m.state === 'running' && m.stats?.assigner === true,
      inFlight: m.stats?.inFlight ?? 0,
      coordinationRequests: m.stats?.coordinationRequests ?? 0,
      ...(m.exit === undefined ? {} : { exit: m.exit }),
    };
  }
}

export type { PoolOptions, WorkerRow, WorkerSpec, WorkerState };
export { WorkerPool, workerCommand };
