import { afterAll, describe, expect, it } from 'vitest';
import { type AssignmentStrategy, parseConfig } from '../../../core/config/schema.js';
import { DynamoDbCoordinationStore, LeaseClient, shardLeaseKey } from '../../../core/coordination/index.js';
import { PollingReader } from '../../../core/esm/polling-reader.js';
import { ParkedStore } from '../../../core/state/parked-store.js';
import { type ConsumerWorker, createConsumerWorker } from '../../../core/workers/consumer-worker.js';
import type { WorkerEvent } from '../../../core/workers/events.js';
import { splitLeases } from '../../../core/workers/shard-lease.js';
import { provision, type ResourceNames, resourceNames } from '../../../localstack/provision.js';
import { testClients, uniqueName } from '../../helpers/engines.js';
import { eventually } from '../../helpers/eventually.js';

const SHARDS = 8;
const clients = testClients();
afterAll(() => clients.destroy());

/** Workers inside the test process on the real engines: the moves are decided and made exactly as in processes. */
class Cluster {
  readonly workers = new Map<string, ConsumerWorker>();
  readonly events: { workerId: string; event: WorkerEvent }[] = [];
  readonly #leases: LeaseClient;

  public constructor(
    private readonly names: ResourceNames,
    private readonly streamArn: string,
    private readonly strategy: AssignmentStrategy,
  ) {
    this.#leases = new LeaseClient({
      store: new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: names.coordinationTable }),
    });
  }

  public async add(id: string): Promise<void> {
    const config = parseConfig({
      leases: { assignment: this.strategy, rebalanceIntervalMs: 1_000, failureDetectionMs: 4_500 },
    });
    const local = createConsumerWorker({
      instanceId: id,
      streamName: this.names.streamName,
      streamArn: this.streamArn,
      dynamodb: clients.dynamodb,
      coordinationTable: this.names.coordinationTable,
      kinesis: clients.kinesis,
      reader: new PollingReader({ kinesis: clients.kinesis, streamName: this.names.streamName }),
      handler: async () => ({ batchItemFailures: [] }),
      parkedStore: new ParkedStore({ client: clients.dynamodb, tableName: this.names.parkedTable }),
      mapping: {},
      config: () => config,
      onEvent: (event) => this.events.push({ workerId: id, event }),
    });
    this.workers.set(id, local);
    await local.worker.start();
  }

  public async remove(id: string): Promise<void> {
    await this.workers.get(id)!.worker.stop();
    this.workers.delete(id);
  }

  public async owners(): Promise<Map<string, string | undefined>> {
    const { shards } = splitLeases(await this.#leases.list(shardLeaseKey(this.names.streamName, '-').pk));
    const pending = shards.filter(
      (s) => s.record.pendingOwner !== undefined && s.record.pendingOwner !== s.record.owner,
    );
    return new Map(shards.map((s) => [s.shardId, pending.length > 0 ? 'pending' : s.record.owner]));
  }

  /** Waits until every shard is held by a running worker and nothing moved for three seconds. */
  public async settled(): Promise<Map<string, string>> {
    let last = '';
    let since = Date.now();
    let owners = new Map<string, string | undefined>();
    await eventually(
      'the assignment to settle',
      async () => {
        owners = await this.owners();
        const key = JSON.stringify([...owners]);
        if (key !== last) {
          last = key;
          since = Date.now();
        }
        const held = [...owners.values()].every((o) => o !== undefined && this.workers.has(o));
        return owners.size === SHARDS && held && Date.now() - since >= 3_000;
      },
      { timeoutMs: 60_000 },
    );
    return owners as Map<string, string>;
  }

  public async stopAll(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.worker.stop()));
  }
}

const changed = (before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>) =>
  [...before].filter(([shard, owner]) => after.get(shard) !== owner).map(([shard]) => shard);

describe.each(['least-loaded', 'round-robin', 'adaptive', 'bounded-load'] as const)(
  'Workers on DynamoDB Local, strategy %s',
  (strategy) => {
    it(`a join moves at most ceil(${SHARDS} / (N + 1)) + 1 leases; a leave moves only the leaver's`, async () => {
      const names = resourceNames(uniqueName(`moves-${strategy}`));
      const { streamArn } = await provision(clients, names, { shardCount: SHARDS });
      const cluster = new Cluster(names, streamArn, strategy);
      try {
        for (const id of ['w1', 'w2', 'w3']) await cluster.add(id);
        const before = await cluster.settled();

        const mark = cluster.events.length;
        await cluster.add('w4');
        const joined = await cluster.settled();
        const joinMoves = changed(before, joined);
        const requested = cluster.events
          .slice(mark)
          .filter((e) => e.event.type === 'assigned' && e.event.how === 'hand-off');

        expect(joinMoves.length).toBeGreaterThan(0);
        expect(joinMoves.length).toBeLessThanOrEqual(Math.ceil(SHARDS / 4) + 1);
        // Every move was one graceful hand-off: nothing moved twice, nothing was taken over.
        expect(requested).toHaveLength(joinMoves.length);
        expect(joinMoves.every((s) => joined.get(s) === 'w4')).toBe(true);
        if (strategy === 'least-loaded' || strategy === 'round-robin') expect(joinMoves).toHaveLength(2);

        const leaver = [...new Set(joined.values())].find((w) => w !== 'w4')!;
        const leaverShards = [...joined].filter(([, o]) => o === leaver).map(([s]) => s);
        await cluster.remove(leaver);
        const left = await cluster.settled();

        expect(changed(joined, left).sort()).toEqual(leaverShards.sort());
        expect(cluster.events.filter((e) => e.event.type === 'lost')).toEqual([]);
      } finally {
        await cluster.stopAll();
      }
    });
  },
);
