import { once } from 'node:events';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbCoordinationStore, LeaderElection, systemClock } from '../../../core/coordination/index.js';
import { createCoordinationTable, spawnTsx } from '../../helpers/coordination.js';
import { testClients, uniqueName } from '../../helpers/engines.js';
import { eventually } from '../../helpers/eventually.js';

const LEADER_PROCESS = new URL('./leader-process.ts', import.meta.url).pathname;
const LEASE = 3_000;
const HEARTBEAT = 1_000;
const ROLE = 'cluster-manager';
const clients = testClients();
afterAll(() => clients.destroy());

describe('LeaderElection on DynamoDB Local', () => {
  it('elects a new leader with a greater term once the leader process is killed, never while it leads', async () => {
    // Prepare: a leader in its own OS process, and two candidates here that have seen it lead
    const table = await createCoordinationTable(clients.dynamodb, uniqueName('leader'));
    const store = new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: table });
    const child = spawnTsx(LEADER_PROCESS, [
      inject('dynamodbEndpoint'),
      table,
      ROLE,
      'leader-process',
      String(LEASE),
      String(HEARTBEAT),
    ]);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = once(child, 'exit');
    const candidates = ['candidate-1', 'candidate-2'].map(
      (candidateId) =>
        new LeaderElection({ store, candidateId, leaseDurationMs: LEASE, heartbeatPeriodMs: HEARTBEAT }),
    );
    try {
      const oldTerm = await eventually(
        'the child process to lead',
        async () => (output.includes('LEADER ') ? Number(/LEADER (\d+)/.exec(output)![1]) : undefined),
        { timeoutMs: 30_000 },
      );
      const stop = new AbortController();
      const seenLeader = new Set<string>();
      let elected: { candidateId: string; term: number; atMs: number } | undefined;
      const loops = candidates.map(async (election) => {
        while (!stop.signal.aborted) {
          const run = await election.runIfLeader(ROLE, async (t) => {
            elected ??= { candidateId: election.candidateId, term: t.term, atMs: performance.now() };
          });
          if (!run.leader && run.leaderId === 'leader-process') seenLeader.add(election.candidateId);
          await systemClock.sleep(run.leader ? HEARTBEAT : run.retryInMs, stop.signal);
        }
      });
      await eventually('both candidates to see the leader', async () =>
        seenLeader.size === 2 ? true : undefined,
      );

      // Act
      const killedAt = performance.now();
      child.kill('SIGKILL');
      await exited;
      const winner = await eventually('a new leader', async () => elected);
      stop.abort();
      await Promise.all(loops);

      // Assert: safety only; how soon is asserted on the manual clock in test/unit/coordination.
      expect(winner.atMs).toBeGreaterThan(killedAt);
      expect(winner.term).toBeGreaterThan(oldTerm);
      expect(await candidates[0]!.leaderOf(ROLE)).toEqual({
        leaderId: winner.candidateId,
        term: winner.term,
      });
    } finally {
      child.kill('SIGKILL');
    }
  });
});
