import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';

interface Stub {
  readonly url: string;
  /** The `X-Amz-Target` operations received, in order. */
  readonly operations: string[];
  close(): Promise<void>;
}

async function body(request: IncomingMessage | NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

function listening(server: Server | Http2Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

/**
 * A stand-in for an AWS JSON-protocol control-plane API that has no local engine (CloudWatch's GetMetricData):
 * answers each operation with the JSON `answers` gives for it, and records the operations called.
 */
async function startJsonApiStub(answers: Readonly<Record<string, unknown>>): Promise<Stub> {
  const operations: string[] = [];
  const server = createServer(async (request, response) => {
    await body(request);
    const operation =
      String(request.headers['x-amz-target'] ?? '')
        .split('.')
        .at(-1) ?? '';
    operations.push(operation);
    const answer = Object.hasOwn(answers, operation) ? answers[operation] : undefined;
    response.writeHead(answer === undefined ? 400 : 200, { 'content-type': 'application/x-amz-json-1.0' });
    response.end(
      JSON.stringify(answer ?? { __type: 'UnknownOperationException', message: `no stub for ${operation}` }),
    );
  });
  const url = await listening(server);
  return { url, operations, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * An HTTP/2 cleartext front for an HTTP/1.1 engine: the AWS SDK's Kinesis client speaks HTTP/2 by default,
 * and a bundled function cannot be given another request handler, so its Kinesis calls reach kinesalite
 * through this (each request forwarded as it is, the engine's answer returned as it is).
 */
async function startHttp2Front(target: string): Promise<Stub> {
  const operations: string[] = [];
  const server = createHttp2Server();
  server.on('stream', async (stream, headers) => {
    const payload = await body(stream);
    operations.push(
      String(headers['x-amz-target'] ?? '')
        .split('.')
        .at(-1) ?? '',
    );
    const forwarded: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers))
      if (!name.startsWith(':') && typeof value === 'string') forwarded[name] = value;
    const answer = await fetch(`${target}${String(headers[':path'] ?? '/')}`, {
      method: String(headers[':method'] ?? 'POST'),
      headers: forwarded,
      body: payload.length === 0 ? undefined : payload,
    });
    const out = Buffer.from(await answer.arrayBuffer());
    stream.respond({
      ':status': answer.status,
      'content-type': answer.headers.get('content-type') ?? 'application/json',
    });
    stream.end(out);
  });
  const url = await listening(server);
  return { url, operations, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export type { Stub };
export { startHttp2Front, startJsonApiStub };

const xml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A stand-in for CloudFormation's DescribeStacks (a control-plane read with no local engine): the stacks given,
 * with their outputs, in the query protocol's XML; any other stack name is answered as AWS does, "does not exist".
 */
async function startCloudFormationStub(
  stacks: Readonly<Record<string, readonly { key: string; value: string; description: string }[]>>,
): Promise<Stub> {
  const operations: string[] = [];
  const server = createServer(async (request, response) => {
    const form = new URLSearchParams((await body(request)).toString('utf8'));
    operations.push(form.get('Action') ?? '');
    const name = form.get('StackName') ?? '';
    const outputs = Object.hasOwn(stacks, name) ? stacks[name] : undefined;
    response.writeHead(outputs === undefined ? 400 : 200, { 'content-type': 'text/xml' });
    if (outputs === undefined) {
      response.end(
        `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${xml(name)} does not exist</Message></Error><RequestId>stub</RequestId></ErrorResponse>`,
      );
      return;
    }
    const members = outputs
      .map(
        (o) =>
          `<member><OutputKey>${xml(o.key)}</OutputKey><OutputValue>${xml(o.value)}</OutputValue><Description>${xml(o.description)}</Description></member>`,
      )
      .join('');
    response.end(
      `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>` +
        `<StackName>${xml(name)}</StackName><StackId>arn:aws:cloudformation:us-east-1:000000000000:stack/${xml(name)}/stub</StackId>` +
        `<CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${members}</Outputs>` +
        `</member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>stub</RequestId></ResponseMetadata></DescribeStacksResponse>`,
    );
  });
  const url = await listening(server);
  return { url, operations, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * A stand-in for the AppConfig control plane (no local engine) serving one deployed configuration: its
 * deployment list and its hosted configuration version 1.
 */
async function startAppConfigStub(ids: { readonly profileId: string }, config: unknown): Promise<Stub> {
  const operations: string[] = [];
  const server = createServer(async (request, response) => {
    await body(request);
    const path = request.url ?? '';
    if (/\/deployments(\?|$)/.test(path)) {
      operations.push('ListDeployments');
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          Items: [
            {
              DeploymentNumber: 1,
              ConfigurationProfileId: ids.profileId,
              ConfigurationVersion: '1',
              State: 'COMPLETE',
            },
          ],
        }),
      );
      return;
    }
    if (/\/hostedconfigurationversions\/1$/.test(path)) {
      operations.push('GetHostedConfigurationVersion');
      response.writeHead(200, { 'content-type': 'application/json', 'version-number': '1' });
      response.end(JSON.stringify(config));
      return;
    }
    operations.push(`unexpected ${request.method} ${path}`);
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ message: `no stub for ${path}` }));
  });
  const url = await listening(server);
  return { url, operations, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export { startAppConfigStub, startCloudFormationStub };
