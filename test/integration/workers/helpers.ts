import { inject } from 'vitest';
import type { WorkerEvent } from '../../../core/workers/events.js';
import type { Endpoints } from '../../../localstack/engines/engines.js';
import type { WorkerMessage } from '../../../localstack/run/worker-messages.js';
import type { WorkerPool } from '../../../localstack/run/worker-pool.js';

const endpoints = (kinesis: 'kinesalite' | 'kinesis-mock' = 'kinesalite'): Endpoints => ({
  dynamodb: inject('dynamodbEndpoint'),
  kinesis: inject(kinesis === 'kinesalite' ? 'kinesaliteEndpoint' : 'kinesisMockEndpoint'),
  kind: 'embedded',
  kinesisEngine: kinesis,
});

/**
 * The default lease of 4.5 s, said explicitly: failover takes about that long. Two seconds (the shortest the
 * config allows) is too tight for a shared 2-core machine running six Node processes and Java: a starved
 * worker misses its own heartbeats for that long, gives its leases up and takes them back, which is correct
 * but slow.
 */
const FAST_LEASES = { leases: { failureDetectionMs: 4_500 } } as const;

/** Every worker event of a run, with the worker and the time it happened (one machine, one wall clock). */
interface LoggedEvent {
  readonly workerId: string;
  readonly event: WorkerEvent;
  readonly atWallMs: number;
}

/** Resolves with the first message `accept` returns a value for; fails after `timeoutMs`. */
function nextMessage<T>(
  pool: WorkerPool,
  accept: (workerId: string, message: WorkerMessage) => T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no matching worker message within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = pool.watch((workerId, message) => {
      const value = accept(workerId, message);
      if (value === undefined) return;
      clearTimeout(timer);
      stop();
      resolve(value);
    });
  });
}

export { endpoints, FAST_LEASES, type LoggedEvent, nextMessage };
