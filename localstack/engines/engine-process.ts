import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../core/coordination/clock.js';

const GUARD = fileURLToPath(new URL('./guard.cjs', import.meta.url));
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Synchronous last resort: the guards also stop their engines when our stdin pipes close. */
function killAllSync(): void {
  for (const child of live) {
    try {
      child.kill('SIGTERM');
    } catch {
      // already gone
    }
  }
}

interface EngineProcessOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Resolves true once the engine answers; polled until `startTimeoutMs`. */
  readonly isReady: () => Promise<boolean>;
  /** @default 60_000 */
  readonly startTimeoutMs?: number;
}

interface EngineProcess {
  readonly name: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts an engine under `guard.cjs`, so that it stops whenever this process ends, and waits until it answers.
 * Output is kept and shown only if the engine fails to start.
 */
async function startEngineProcess(options: EngineProcessOptions): Promise<EngineProcess> {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', killAllSync);
  }
  const child = spawn(process.execPath, [GUARD, options.command, ...options.args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: string | undefined;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? `code ${code}`}`;
      live.delete(child);
      resolve();
    }),
  );

  const stop = async () => {
    if (exited !== undefined) return;
    child.stdin?.end();
    child.kill('SIGTERM');
    await exitPromise;
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (let delayMs = 50; ; delayMs = Math.min(delayMs * 2, 500)) {
    if (exited !== undefined)
      throw new Error(`${options.name} ${exited} before it answered. Its output:\n${output}`);
    if (await options.isReady().catch(() => false)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `${options.name} did not answer within ${options.startTimeoutMs ?? 60_000} ms. Its output:\n${output}`,
      );
    }
    await systemClock.sleep(delayMs);
  }
  child.stdout?.removeListener('data', keep);
  child.stderr?.removeListener('data', keep);
  child.stdout?.resume();
  child.stderr?.resume();
  return { name: options.name, pid: child.pid ?? -1, stop };
}

export type { EngineProcess, EngineProcessOptions };
export { startEngineProcess };
