import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountingProxy } from '../../../../bench/lib/peers/counting-proxy.js';

/** An upstream that answers each request with its own body, and 400 when the body asks for it. */
let upstream: Server;
let proxy: CountingProxy;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      res.writeHead(body.includes('"fail"') ? 400 : 200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  proxy = await CountingProxy.start(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
});

afterAll(async () => {
  await proxy.stop();
  await new Promise((resolve) => upstream.close(resolve));
});

const call = (operation: string, input: unknown) =>
  fetch(proxy.endpoint, {
    method: 'POST',
    headers: {
      'x-amz-target': `DynamoDB_20120810.${operation}`,
      'content-type': 'application/x-amz-json-1.0',
    },
    body: JSON.stringify(input),
  });

describe('Class: CountingProxy', () => {
  it('forwards each request and its answer unchanged, errors included', async () => {
    const ok = await call('PutItem', { TableName: 'run-a-state', Item: { id: { S: '1' } } });
    const failed = await call('UpdateItem', { TableName: 'run-a-state', fail: true });

    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ TableName: 'run-a-state', Item: { id: { S: '1' } } });
    expect(failed.status).toBe(400);
    await failed.text();
  });

  it('counts requests by table and operation, for batch and transact requests too', async () => {
    const before = proxy.snapshot();

    await (await call('GetItem', { TableName: 'run-b-coordination' })).text();
    await (await call('GetItem', { TableName: 'run-b-coordination' })).text();
    await (await call('BatchGetItem', { RequestItems: { 'run-b-state': { Keys: [] } } })).text();
    await (
      await call('TransactWriteItems', {
        TransactItems: [{ Put: { TableName: 'run-c-state' } }, { Update: { TableName: 'run-c-other' } }],
      })
    ).text();
    const spent = CountingProxy.difference(proxy.snapshot(), before);

    expect(spent.total).toBe(4);
    expect(spent.byTable).toEqual({
      'run-b-coordination': 2,
      'run-b-state': 1,
      'run-c-state': 1,
      'run-c-other': 1,
    });
    expect(spent.byOperation['run-b-coordination GetItem']).toBe(2);
    expect(spent.byOperation['run-c-state TransactWriteItems']).toBe(1);
  });

  it("keeps one run's requests apart from another's by the tables' prefix", async () => {
    const before = proxy.snapshot();

    await (await call('PutItem', { TableName: 'run-d-state' })).text();
    await (await call('Query', { TableName: 'run-d-coordination' })).text();
    await (await call('PutItem', { TableName: 'run-e-state' })).text();
    const spent = CountingProxy.difference(proxy.snapshot(), before, 'run-d-');

    expect(spent.total).toBe(2);
    expect(Object.keys(spent.byTable).sort()).toEqual(['run-d-coordination', 'run-d-state']);
  });
});
