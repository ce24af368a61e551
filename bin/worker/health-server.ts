import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WORKER } from '../../core/constants.js';
import type { HealthReport } from '../../core/workers/health.js';

interface HealthServer {
  /** `http://host:port`, with the port actually bound (port 0 picks a free one). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The worker's health endpoint for the container health check: `GET /health` answers 200 with the report as
 * JSON while the worker is healthy, 503 with the report otherwise (starting, stale heartbeat, stopping).
 *
 * @example
 * ```ts
 * const server = await startHealthServer({ port: 8080, host: '0.0.0.0', report: () => workerHealth(worker, clock) });
 * // ECS: node -e "fetch('http://127.0.0.1:8080/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
 * ```
 */
async function startHealthServer(options: {
  readonly port: number;
  readonly host: string;
  readonly report: () => HealthReport;
}): Promise<HealthServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' || (path !== WORKER.healthPath && path !== '/')) {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: `no ${request.method} ${path} here; GET ${WORKER.healthPath}` }));
      return;
    }
    const report = options.report();
    response.writeHead(report.healthy ? 200 : 503, { 'content-type': 'application/json' });
    response.end(JSON.stringify(report));
  });
  // Health checks come every few seconds: do not let their keep-alive sockets hold the process up.
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export type { HealthServer };
export { startHealthServer };
