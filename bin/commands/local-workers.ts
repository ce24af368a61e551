/**
 * `cdcp local workers`: the worker processes of a running `npm start -- --workers N`, through the run's control
 * endpoint (named in the runtime file): list, add one, stop one gracefully, kill one with SIGKILL.
 */

import { messageOf } from '../../core/errors.js';
import type { ControlEndpoint, WorkersResponse } from '../../localstack/run/control-server.js';
import { readRuntimeFile } from '../../localstack/run/runtime-file.js';
import type { WorkerRow } from '../../localstack/run/worker-pool.js';
import { CliError, type Command, type CommandContext, flag } from './command.js';

function endpoint(): ControlEndpoint {
  const runtime = readRuntimeFile();
  if (runtime === undefined)
    throw new CliError(
      'no running local pipeline was found in this folder (.cdcp/runtime.json); start one with `npm start -- --workers 3`',
    );
  if (runtime.control === undefined)
    throw new CliError(
      `the run with pid ${runtime.pid} has no control endpoint (it was started by an older version); restart it with \`npm start -- --workers 3\``,
    );
  return runtime.control;
}

async function call<T>(method: 'GET' | 'POST', path: string): Promise<T> {
  const { url, token } = endpoint();
  let response: Response;
  try {
    response = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  } catch (error) {
    throw new CliError(
      `the run does not answer at ${url} (${messageOf(error)}); is \`npm start\` still running in this folder?`,
      1,
    );
  }
  const body = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new CliError(body.error ?? `the run answered ${response.status}`, 1);
  return body;
}

const shortShard = (id: string) => id.replace(/^shardId-0*/, '') || '0';
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function describe(row: WorkerRow): string {
  const leases =
    row.leases.length === 0 ? '0' : `${row.leases.length} (${row.leases.map(shortShard).join(',')})`;
  return [
    row.id.padEnd(20),
    String(row.pid).padEnd(8),
    row.state.padEnd(9),
    leases.padEnd(16),
    fmt(row.eventsPerSecond).padStart(8),
    `${fmt(row.lagMs)} ms`.padStart(10),
    row.assigner ? '  assigner' : '',
  ].join(' ');
}

const HEADER = `${'ID'.padEnd(20)} ${'PID'.padEnd(8)} ${'STATE'.padEnd(9)} ${'LEASES'.padEnd(16)} ${'EVENTS/S'.padStart(8)} ${'LAG'.padStart(10)}`;

function json(row: WorkerRow): string {
  return JSON.stringify({
    id: row.id,
    pid: row.pid,
    state: row.state,
    leases: row.leases,
    eventsPerSecond: Math.round(row.eventsPerSecond * 10) / 10,
    lagMs: row.lagMs,
    assigner: row.assigner,
    startedAt: new Date(row.startedAtWallMs).toISOString(),
    ...(row.exit === undefined ? {} : { exit: row.exit }),
  });
}

function idArgument(ctx: CommandContext, verb: string): string {
  const positionals = ctx.positionals ?? [];
  if (positionals.length !== 1)
    throw new CliError(
      `give exactly one worker to ${verb} (an id from \`cdcp local workers\`, a unique prefix, or a pid); received ${positionals.length === 0 ? 'none' : JSON.stringify(positionals)}`,
    );
  return positionals[0]!;
}

const list: Command = {
  path: ['local', 'workers'],
  usage: 'local workers [--all] [--json]',
  summary: 'list the worker processes of the running npm start',
  help: `Lists the worker processes of the \`npm start -- --workers N\` running in this folder: id, pid, state, the
shards whose leases each holds, its events per second and lag, and which one is the elected assigner. With
--json, one JSON object per line: id, pid, state, leases, eventsPerSecond, lagMs, assigner, startedAt.`,
  options: {
    all: { type: 'boolean', description: 'also the workers that have stopped, were killed or crashed' },
  },
  json: true,
  async run(ctx) {
    const answer = await call<WorkersResponse>('GET', '/workers');
    const rows = flag(ctx, 'all')
      ? answer.workers
      : answer.workers.filter((w) => w.state === 'running' || w.state === 'starting');
    if (ctx.json) {
      for (const row of rows) ctx.stdout.write(`${json(row)}\n`);
      return 0;
    }
    ctx.stdout.write(`${HEADER}\n`);
    for (const row of rows) ctx.stdout.write(`${describe(row)}\n`);
    if (answer.mode === 'in-process')
      ctx.stderr.write(
        'this run has one worker inside its own process; `npm start -- --workers N` runs N processes\n',
      );
    else ctx.stderr.write(`${rows.length} worker(s)\n`);
    return 0;
  },
};

const add: Command = {
  path: ['local', 'workers', 'add'],
  usage: 'local workers add [--json]',
  summary: 'start one more worker process; the assigner gives it leases',
  help: `Starts one more worker process in the running \`npm start -- --workers N\` and prints it once it has
registered. The elected assigner moves leases to it by graceful hand-off (at most about shards / workers).
With --json, the new worker as one JSON object.`,
  json: true,
  async run(ctx) {
    const { worker } = await call<{ worker: WorkerRow }>('POST', '/workers');
    ctx.stdout.write(ctx.json ? `${json(worker)}\n` : `started ${worker.id} (pid ${worker.pid})\n`);
    return 0;
  },
};

const remove: Command = {
  path: ['local', 'workers', 'remove'],
  usage: 'local workers remove ID',
  summary: 'stop a worker gracefully: it checkpoints and releases its leases',
  help: `Stops one worker process gracefully: it finishes the batches in flight, checkpoints, releases its leases
(the assigner gives them to the other workers at once) and deregisters. ID is a worker id from
\`cdcp local workers\`, a unique prefix of one, or its pid.`,
  positionals: true,
  json: true,
  async run(ctx) {
    const id = idArgument(ctx, 'remove');
    const { worker } = await call<{ worker: WorkerRow }>('POST', `/workers/${encodeURIComponent(id)}/stop`);
    if (ctx.json) ctx.stdout.write(`${json(worker)}\n`);
    else ctx.stdout.write(`stopped ${worker.id} (pid ${worker.pid}): ${worker.state}\n`);
    return 0;
  },
};

const kill: Command = {
  path: ['local', 'workers', 'kill'],
  usage: 'local workers kill ID',
  summary: 'kill a worker with SIGKILL (its leases expire and move)',
  help: `Kills one worker process with SIGKILL, as a crash would: no checkpoint, no release. Its leases expire once
its heartbeat has stood still for a lease duration (instances.failureDetectionMs) and the assigner gives them
to live workers, which resume from the last checkpoints; the position fence skips what was applied twice.
ID is a worker id from \`cdcp local workers\`, a unique prefix of one, or its pid.`,
  positionals: true,
  json: true,
  async run(ctx) {
    const id = idArgument(ctx, 'kill');
    const { worker } = await call<{ worker: WorkerRow }>('POST', `/workers/${encodeURIComponent(id)}/kill`);
    if (ctx.json) ctx.stdout.write(`${json(worker)}\n`);
    else ctx.stdout.write(`killed ${worker.id} (pid ${worker.pid})\n`);
    return 0;
  },
};

export {
  add as localWorkersAdd,
  kill as localWorkersKill,
  list as localWorkersList,
  remove as localWorkersRemove,
};
