import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbCoordinationStore, lockKey } from '../../../core/coordination/index.js';
import { createCoordinationTable, runTsx } from '../../helpers/coordination.js';
import { testClients, uniqueName } from '../../helpers/engines.js';

const CONTENDER = new URL('./lock-contender.ts', import.meta.url).pathname;
const PROCESSES = 2;
const CONTENDERS_PER_PROCESS = 8;
const ITERATIONS = 125;

const clients = testClients();
afterAll(() => clients.destroy());

interface ContenderReport {
  readonly tag: string;
  readonly successes: [number, number][];
  readonly staleAttempts: number;
  readonly staleAccepted: number;
  readonly rejected: number;
}

describe('LockClient on DynamoDB Local: safety under contention', () => {
  it(`keeps ${PROCESSES * CONTENDERS_PER_PROCESS} contenders in ${PROCESSES} processes mutually exclusive over ${PROCESSES * CONTENDERS_PER_PROCESS * ITERATIONS} critical sections`, async () => {
    // Prepare
    const table = await createCoordinationTable(clients.dynamodb, uniqueName('contention'));
    const lock = 'counter';

    // Act
    const runs = await Promise.all(
      Array.from({ length: PROCESSES }, (_, p) =>
        runTsx(
          CONTENDER,
          [
            inject('dynamodbEndpoint'),
            table,
            lock,
            String(CONTENDERS_PER_PROCESS),
            String(ITERATIONS),
            `p${p}`,
          ],
          240_000,
        ),
      ),
    );

    // Assert
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const reports = runs.map((r) => JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ContenderReport);
    const successes = reports.flatMap((r) => r.successes).sort((a, b) => a[1] - b[1]);
    const { Item } = await clients.dynamodb.send(
      new GetItemCommand({
        TableName: table,
        Key: { pk: { S: `COUNTER#${lock}` }, sk: { S: 'COUNTER' } },
        ConsistentRead: true,
      }),
    );
    const counter = Number(Item?.value?.N);
    expect(successes).toHaveLength(PROCESSES * CONTENDERS_PER_PROCESS * ITERATIONS);
    expect(counter).toBe(successes.length);
    // Each critical section read the value its predecessor wrote: the values are exactly 1..N ...
    expect(successes.map(([, value]) => value)).toEqual(Array.from({ length: counter }, (_, i) => i + 1));
    // ... written under strictly increasing fences: the lock order and the write order agree.
    for (let i = 1; i < successes.length; i++) expect(successes[i]![0]).toBeGreaterThan(successes[i - 1]![0]);
    expect(reports.reduce((n, r) => n + r.rejected, 0)).toBe(0);
    expect(reports.reduce((n, r) => n + r.staleAttempts, 0)).toBeGreaterThan(100);
    expect(reports.reduce((n, r) => n + r.staleAccepted, 0)).toBe(0);
    const store = new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: table });
    expect(await store.getLease(lockKey(lock))).toMatchObject({ owner: undefined });
  }, 260_000);
});
