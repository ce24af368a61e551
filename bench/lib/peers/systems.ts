import {
  CreateTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  type KeySchemaElement,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteStreamCommand } from '@aws-sdk/client-kinesis';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type Config, parseConfig } from '../../../core/config/schema.js';
import { DynamoDbCoordinationStore, LeaseClient, shardLeaseKey } from '../../../core/coordination/index.js';
import type { RowImage } from '../../../core/events/change.js';
import { compareSequenceNumbers } from '../../../core/events/position.js';
import { splitLeases } from '../../../core/workers/shard-lease.js';
import type { LocalClients } from '../../../localstack/clients.js';
import type { Endpoints } from '../../../localstack/engines/engines.js';
import { createStream, provision, resourceNames } from '../../../localstack/provision.js';
import { APPLIED_CHANGES_FIELD } from '../../../localstack/run/effect-audit.js';
import { scanState } from '../../../localstack/run/state-scan.js';
import { DrainWatch } from '../../../localstack/run/worker-group.js';
import { WorkerPool } from '../../../localstack/run/worker-pool.js';
import { WORKLOAD_TABLES } from '../../../localstack/workload/generator.js';
import type { ObservedAggregate } from './audit.js';
import { PEER_APPLIED_FIELD, PEER_KEY, type PeerWrite } from './peer-handler.js';
import { PeerPool } from './peer-pool.js';

/** A batch a consumer received (before applying it): who read records of which shard, when. */
interface BatchSeen {
  readonly consumer: string;
  readonly shardId: string;
  readonly atWallMs: number;
}

/** One system's consumer group on a stream of its own, as the benchmark drives it. */
interface SystemRun {
  /** Every table and the stream of the run start with it. */
  readonly prefix: string;
  readonly streamName: string;
  /** Every batch any consumer received, in arrival order. */
  readonly batches: readonly BatchSeen[];
  /** What the consumers reported going wrong (first lines). */
  readonly errors: readonly string[];
  /** Ids of the consumer processes running now. */
  running(): string[];
  /** Each shard's owner, undefined while it has none (or its owner is gone, or a hand-off is pending). */
  owners(): Promise<Map<string, string | undefined>>;
  kill(id: string): Promise<void>;
  add(): Promise<void>;
  /** True once every shard in `tips` is checkpointed at or past its tip. */
  drained(tips: ReadonlyMap<string, string>): Promise<boolean>;
  /** The state table as the consumers left it. */
  observed(): Promise<Map<string, ObservedAggregate>>;
  /** Stops the consumers and deletes the stream (the engine holds 100 shards at most). */
  stop(): Promise<void>;
}

interface StartOptions {
  /** The bench's own clients, straight to the engines (their requests are not counted). */
  readonly clients: LocalClients;
  readonly endpoints: Endpoints;
  /** DynamoDB as the consumers reach it: the counting proxy. */
  readonly proxyEndpoint: string;
  readonly shards: number;
  readonly consumers: number;
  /** Count the changes applied per aggregate (the correctness runs). */
  readonly counted: boolean;
  readonly name: string;
}

const MAX_ERRORS = 20;

/** Our worker processes, exactly as `npm start -- --workers N` runs them (`cdcp worker` with a spec). */
async function startOurs(options: StartOptions & { readonly config?: Config }): Promise<SystemRun> {
  const { clients } = options;
  const prefix = `peers-${options.name}-${Date.now()}`;
  const names = resourceNames(prefix);
  const { streamArn } = await provision(clients, names, { shardCount: options.shards });
  const config = options.config ?? parseConfig({ tables: WORKLOAD_TABLES });
  const batches: BatchSeen[] = [];
  const errors: string[] = [];
  const pool = new WorkerPool({
    spec: {
      endpoints: { dynamodb: options.proxyEndpoint, kinesis: options.endpoints.kinesis },
      names,
      streamArn,
      config,
      mapping: {},
      reportInvocations: true,
      auditEffects: options.counted,
    },
    onEvent: (workerId, event) => {
      if (event.type === 'error' && errors.length < MAX_ERRORS) errors.push(`${workerId}: ${event.message}`);
    },
  });
  pool.watch((workerId, m) => {
    if (m.type === 'invocation' && m.phase === 'start')
      batches.push({ consumer: workerId, shardId: m.shardId, atWallMs: m.atWallMs });
  });
  for (let i = 0; i < options.consumers; i++) await pool.add();
  const leases = new LeaseClient({
    store: new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: names.coordinationTable }),
  });
  const drain = new DrainWatch({ dynamodb: clients.dynamodb, names });
  const running = () => pool.running().map((r) => r.id);
  return {
    prefix,
    streamName: names.streamName,
    batches,
    errors,
    running,
    owners: async () => {
      const alive = new Set(running());
      const { shards } = splitLeases(await leases.list(shardLeaseKey(names.streamName, '-').pk));
      return new Map(
        shards.map((s) => {
          const owner = s.record.owner;
          const handingOff = s.record.pendingOwner !== undefined && s.record.pendingOwner !== owner;
          return [s.shardId, owner !== undefined && alive.has(owner) && !handingOff ? owner : undefined];
        }),
      );
    },
    kill: async (id) => {
      await pool.kill(id);
    },
    add: async () => {
      await pool.add();
    },
    drained: (tips) => drain.drained(tips),
    observed: async () => {
      const rows = await scanState(clients.dynamodb, names.stateTable);
      return new Map(
        [...rows].map(([id, row]) => {
          const { [APPLIED_CHANGES_FIELD]: applied, ...state } = row.state ?? {};
          return [
            id,
            {
              live: !row.deleted && row.state !== null,
              state: row.state === null ? null : (state as RowImage),
              applied: applied === undefined ? undefined : Number(applied),
            },
          ];
        }),
      );
    },
    stop: async () => {
      await pool.stopAll();
      await deleteStream(clients, names.streamName);
    },
  };
}

