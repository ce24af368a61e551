/**
 * Child process of lock-contention.test.ts: runs `contenders` lock clients that each take one lock
 * `iterations` times and, inside the critical section, increment a shared counter with a read followed by a
 * fenced write. Every tenth round it also replays a write with its previous (stale) fence, which must be
 * refused. Prints one JSON line with what it saw.
 *
 * Usage: lock-contender.ts <endpoint> <table> <lock> <contenders> <iterations> <tag>
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbCoordinationStore, FencedWriter, LockClient } from '../../../core/coordination/index.js';
import { localClients } from '../../../localstack/clients.js';

const [endpoint, tableName, lockName, contenders, iterations, tag] = process.argv.slice(2);
if (tag === undefined)
  throw new Error('usage: lock-contender.ts <endpoint> <table> <lock> <contenders> <iterations> <tag>');

const clients = localClients({ dynamodb: endpoint!, kinesis: endpoint! });
const store = new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: tableName! });
const writer = new FencedWriter({ client: clients.dynamodb, tableName: tableName! });
const counterKey = { pk: `COUNTER#${lockName}`, sk: 'COUNTER' };

const successes: [fence: number, value: number][] = [];
let staleAttempts = 0;
let staleAccepted = 0;
let rejected = 0;

async function contender(index: number): Promise<void> {
  const locks = new LockClient({
    store,
    ownerId: `${tag}-${index}`,
    leaseDurationMs: 10_000,
    heartbeatPeriodMs: 2_500,
    backoffBaseMs: 10,
    backoffMaxMs: 200,
  });
  let previousFence: number | undefined;
  for (let i = 0; i < Number(iterations); i++) {
    const lock = await locks.acquire(lockName!, { waitMs: 120_000 });
    const { Item } = await clients.dynamodb.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { pk: { S: counterKey.pk }, sk: { S: counterKey.sk } },
        ConsistentRead: true,
      }),
    );
    const value = Number(Item?.value?.N ?? 0) + 1;
    const written = await writer.update({ key: counterKey, fence: lock.fence, set: { value } });
    if (written.outcome === 'applied') successes.push([lock.fence, value]);
    else rejected += 1;
    if (i % 10 === 9 && previousFence !== undefined) {
      // A zombie replay: our earlier grant's fence is lower than the one just stored.
      staleAttempts += 1;
      const stale = await writer.update({ key: counterKey, fence: previousFence, set: { value: -1 } });
      if (stale.outcome === 'applied') staleAccepted += 1;
    }
    previousFence = lock.fence;
    await locks.release(lock);
  }
}

await Promise.all(Array.from({ length: Number(contenders) }, (_, i) => contender(i)));
clients.destroy();
process.stdout.write(`${JSON.stringify({ tag, successes, staleAttempts, staleAccepted, rejected })}\n`);
