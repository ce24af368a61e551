import {
  Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** DynamoDB requests counted by the proxy: by table, and by operation within each table. */
interface RequestCounts {
  readonly total: number;
  readonly byTable: Readonly<Record<string, number>>;
  readonly byOperation: Readonly<Record<string, number>>;
}

/** The tables a request names: `TableName`, or the keys of `RequestItems`, or each transact item's table. */
function tablesOf(body: string): string[] {
  let input: unknown;
  try {
    input = JSON.parse(body);
  } catch {
    return ['(unparsed)'];
  }
  if (typeof input !== 'object' || input === null) return ['(none)'];
  const o = input as {
    TableName?: unknown;
    RequestItems?: unknown;
    TransactItems?: readonly Record<string, { TableName?: unknown }>[];
  };
  if (typeof o.TableName === 'string') return [o.TableName];
  if (typeof o.RequestItems === 'object' && o.RequestItems !== null) return Object.keys(o.RequestItems);
  if (Array.isArray(o.TransactItems))
    return (o.TransactItems as readonly Record<string, { TableName?: unknown }>[]).flatMap((item) =>
      Object.values(item).flatMap((op) => (typeof op?.TableName === 'string' ? [op.TableName] : [])),
    );
  return ['(none)'];
}

/**
 * An HTTP proxy in front of DynamoDB Local that counts every request it forwards, by table and operation
 * (the `X-Amz-Target` header). Both systems of the peers benchmark reach DynamoDB through it, so their
 * requests are counted the same way whatever SDK they use (the AWS SDK v3 for ours, v2 inside the peer).
 * A request that names several tables counts once for each.
 *
 * @example
 * ```ts
 * const proxy = await CountingProxy.start(engines.endpoints.dynamodb);
 * const before = proxy.snapshot();
 * // ... run something against proxy.endpoint ...
 * const spent = CountingProxy.difference(proxy.snapshot(), before);
 * await proxy.stop();
 * ```
 */
class CountingProxy {
  readonly #server: Server;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 256 });
  readonly #target: URL;
  #total = 0;
  readonly #byTable = new Map<string, number>();
  readonly #byOperation = new Map<string, number>();

  private constructor(upstream: string) {
    this.#target = new URL(upstream);
    this.#server = createServer((req, res) => this.#forward(req, res));
    this.#server.keepAliveTimeout = 60_000;
  }

  /** Starts a proxy to `upstream` on a free loopback port. */
  public static async start(upstream: string): Promise<CountingProxy> {
    const proxy = new CountingProxy(upstream);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  /** The endpoint to give clients instead of DynamoDB Local's. */
  public get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** The counts so far. */
  public snapshot(): RequestCounts {
    return {
      total: this.#total,
      byTable: Object.fromEntries(this.#byTable),
      byOperation: Object.fromEntries(this.#byOperation),
    };
  }

  /**
   * What was counted between two snapshots; with `tablePrefix`, only the requests to tables whose names start
   * with it (one run's tables, while other runs go on beside it).
   */
  public static difference(after: RequestCounts, before: RequestCounts, tablePrefix = ''): RequestCounts {
    const minus = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) =>
      Object.fromEntries(
        Object.entries(a)
          .filter(([k]) => k.startsWith(tablePrefix))
          .map(([k, v]) => [k, v - (b[k] ?? 0)] as const)
          .filter(([, v]) => v > 0),
      );
    const byTable = minus(after.byTable, before.byTable);
    return {
      total:
        tablePrefix === ''
          ? after.total - before.total
          : Object.values(byTable).reduce((sum, n) => sum + n, 0),
      byTable,
      byOperation: minus(after.byOperation, before.byOperation),
    };
  }

  public async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#agent.destroy();
  }

  #count(operation: string, tables: readonly string[]): void {
    this.#total++;
    for (const table of tables) {
      this.#byTable.set(table, (this.#byTable.get(table) ?? 0) + 1);
      const key = `${table} ${operation}`;
      this.#byOperation.set(key, (this.#byOperation.get(key) ?? 0) + 1);
    }
  }

  #forward(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.slice(target.indexOf('.') + 1) || '(none)';
      this.#count(operation, tablesOf(body.toString('utf8')));
      const upstream = request(
        {
          protocol: this.#target.protocol,
          hostname: this.#target.hostname,
          port: this.#target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: this.#target.host },
          agent: this.#agent,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', (error) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`counting proxy: ${error.message}`);
      });
      upstream.end(body);
    });
  }
}

export type { RequestCounts };
export { CountingProxy };
