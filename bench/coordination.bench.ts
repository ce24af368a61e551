/**
 * Coordination primitives on DynamoDB Local: lock acquire + release throughput and latency uncontended and
 * with 16 contenders on one name, and leader failover time over 10 killed leader processes.
 * `npm run bench -- coordination`
 */
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DynamoDbCoordinationStore,
  LeaderElection,
  LockClient,
  systemClock,
} from '../core/coordination/index.js';
import { localClients } from '../localstack/clients.js';
import { startDynamoDbLocal } from '../localstack/engines/engines.js';
import { createCoordinationTable, spawnTsx } from '../test/helpers/coordination.js';
import { markdownTable, percentile, writeResult } from './lib/results.js';

const LEADER_PROCESS = fileURLToPath(
  new URL('../test/integration/coordination/leader-process.ts', import.meta.url),
);
const UNCONTENDED_ROUNDS = 500;
const CONTENDERS = 16;
const CONTENDED_ROUNDS_EACH = 40;
const KILLS = 10;
const LEADER_LEASE_MS = 2_000;
const LEADER_HEARTBEAT_MS = 500;
const LOCK_OPTIONS = { leaseDurationMs: 10_000, backoffBaseMs: 10, backoffMaxMs: 200 } as const;

interface LockRun {
  readonly sections: number;
  readonly seconds: number;
  readonly acquireMs: number[];
  readonly releaseMs: number[];
}

async function lockRounds(
  store: DynamoDbCoordinationStore,
  clients: number,
  roundsEach: number,
  name: string,
) {
  const acquireMs: number[] = [];
  const releaseMs: number[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const locks = new LockClient({ store, ownerId: `bench-${name}-${i}`, ...LOCK_OPTIONS });
      for (let r = 0; r < roundsEach; r++) {
        const t0 = performance.now();
        const lock = await locks.acquire(name, { waitMs: 120_000 });
        const t1 = performance.now();
        await locks.release(lock);
        acquireMs.push(t1 - t0);
        releaseMs.push(performance.now() - t1);
      }
    }),
  );
  return {
    sections: clients * roundsEach,
    seconds: (performance.now() - start) / 1000,
    acquireMs,
    releaseMs,
  };
}

/**
 * Floor for comparison: the same two conditional writes a lock round makes (grant if free, release if
 * owner), sent directly without the library.
 */
async function bareRounds(client: DynamoDBClient, table: string, rounds: number): Promise<LockRun> {
  const acquireMs: number[] = [];
  const releaseMs: number[] = [];
  const Key = { pk: { S: 'LOCK#bare' }, sk: { S: 'LOCK' } };
  const start = performance.now();
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    await client.send(
      new UpdateItemCommand({
        TableName: table,
        Key,
        UpdateExpression: 'SET #owner = :owner ADD #fence :one',
        ConditionExpression: 'attribute_not_exists(#owner)',
        ExpressionAttributeNames: { '#owner': 'owner', '#fence': 'fence' },
        ExpressionAttributeValues: { ':owner': { S: 'bare' }, ':one': { N: '1' } },
      }),
    );
    const t1 = performance.now();
    await client.send(
      new UpdateItemCommand({
        TableName: table,
        Key,
        UpdateExpression: 'REMOVE #owner',
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': { S: 'bare' } },
      }),
    );
    acquireMs.push(t1 - t0);
    releaseMs.push(performance.now() - t1);
  }
  return { sections: rounds, seconds: (performance.now() - start) / 1000, acquireMs, releaseMs };
}

function merge(runs: readonly LockRun[]): LockRun {
  return {
    sections: runs.reduce((n, r) => n + r.sections, 0),
    seconds: runs.reduce((n, r) => n + r.seconds, 0),
    acquireMs: runs.flatMap((r) => r.acquireMs),
    releaseMs: runs.flatMap((r) => r.releaseMs),
  };
}

async function failovers(
  endpoint: string,
  table: string,
  store: DynamoDbCoordinationStore,
): Promise<number[]> {
  // All leader processes start at once (one per role), then are killed one at a time.
  const children = Array.from({ length: KILLS }, (_, i) => {
    const child = spawnTsx(LEADER_PROCESS, [
      endpoint,
      table,
      `role-${i}`,
      `process-${i}`,
      String(LEADER_LEASE_MS),
      String(LEADER_HEARTBEAT_MS),
    ]);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    return { child, leading: () => output.includes('LEADER ') };
  });
  const times: number[] = [];
  try {
    for (let i = 0; i < KILLS; i++) {
      const role = `role-${i}`;
      const { child, leading } = children[i]!;
      while (!leading()) await systemClock.sleep(20);
      const stop = new AbortController();
      const seen = new Set<string>();
      let electedAt: number | undefined;
      const loops = ['a', 'b'].map(async (candidate) => {
        const election = new LeaderElection({
          store,
          candidateId: `candidate-${candidate}-${i}`,
          leaseDurationMs: LEADER_LEASE_MS,
          heartbeatPeriodMs: LEADER_HEARTBEAT_MS,
        });
        while (!stop.signal.aborted) {
          const run = await election.runIfLeader(role, async () => {
            electedAt ??= performance.now();
          });
          if (!run.leader) seen.add(candidate);
          await systemClock.sleep(run.leader ? LEADER_HEARTBEAT_MS : run.retryInMs, stop.signal);
        }
      });
      while (seen.size < 2) await systemClock.sleep(10);
      const exited = once(child, 'exit');
      const killedAt = performance.now();
      child.kill('SIGKILL');
      await exited;
      while (electedAt === undefined) await systemClock.sleep(5);
      times.push(electedAt - killedAt);
      stop.abort();
      await Promise.all(loops);
      process.stderr.write(
        `kill ${i + 1}/${KILLS}: new leader after ${(electedAt - killedAt).toFixed(0)} ms\n`,
      );
    }
  } finally {
    for (const { child } of children) child.kill('SIGKILL');
  }
  return times;
}

