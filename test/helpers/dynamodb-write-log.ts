import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { STATE_TABLE } from '../../core/constants.js';

/** One committed state write as DynamoDB answered it: when, to which aggregate, over which stored position. */
interface StateWrite {
  readonly atWallMs: number;
  readonly aggregateId: string;
  /** The position stored before the write (`ReturnValues: ALL_OLD`); undefined for a new aggregate. */
  readonly previousPosition: string | undefined;
}

/**
 * A loopback HTTP proxy in front of DynamoDB Local that notes every UpdateItem on one table that DynamoDB
 * accepted, at the moment its answer passes: an observer of state writes that shares no code with the
 * consumer. Point a run's DynamoDB endpoint at `endpoint`.
 */
async function startStateWriteLog(
  upstream: string,
  tableName: () => string | undefined,
): Promise<{ endpoint: string; writes: StateWrite[]; close(): Promise<void> }> {
  const target = new URL(upstream);
  const writes: StateWrite[] = [];
  const agent = new Agent({ keepAlive: true });
  const server: Server = createServer((incoming, outgoing) => {
    const body: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => body.push(chunk));
    incoming.on('end', () => {
      const sent = Buffer.concat(body);
      const forward = request(
        {
          host: target.hostname,
          port: target.port,
          agent,
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
        },
        (answer) => {
          const received: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => received.push(chunk));
          answer.on('end', () => {
            const reply = Buffer.concat(received);
            note(incoming.headers['x-amz-target'], sent, answer.statusCode, reply);
            outgoing.writeHead(answer.statusCode ?? 500, answer.headers);
            outgoing.end(reply);
          });
        },
      );
      forward.on('error', (error) => outgoing.destroy(error));
      forward.end(sent);
    });
  });
  const note = (target: unknown, sent: Buffer, status: number | undefined, reply: Buffer) => {
    if (status !== 200 || target !== 'DynamoDB_20120810.UpdateItem') return;
    const atWallMs = Date.now();
    const input = JSON.parse(sent.toString()) as { TableName: string; Key: Record<string, { S: string }> };
    if (input.TableName !== tableName()) return;
    const output = JSON.parse(reply.toString()) as { Attributes?: Record<string, { S?: string }> };
    writes.push({
      atWallMs,
      aggregateId: input.Key[STATE_TABLE.partitionKey]!.S,
      previousPosition: output.Attributes?.[STATE_TABLE.attributes.position]?.S,
    });
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    writes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}

export type { StateWrite };
export { startStateWriteLog };
