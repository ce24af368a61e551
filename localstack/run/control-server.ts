import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { messageOf } from '../../core/errors.js';
import { dashboardPage } from './dashboard-page.js';
import type { LiveView } from './live-view.js';
import type { WorkerGroup } from './worker-group.js';
import type { WorkerRow } from './worker-pool.js';

/** Where `cdcp local workers` reaches a running `npm start`; written into the runtime file. */
interface ControlEndpoint {
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>`: only who can read the runtime file can drive the run. */
  readonly token: string;
  /** The live dashboard's address, with the token in it: what the run prints. */
  readonly dashboardUrl: string;
}

/** uPlot's files, from its installed package (this repository's or the installed package's node_modules). */
const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));
const ASSETS: ReadonlyMap<string, string> = new Map([
  ['uPlot.iife.min.js', 'text/javascript; charset=utf-8'],
  ['uPlot.min.css', 'text/css; charset=utf-8'],
]);

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
 * and kills worker processes (only the run can start them: they are its children and stop with it), and which
 * serves the live dashboard.
 *
 * - `GET /?token=<token>` → the dashboard page (`dashboardUrl`); `GET /assets/<uPlot file>` → its chart library
 * - `GET /dashboard` → the live view's {@link LiveSnapshot} (`{ starting: true }` until the run is provisioned)
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
  live: () => LiveView | undefined = () => undefined,
): Promise<{ readonly endpoint: ControlEndpoint; close(): Promise<void> }> {
  const token = randomBytes(16).toString('hex');
  const server: Server = createServer((request, response) => {
    if (servePage(request, response, token)) return;
    handle(request, group(), live(), token).then(
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
  const url = `http://127.0.0.1:${port}`;
  return {
    endpoint: { url, token, dashboardUrl: `${url}/?token=${token}` },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Whether two tokens are the same, in a time that does not tell how much of a guess was right. */
function sameToken(given: string | null | undefined, token: string): boolean {
  if (typeof given !== 'string' || given.length !== token.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(token));
}

/**
 * The page and its chart library (GET `/` and `/assets/...`): true when it answered. The page itself needs
 * the token in its address; it sends it on with every request for data.
 */
function servePage(request: IncomingMessage, response: ServerResponse, token: string): boolean {
  if (request.method !== 'GET') return false;
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname === '/favicon.ico') {
    response.writeHead(204);
    response.end();
    return true;
  }
  if (url.pathname === '/') {
    if (!sameToken(url.searchParams.get('token'), token)) {
      response.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('the token in this address does not match the run: open the address the run printed\n');
    } else {
      response.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
      });
      response.end(dashboardPage('/assets'));
    }
    return true;
  }
  const asset = url.pathname.startsWith('/assets/') ? url.pathname.slice('/assets/'.length) : undefined;
  const type = asset === undefined ? undefined : ASSETS.get(asset);
  if (asset === undefined || type === undefined) return false;
  readFile(join(UPLOT_DIR, asset)).then(
    (content) => {
      response.writeHead(200, { 'content-type': type, 'cache-control': 'max-age=3600' });
      response.end(content);
    },
    (error: Error) => reply(response, 500, { error: `cannot read ${asset} from uPlot: ${error.message}` }),
  );
  return true;
}

async function handle(
  request: IncomingMessage,
  group: WorkerGroup | undefined,
  live: LiveView | undefined,
  token: string,
): Promise<{ status: number; body: unknown }> {
  if (!sameToken(request.headers.authorization?.replace(/^Bearer /, ''), token))
    throw new HttpError(401, 'the token does not match this run; read it from the runtime file of the run');
  const path = new URL(request.url ?? '/', 'http://localhost').pathname.split('/').filter((p) => p !== '');
  if (request.method === 'GET' && path.length === 1 && path[0] === 'dashboard')
    return { status: 200, body: live?.snapshot() ?? { starting: true } };
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