export default async function coordinationBenchmark(): Promise<void> {
  const engine = await startDynamoDbLocal();
  const clients = localClients({ dynamodb: engine.endpoint, kinesis: engine.endpoint });
  try {
    const table = await createCoordinationTable(clients.dynamodb, `bench-${Date.now()}`);
    const store = new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: table });
    await lockRounds(store, 1, 50, 'warm-up');
    await bareRounds(clients.dynamodb, table, 50);

    // Alternate halves, so that load from elsewhere on the machine hits both alike.
    process.stderr.write('bare conditional writes and uncontended lock rounds...\n');
    const halves: [LockRun, LockRun][] = [];
    for (let h = 0; h < 2; h++)
      halves.push([
        await bareRounds(clients.dynamodb, table, UNCONTENDED_ROUNDS / 2),
        await lockRounds(store, 1, UNCONTENDED_ROUNDS / 2, 'uncontended'),
      ]);
    const bare = merge(halves.map((h) => h[0]));
    const alone = merge(halves.map((h) => h[1]));
    process.stderr.write(`${CONTENDERS} contenders on one lock...\n`);
    const contended = await lockRounds(store, CONTENDERS, CONTENDED_ROUNDS_EACH, 'contended');
    process.stderr.write(`leader failover over ${KILLS} kills...\n`);
    const failoverMs = await failovers(engine.endpoint, table, store);

    const throughput = (run: LockRun) => run.sections / run.seconds;
    const lockRow = (label: string, run: LockRun) => [
      label,
      run.sections,
      throughput(run).toFixed(1),
      (throughput(run) / throughput(bare)).toFixed(2),
      percentile(run.acquireMs, 50).toFixed(1),
      percentile(run.acquireMs, 99).toFixed(1),
      percentile(run.releaseMs, 50).toFixed(1),
      percentile(run.releaseMs, 99).toFixed(1),
    ];
    const locks = markdownTable(
      [
        'lock scenario',
        'acquire+release rounds',
        'rounds/s',
        'vs bare writes',
        'acquire p50 ms',
        'acquire p99 ms',
        'release p50 ms',
        'release p99 ms',
      ],
      [
        lockRow('bare conditional writes, no library (floor)', bare),
        lockRow('uncontended (1 client)', alone),
        lockRow(`${CONTENDERS} contenders, one name`, contended),
      ],
    );
    const bound = LEADER_LEASE_MS + LEADER_HEARTBEAT_MS;
    const leader = markdownTable(
      [
        'leader failover',
        'kills',
        'lease ms',
        'heartbeat ms',
        'p50 ms',
        'p99 ms',
        'max ms',
        'max / (lease + heartbeat)',
      ],
      [
        [
          'SIGKILL leader process, 2 candidates',
          failoverMs.length,
          LEADER_LEASE_MS,
          LEADER_HEARTBEAT_MS,
          percentile(failoverMs, 50).toFixed(0),
          percentile(failoverMs, 99).toFixed(0),
          Math.max(...failoverMs).toFixed(0),
          (Math.max(...failoverMs) / bound).toFixed(2),
        ],
      ],
    );
    writeResult('coordination', {
      settings: {
        engine: 'DynamoDB Local (in-memory)',
        uncontendedRounds: UNCONTENDED_ROUNDS,
        contenders: CONTENDERS,
        contendedRoundsEach: CONTENDED_ROUNDS_EACH,
        lockOptions: LOCK_OPTIONS,
        kills: KILLS,
        leaderLeaseMs: LEADER_LEASE_MS,
        leaderHeartbeatMs: LEADER_HEARTBEAT_MS,
      },
      table: `${locks}\n\n${leader}`,
      data: {
        bare: { ...bare, acquireMs: undefined, releaseMs: undefined, roundsPerSecond: throughput(bare) },
        uncontended: {
          ...alone,
          acquireMs: undefined,
          releaseMs: undefined,
          roundsPerSecond: throughput(alone),
        },
        contended: {
          ...contended,
          acquireMs: undefined,
          releaseMs: undefined,
          roundsPerSecond: throughput(contended),
        },
        failoverMs,
      },
    });
  } finally {
    clients.destroy();
    await engine.process.stop();
  }
}
