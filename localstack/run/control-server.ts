import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { messageOf } from '../../core/errors.js';
import type { WorkerGroup } from './worker-group.js';
import type { WorkerRow } from './worker-pool.js';

/** Where `cdcp local workers` reaches a running `npm start`; written into the runtime file. */
interface ControlEndpoint {
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>`: only who can read the runtime file can drive the run. */
  readonly token: string;
}

/** What `GET /workers` answers. */
interface WorkersResponse {
  /** `processes`: `--workers N`; `in-process`: one worker inside the run, which cannot be added to. */
  readonly mode: 'processes' | 'in-process' | 'starting';
  readonly workers: readonly WorkerRow[];
}

class HttpError extends Error {
  public constructor(
    public readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A loopback HTTP endpoint in the `npm start` process through which `cdcp local workers` lists, adds, stops
 * and kills worker processes (only the run can start them: they are its children and stop with it).
 *
 * - `GET /workers` → {@link WorkersResponse}
 * - `POST /workers` → the new worker, once it has registered
 * - `POST /workers/<id>/stop` → stops it gracefully (checkpoint, release, deregister), once it has exited
 * - `POST /workers/<id>/kill` → SIGKILL, once it has exited
 *
 * `<id>` may be a worker id, a unique prefix of one, or a pid.
 *
 * @example
 * ```ts
 * const control = await startControlServer(() => group);
 * writeRuntimeFile({ ...info, control: control.endpoint });
 * ```
 */
async function startControlServer(
  group: () => WorkerGroup | undefined,
): Promise<{ readonly endpoint: ControlEndpoint; close(): Promise<void> }> {
  const token = randomBytes(16).toString('hex');
  const server: Server = createServer((request, response) => {
    handle(request, group(), token).then(
      ({ status, body }) => reply(response, status, body),
      (error: unknown) =>
        reply(response, error instanceof HttpError ? error.status : 500, { error: messageOf(error) }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.unref();
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    endpoint: { url: `http://127.0.0.1:${port}`, token },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(
  request: IncomingMessage,
  group: WorkerGroup | undefined,
  token: string,
): Promise<{ status: number; body: unknown }> {
  if (request.headers.authorization !== `Bearer ${token}`)
    throw new HttpError(401, 'the token does not match this run; read it from the runtime file of the run');
  const path = new URL(request.url ?? '/', 'http://localhost').pathname.split('/').filter((p) => p !== '');
  if (path[0] !== 'workers') throw new HttpError(404, `no such endpoint: ${request.method} ${request.url}`);
  if (request.method === 'GET' && path.length === 1) {
    const body: WorkersResponse =
      group === undefined
        ? { mode: 'starting', workers: [] }
        : { mode: group.pool === undefined ? 'in-process' : 'processes', workers: group.rows() };
    return { status: 200, body };
  }
  if (request.method !== 'POST') throw new HttpError(405, `${request.method} is not supported here`);
  if (group === undefined)
    throw new HttpError(503, 'the run is still starting its workers; try again in a moment');
  const pool = group.pool;
  if (pool === undefined)
    throw new HttpError(
      409,
      'this run has one worker inside its own process, which cannot be added to, stopped or killed on its own; ' +
        'restart it with `npm start -- --workers N` to run worker processes',
    );
  if (path.length === 1) return { status: 201, body: { worker: await pool.add() } };
  const [, idOrPid, action] = path;
  const id = pool.resolve(decodeURIComponent(idOrPid ?? ''));
  if (id === undefined)
    throw new HttpError(
      404,
      `no worker ${JSON.stringify(idOrPid)} in this run (give an id, a unique prefix of one, or a pid); its workers: ${
        pool
          .list()
          .map((w) => `${w.id} (pid ${w.pid}, ${w.state})`)
          .join(', ') || 'none'
      }`,
    );
  if (action === 'stop') return { status: 200, body: { worker: await pool.remove(id) } };
  if (action === 'kill') return { status: 200, body: { worker: await pool.kill(id) } };
  throw new HttpError(404, `no such action ${JSON.stringify(action)}; use stop or kill`);
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

export type { ControlEndpoint, WorkersResponse };
export { startControlServer };
