import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Spawned {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a repository script with tsx, as `npm start` / `npx cdcp` do, capturing its output. */
function spawnScript(script: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Spawned {
  return spawnCapturing(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
  });
}

/** Runs a program with exactly `options.env` (nothing inherited), capturing its output. */
function spawnCapturing(
  file: string,
  args: readonly string[],
  options: { readonly cwd: string; readonly env: NodeJS.ProcessEnv },
): Spawned {
  const child = spawn(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Ports named in the run's "engines ready" line. */
function enginePorts(stderr: string): string[] {
  const line = stderr.split('\n').find((l) => l.startsWith('engines ready')) ?? '';
  return [...line.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => m[1]!);
}

/** Processes whose command line mentions one of the ports (DynamoDB Local `-port N`, kinesalite `--port N`). */
function processesOnPorts(ports: readonly string[]): string[] {
  const table = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return table
    .split('\n')
    .filter((l) =>
      ports.some((p) => new RegExp(`-port ${p}\\b`).test(l) || new RegExp(`--port ${p}\\b`).test(l)),
    );
}

export { enginePorts, processesOnPorts, ROOT, spawnCapturing, spawnScript };
