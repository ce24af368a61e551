import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { Config } from '../config/schema.js';
import type { Clock } from '../coordination/clock.js';
import { DynamoDbCoordinationStore } from '../coordination/dynamodb-store.js';
import {
  EventSourceMapping,
  type InvocationEvent,
  type KinesisHandler,
} from '../esm/event-source-mapping.js';
import type { MappingSettings } from '../esm/settings.js';
import type { ShardReader } from '../esm/shard-reader.js';
import { listStreamShards } from '../esm/shards.js';
import type { LatencyRecorder } from '../processing/latency.js';
import { ConsumerLoadTracker } from '../scaling/consumer-load-tracker.js';
import type { ParkedStore } from '../state/parked-store.js';
import type { StateCache } from '../state/state-cache.js';
import type { StateStorePort } from '../state/state-store-port.js';
import { cacheFollowingLeases } from './cache-follows-leases.js';
import type { WorkerEvent } from './events.js';
import { dynamoDbHandOffKeys } from './hand-off-keys.js';
import { leaseDeleter } from './lease-deleter.js';
import type { WorkerTimings } from './timings.js';
import { Worker } from './worker.js';

interface ConsumerWorkerOptions {
  readonly instanceId: string;
  readonly streamName: string;
  readonly streamArn: string;
  /** The coordination table's client and name (instances and shard leases). */
  readonly dynamodb: DynamoDBClient;
  readonly coordinationTable: string;
  /** For ListShards (the assigner follows the stream's shards). */
  readonly kinesis: KinesisClient;
  /** How the shards this worker holds are read: `PollingReader` or `FanOutReader`. */
  readonly reader: ShardReader;
  /** The consumer handler (`createConfigFollowingHandler`), as Lambda would run it. */
  readonly handler: KinesisHandler;
  /**
   * Counts every batch's partition keys and arrival times; its hot keys go out with each heartbeat, as a
   * Lambda environment's do. @default a tracker of its own
   */
  readonly tracker?: ConsumerLoadTracker;
  /** The latencies of the changes the handler applied (fed by its `onBatch`), drained by each heartbeat. */
  readonly latency?: LatencyRecorder;
  readonly parkedStore: Pick<ParkedStore, 'put'>;
  readonly mapping: Partial<MappingSettings>;
  readonly config: () => Config;
  /** See `WorkerOptions.reportedConfigVersion`. */
  readonly reportedConfigVersion?: () => string;
  readonly timings?: Partial<WorkerTimings>;
  /** The records' `awsRegion`. @default 'us-east-1' */
  readonly region?: string;
  /** @default systemClock */
  readonly clock?: Clock;
  readonly onEvent?: (event: WorkerEvent) => void;
  /**
   * The owner cache the handler reads through (`ConsumerDependencies.stateCache`): a shard's entries are
   * dropped when its lease goes, and warmed from its previous owner's hot keys when it comes (see
   * `cacheFollowingLeases`). `active`: whether the handler uses it now. @default no cache
   */
  readonly stateCache?: {
    readonly cache: StateCache;
    readonly reader: Pick<StateStorePort, 'getMany'>;
    readonly active: () => boolean;
  };
  readonly onInvocation?: (event: InvocationEvent) => void;
  readonly onError?: (error: Error, shardId: string) => void;
}

/** A worker and the event source mapping reading the shards it holds: what every worker process runs. */
interface ConsumerWorker {
  readonly worker: Worker;
  readonly mapping: EventSourceMapping;
  /** Arrival lag of the newest record processed, over the shards this worker reads now. */
  lagMs(): number;
  /** The same, per shard read now. */
  shardLagMs(): Record<string, number>;
}

/**
 * Wires a {@link Worker} to its stores and stream: the coordination table (DynamoDB), the stream's shards
 * (ListShards), and an {@link EventSourceMapping} reading the shards it holds with the consumer handler. The
 * same wiring serves `cdcp worker` (in a container or under `npm start -- --workers N`) and the worker
 * `npm start` runs inside its own process.
 *
 * @example
 * ```ts
 * const { worker } = createConsumerWorker({ instanceId, streamName, streamArn, dynamodb, coordinationTable, kinesis,
 *   reader: new PollingReader({ kinesis, streamName }), handler, parkedStore, mapping: {}, config: () => config });
 * await worker.start();
 * ```
 */
function createConsumerWorker(options: ConsumerWorkerOptions): ConsumerWorker {
  let worker: Worker | undefined;
  const tracker = options.tracker ?? new ConsumerLoadTracker({ clock: options.clock });
  const mapping = new EventSourceMapping({
    reader: options.reader,
    streamArn: options.streamArn,
    handler: options.handler,
    parkedStore: options.parkedStore,
    settings: options.mapping,
    region: options.region,
    clock: options.clock,
    onError: options.onError,
    onInvocation: (event) => {
      if (event.phase === 'start') tracker.batchStarted();
      else {
        tracker.batchFinished(event.shardId, event.batch);
        worker?.recordsProcessed(event.records);
      }
      options.onInvocation?.(event);
    },
  });
  const shardLagMs = () => {
    const reading = new Set(mapping.shards);
    return Object.fromEntries(
      mapping
        .progress()
        .filter((p) => reading.has(p.shardId))
        .map((p) => [p.shardId, p.lagMs]),
    );
  };
  const lagMs = () => Math.max(0, ...Object.values(shardLagMs()));
  const store = new DynamoDbCoordinationStore({
    client: options.dynamodb,
    tableName: options.coordinationTable,
  });
  const cache =
    options.stateCache === undefined
      ? undefined
      : cacheFollowingLeases({
          ...options.stateCache,
          instanceId: options.instanceId,
          listInstances: () => store.listInstances(),
          handOffKeys: dynamoDbHandOffKeys({
            client: options.dynamodb,
            tableName: options.coordinationTable,
            streamName: options.streamName,
          }),
          onError: (error, shardId) =>
            options.onEvent?.({
              type: 'error',
              message: `warming the cache for ${shardId}: ${error.message}`,
            }),
        });
  worker = new Worker({
    instanceId: options.instanceId,
    streamName: options.streamName,
    store,
    processor: mapping,
    listShards: () => listStreamShards(options.kinesis, options.streamName),
    deleteLease: leaseDeleter(options.dynamodb, options.coordinationTable),
    config: options.config,
    reportedConfigVersion: options.reportedConfigVersion,
    timings: options.timings,
    clock: options.clock,
    lagMs,
    hotKeys: () => tracker.drainHotKeys(),
    beforeLettingGo: cache?.beforeLettingGo,
    latency: options.latency === undefined ? undefined : () => options.latency!.drain(),
    onEvent: (event) => {
      cache?.onEvent(event);
      options.onEvent?.(event);
    },
  });
  return { worker, mapping, lagMs, shardLagMs };
}

export type { ConsumerWorker, ConsumerWorkerOptions };
export { createConsumerWorker };