async function deleteStream(clients: LocalClients, streamName: string): Promise<void> {
  await clients.kinesis.send(new DeleteStreamCommand({ StreamName: streamName }));
}

async function createKeyTable(
  dynamodb: DynamoDBClient,
  tableName: string,
  keys: readonly [hash: string, range?: string],
): Promise<void> {
  const [hash, range] = keys;
  const schema: KeySchemaElement[] = [{ AttributeName: hash, KeyType: 'HASH' }];
  if (range !== undefined) schema.push({ AttributeName: range, KeyType: 'RANGE' });
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: schema.map((k) => ({ AttributeName: k.AttributeName, AttributeType: 'S' })),
      KeySchema: schema,
    }),
  );
}

/** The items of a table, unmarshalled (a sequential scan; the tables are small). */
async function scanItems(dynamodb: DynamoDBClient, tableName: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, never> | undefined;
  do {
    const out = await dynamodb.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    items.push(...(out.Items ?? []).map((i) => unmarshall(i)));
    start = out.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start !== undefined);
  return items;
}

/** lifion-kinesis's group state: one item per stream, with every consumer, lease and checkpoint. */
interface PeerGroupState {
  readonly consumers?: Record<string, { readonly pid?: number }>;
  readonly shards?: Record<
    string,
    {
      readonly leaseOwner?: string | null;
      readonly leaseExpiration?: string | null;
      readonly checkpoint?: string | null;
    }
  >;
}

/** lifion-kinesis consumer processes (bench/lib/peers/peer-runner.ts). */
async function startPeer(
  options: StartOptions & {
    readonly idempotency: boolean;
    /** lifion-kinesis options (lease timings). */
    readonly peerOptions: Readonly<Record<string, number>>;
  },
): Promise<SystemRun> {
  const { clients } = options;
  const prefix = `peers-${options.name}-${Date.now()}`;
  const streamName = `${prefix}-changes`;
  const stateTable = `${prefix}-state`;
  const leaseTable = `${prefix}-lifion`;
  const consumerGroup = 'cdc-bench';
  const idempotencyTable = options.idempotency ? `${prefix}-idempotency` : undefined;
  await createStream(clients.kinesis, streamName, options.shards);
  await createKeyTable(clients.dynamodb, stateTable, [PEER_KEY]);
  // Created here rather than by the first consumer, so consumers starting together do not race to create it.
  await createKeyTable(clients.dynamodb, leaseTable, ['consumerGroup', 'streamName']);
  if (idempotencyTable !== undefined) await createKeyTable(clients.dynamodb, idempotencyTable, ['id']);
  const write: PeerWrite = options.counted ? 'counting' : 'put';
  const pool = new PeerPool({
    kinesisEndpoint: options.endpoints.kinesis,
    dynamodbEndpoint: options.proxyEndpoint,
    streamName,
    consumerGroup,
    leaseTable,
    stateTable,
    write,
    idempotencyTable,
    options: options.peerOptions,
  });
  const batches: BatchSeen[] = [];
  const errors: string[] = [];
  pool.watch((id, m) => {
    if (m.type === 'batch') batches.push({ consumer: id, shardId: m.shardId, atWallMs: m.atWallMs });
    else if (m.type === 'error' && errors.length < MAX_ERRORS) errors.push(`${id}: ${m.message}`);
  });
  await pool.start(options.consumers);
  const groupState = async (): Promise<PeerGroupState> => {
    const { Item } = await clients.dynamodb.send(
      new GetItemCommand({
        TableName: leaseTable,
        Key: { consumerGroup: { S: consumerGroup }, streamName: { S: streamName } },
        ConsistentRead: true,
      }),
    );
    return Item === undefined ? {} : (unmarshall(Item) as PeerGroupState);
  };
  return {
    prefix,
    streamName,
    batches,
    errors,
    running: () => pool.running().map((r) => r.id),
    owners: async () => {
      const state = await groupState();
      const byPid = new Map(pool.running().map((r) => [r.pid, r.id]));
      const now = Date.now();
      return new Map(
        Object.entries(state.shards ?? {}).map(([shardId, shard]) => {
          const pid = shard.leaseOwner == null ? undefined : state.consumers?.[shard.leaseOwner]?.pid;
          const current = shard.leaseExpiration != null && new Date(shard.leaseExpiration).getTime() > now;
          return [shardId, pid !== undefined && current ? byPid.get(pid) : undefined];
        }),
      );
    },
    kill: (id) => pool.kill(id),
    add: async () => {
      await pool.add();
    },
    drained: async (tips) => {
      const shards = (await groupState()).shards ?? {};
      return [...tips].every(([shardId, tip]) => {
        const checkpoint = shards[shardId]?.checkpoint;
        return typeof checkpoint === 'string' && compareSequenceNumbers(checkpoint, tip) >= 0;
      });
    },
    observed: async () =>
      new Map(
        (await scanItems(clients.dynamodb, stateTable)).map((item) => [
          String(item[PEER_KEY]),
          {
            live: true,
            state: (item.state as RowImage | undefined) ?? null,
            applied: item[PEER_APPLIED_FIELD] === undefined ? undefined : Number(item[PEER_APPLIED_FIELD]),
          },
        ]),
      ),
    stop: async () => {
      await pool.stopAll();
      await deleteStream(clients, streamName);
    },
  };
}

export type { BatchSeen, StartOptions, SystemRun };
export { startOurs, startPeer };
