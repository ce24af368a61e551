import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PEER_SPEC_ENV, type PeerCommand, type PeerMessage, type PeerSpec } from './peer-messages.js';

const RUNNER = fileURLToPath(new URL('./peer-runner.ts', import.meta.url));
const START_TIMEOUT_MS = 60_000;

interface PeerMember {
  readonly id: string;
  readonly child: ChildProcess;
  readonly pid: number;
  state: 'loading' | 'running' | 'stopped';
  output: string;
  readonly exited: Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * The peer's consumer processes (each a `peer-runner.ts`): starts a group together, adds one, kills one with
 * SIGKILL, stops them all, and passes on every message they send.
 */
class PeerPool {
  readonly #spec: Omit<PeerSpec, 'id'>;
  readonly #members = new Map<string, PeerMember>();
  readonly #watchers = new Set<(id: string, message: PeerMessage) => void>();
  #ordinal = 0;

  public constructor(spec: Omit<PeerSpec, 'id'>) {
    this.#spec = spec;
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const child of live) child.kill('SIGKILL');
      });
    }
  }

  /** Starts `count` consumers that register and start together; resolves once all run. */
  public async start(count: number): Promise<void> {
    const members = await Promise.all(Array.from({ length: count }, () => this.#load()));
    await Promise.all(members.map((m) => this.#run(m)));
  }

  /** Starts one more consumer. */
  public async add(): Promise<string> {
    const member = await this.#load();
    await this.#run(member);
    return member.id;
  }

  /** SIGKILL: no checkpoint, no release; its leases wait for the others to see it gone. */
  public async kill(id: string): Promise<void> {
    const member = this.#members.get(id);
    if (member === undefined || member.state === 'stopped') return;
    member.child.kill('SIGKILL');
    await member.exited;
  }

  public async stopAll(): Promise<void> {
    await Promise.all(
      [...this.#members.values()]
        .filter((m) => m.state !== 'stopped')
        .map(async (m) => {
          this.#send(m, { type: 'stop' });
          const timer = setTimeout(() => m.child.kill('SIGKILL'), 10_000);
          await m.exited;
          clearTimeout(timer);
        }),
    );
  }

  /** Running consumers: id and pid. */
  public running(): { id: string; pid: number }[] {
    return [...this.#members.values()]
      .filter((m) => m.state === 'running')
      .map((m) => ({ id: m.id, pid: m.pid }));
  }

  public watch(listener: (id: string, message: PeerMessage) => void): void {
    this.#watchers.add(listener);
  }

  async #load(): Promise<PeerMember> {
    const id = `peer-${++this.#ordinal}`;
    const child = fork(RUNNER, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, [PEER_SPEC_ENV]: JSON.stringify({ ...this.#spec, id }) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    live.add(child);
    let loaded: (() => void) | undefined;
    const loadedPromise = new Promise<void>((resolve) => {
      loaded = resolve;
    });
    const member: PeerMember = {
      id,
      child,
      pid: child.pid ?? -1,
      state: 'loading',
      output: '',
      exited: new Promise<void>((resolve) =>
        child.once('exit', () => {
          live.delete(child);
          member.state = 'stopped';
          loaded?.();
          resolve();
        }),
      ),
    };
    const keep = (chunk: Buffer) => {
      member.output = (member.output + chunk.toString()).slice(-8_000);
      if (process.env.PEERS_BENCH_TRACE !== undefined) process.stderr.write(chunk);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('message', (message: PeerMessage) => {
      if (message.type === 'loaded') loaded?.();
      for (const watcher of this.#watchers) watcher(id, message);
    });
    this.#members.set(id, member);
    await this.#within(loadedPromise, member, 'load');
    return member;
  }

  async #run(member: PeerMember): Promise<void> {
    const ready = new Promise<void>((resolve) => {
      member.child.on('message', (message: PeerMessage) => {
        if (message.type === 'ready') resolve();
      });
      void member.exited.then(resolve);
    });
    this.#send(member, { type: 'start' });
    await this.#within(ready, member, 'start');
    member.state = 'running';
  }

  async #within(promise: Promise<void>, member: PeerMember, what: string): Promise<void> {
    const timer = setTimeout(() => member.child.kill('SIGKILL'), START_TIMEOUT_MS);
    await promise;
    clearTimeout(timer);
    if (member.state === 'stopped')
      throw new Error(
        `peer consumer ${member.id} did not ${what} within ${START_TIMEOUT_MS} ms or exited; its output:\n${member.output}`,
      );
  }

  #send(member: PeerMember, command: PeerCommand): void {
    if (member.child.connected) member.child.send(command);
    else member.child.kill('SIGTERM');
  }
}

export { PeerPool };
