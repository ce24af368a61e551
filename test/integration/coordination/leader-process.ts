/**
 * Child process of leader-failover.test.ts and the coordination benchmark: one candidate that campaigns for
 * a role until it is killed, printing `LEADER <term>` each time it starts a term.
 *
 * Usage: leader-process.ts <endpoint> <table> <role> <candidateId> <leaseDurationMs> <heartbeatPeriodMs>
 */
import { DynamoDbCoordinationStore, LeaderElection, systemClock } from '../../../core/coordination/index.js';
import { localClients } from '../../../localstack/clients.js';

const [endpoint, tableName, role, candidateId, leaseDurationMs, heartbeatPeriodMs] = process.argv.slice(2);
if (heartbeatPeriodMs === undefined)
  throw new Error(
    'usage: leader-process.ts <endpoint> <table> <role> <candidateId> <leaseDurationMs> <heartbeatPeriodMs>',
  );

const clients = localClients({ dynamodb: endpoint!, kinesis: endpoint! });
const election = new LeaderElection({
  store: new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: tableName! }),
  candidateId: candidateId!,
  leaseDurationMs: Number(leaseDurationMs),
  heartbeatPeriodMs: Number(heartbeatPeriodMs),
});

let announced: number | undefined;
for (;;) {
  const run = await election.runIfLeader(role!, async (term) => {
    if (term.term !== announced) process.stdout.write(`LEADER ${term.term}\n`);
    announced = term.term;
  });
  await systemClock.sleep(run.leader ? Number(heartbeatPeriodMs) : run.retryInMs);
}
