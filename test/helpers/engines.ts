import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { type LocalClients, localClients } from '../../localstack/clients.js';

/** Clients for the engines the integration global setup started (kinesalite unless told otherwise). */
function testClients(kinesis: 'kinesalite' | 'kinesis-mock' = 'kinesalite'): LocalClients {
  return localClients({
    dynamodb: inject('dynamodbEndpoint'),
    kinesis: inject(kinesis === 'kinesalite' ? 'kinesaliteEndpoint' : 'kinesisMockEndpoint'),
  });
}

/** A name no other test uses, so tests can share the engines. */
function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export { eventually, testClients, uniqueName };
