import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  conditions,
  DynamoDbCoordinationStore,
  FaultInjectingStore,
  FencedWriter,
  InstanceRegistry,
  LeaseClient,
  LockClient,
  lockKey,
} from '../../../core/coordination/index.js';
import { localClients } from '../../../localstack/clients.js';
import { createCoordinationTable } from '../../helpers/coordination.js';
import { testClients, uniqueName } from '../../helpers/engines.js';

const clients = testClients();
let table: string;
beforeAll(async () => {
  table = await createCoordinationTable(clients.dynamodb, uniqueName('lost'));
});
afterAll(() => clients.destroy());

/**
 * A client whose next request matching `match` reaches DynamoDB and is applied, but whose response is
 * replaced by a timeout. The SDK's own retry strategy then sends the same request again, as it does when a
 * connection drops after the write.
 */
function losingClient(match: (command: string, input: Record<string, unknown>) => boolean) {
  const local = localClients({ dynamodb: inject('dynamodbEndpoint'), kinesis: inject('dynamodbEndpoint') });
  const client: DynamoDBClient = local.dynamodb;
  const seen = { lost: 0, sent: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      const matches = match(context.commandName ?? '', input);
      if (matches) seen.sent += 1;
      const output = await next(args);
      if (matches && seen.lost === 0) {
        seen.lost += 1;
        throw Object.assign(new Error('socket closed after the request was sent'), { name: 'TimeoutError' });
      }
      return output;
    },
    { step: 'deserialize', name: 'loseOneResponse' },
  );
  return { client, seen, destroy: () => local.destroy() };
}

describe('A write whose response is lost', () => {
  it('grants a lock once when the SDK retries the grant (fence 1, not 2)', async () => {
    // Prepare
    const losing = losingClient(
      (command, input) =>
        command === 'UpdateItemCommand' && input.ConditionExpression === conditions.LEASE_IS_FREE,
    );
    const store = new DynamoDbCoordinationStore({ client: losing.client, tableName: table });
    const name = uniqueName('grant');

    // Act
    const locks = new LockClient({ store, ownerId: 'a' });
    const lock = await locks.acquire(name, { waitMs: 0 });

    // Assert
    expect(losing.seen).toEqual({ lost: 1, sent: 2 });
    expect(lock.fence).toBe(1);
    const stored = await new DynamoDbCoordinationStore({
      client: clients.dynamodb,
      tableName: table,
    }).getLease(lockKey(name));
    expect(stored).toMatchObject({ owner: 'a', fence: 1 });
    expect(await locks.release(lock)).toBe(true);
    losing.destroy();
  });

  it('applies a fenced write with a write id once when the SDK retries it', async () => {
    // Prepare
    const losing = losingClient((command) => command === 'UpdateItemCommand');
    const writer = new FencedWriter({ client: losing.client, tableName: table });
    const key = { pk: `COUNTER#${uniqueName('once')}`, sk: 'COUNTER' };

    // Act
    const result = await writer.update({ key, fence: 1, add: { count: 1 }, writeId: 'batch-0001' });

    // Assert
    expect(losing.seen).toEqual({ lost: 1, sent: 2 });
    expect(result).toMatchObject({ outcome: 'duplicate', item: { count: 1, lastWriteId: 'batch-0001' } });
    losing.destroy();
  });

  it('without a write id, the same retry counts twice (why writes that add carry one)', async () => {
    const losing = losingClient((command) => command === 'UpdateItemCommand');
    const writer = new FencedWriter({ client: losing.client, tableName: table });
    const key = { pk: `COUNTER#${uniqueName('twice')}`, sk: 'COUNTER' };

    const result = await writer.update({ key, fence: 1, add: { count: 1 } });

    expect(result).toMatchObject({ outcome: 'applied', item: { count: 2 } });
    losing.destroy();
  });

  it('releases, hands off and registers once through a store that loses responses', async () => {
    // Prepare
    const store = new FaultInjectingStore({
      store: new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: table }),
    });
    const leases = new LeaseClient({ store, retryBaseMs: 1 });
    const key = lockKey(uniqueName('ops'));
    const lease = (await leases.tryAcquire(key, { owner: 'a', leaseDurationMs: 5_000 })).lease!;
    for (const operation of ['renewLease', 'handOffLease', 'releaseLease', 'registerInstance'] as const)
      store.inject({ kind: 'lost-response', operations: [operation] });

    // Act
    const renewed = await leases.renew(lease);
    const handed = await leases.handOff(renewed!, 'b');
    const adopted = (await leases.tryAcquire(key, { owner: 'b', leaseDurationMs: 5_000 })).lease!;
    const released = await leases.release(adopted);
    const registered = await new InstanceRegistry({ store }).register({
      instanceId: uniqueName('i'),
      kind: 'worker',
    });

    // Assert
    expect(store.injected.map((f) => f.operation)).toEqual([
      'renewLease',
      'handOffLease',
      'releaseLease',
      'registerInstance',
    ]);
    expect([renewed?.fence, handed, adopted.fence, released, registered]).toEqual([1, true, 3, true, true]);
    expect(await leases.get(key)).toMatchObject({ owner: undefined, fence: 3 });
  });
});
