import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type BatchStats, emptyStats } from '../../core/processing/batch-processor.js';
import type { WorkerEvent } from './events.js';
import {
  type SupervisorMessage,
  WORKER_SPEC_ENV,
  type WorkerMessage,
  type WorkerSpec,
  type WorkerStats,
} from './messages.js';

const WORKER_MAIN = fileURLToPath(new URL('./worker-main.ts', import.meta.url));

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
  readonly assigner: boolean;
  readonly inFlight: number;
  readonly coordinationRequests: number;
  /** How it ended, once it has. */
  readonly exit?: { readonly code: number | null; readonly signal: string | null };
}

interface PoolOptions {
  /** The spec every worker gets, without its id. */
  readonly spec: Omit<WorkerSpec, 'instanceId'>;
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
 * The worker processes of a local run: starts them (each a `worker-main.ts` with an IPC channel), follows
 * their figures and events, stops them gracefully or kills them, and sums what they processed. No worker
 * outlives the run: each stops when its IPC channel closes, and the pool kills the rest when the run exits.
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
    const spec: WorkerSpec = { ...this.#o.spec, instanceId: id };
    const child = fork(WORKER_MAIN, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, [WORKER_SPEC_ENV]: JSON.stringify(spec) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
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

  /** Stops a worker gracefully: it finishes its batches, checkpoints, releases its leases and deregisters. */
  public async remove(id: string): Promise<WorkerRow> {
    const member = this.#get(id);
    if (member.exit === undefined) {
      member.state = 'stopping';
      this.#send(member, { type: 'stop' });
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

  #send(member: Member, message: SupervisorMessage): void {
    if (member.child.connected) member.child.send(message);
    else member.child.kill('SIGTERM');
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
      assigner: m.state === 'running' && m.stats?.assigner === true,
      inFlight: m.stats?.inFlight ?? 0,
      coordinationRequests: m.stats?.coordinationRequests ?? 0,
      ...(m.exit === undefined ? {} : { exit: m.exit }),
    };
  }
}

export type { PoolOptions, WorkerRow, WorkerState };
export { WorkerPool };
