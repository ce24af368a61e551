import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { Config } from '../../core/config/schema.js';
import { DynamoDbCoordinationStore } from '../../core/coordination/index.js';
import { ConsumerLoadTracker } from '../../core/scaling/consumer-load-tracker.js';
import type { ParkedStore } from '../../core/state/parked-store.js';
import { trackLoad } from '../../functions/consumer/track-load.js';
import {
  type InvocationEvent,
  type KinesisHandler,
  LocalEventSourceMapping,
} from '../esm/event-source-mapping.js';
import type { MappingSettings } from '../esm/settings.js';
import { listStreamShards } from '../esm/shards.js';
import type { ResourceNames } from '../provision.js';
import type { WorkerEvent } from './events.js';
import { leaseDeleter } from './lease-deleter.js';
import type { WorkerTimings } from './timings.js';
import { Worker } from './worker.js';

interface LocalWorkerOptions {
  readonly instanceId: string;
  readonly clients: { readonly dynamodb: DynamoDBClient; readonly kinesis: KinesisClient };
  readonly names: ResourceNames;
  readonly streamArn: string;
  readonly handler: KinesisHandler;
  readonly parkedStore: ParkedStore;
  readonly mapping: Partial<MappingSettings>;
  readonly config: () => Config;
  /** See `WorkerOptions.reportedConfigVersion`. */
  readonly reportedConfigVersion?: () => string;
  readonly timings?: Partial<WorkerTimings>;
  readonly onEvent?: (event: WorkerEvent) => void;
  readonly onInvocation?: (event: InvocationEvent) => void;
  readonly onError?: (error: Error, shardId: string) => void;
}

/** A worker and its event source mapping on the local engines: what `npm start` and each worker process run. */
interface LocalWorker {
  readonly worker: Worker;
  readonly mapping: LocalEventSourceMapping;
  /** Arrival lag of the newest record processed, over the shards this worker reads now. */
  lagMs(): number;
}

/**
 * Wires a {@link Worker} to the local engines: the coordination table (DynamoDB), the stream's shards
 * (ListShards), the event source mapping reading the shards it holds with the consumer handler.
 *
 * @example
 * ```ts
 * const { worker } = createLocalWorker({ instanceId, clients, names, streamArn, handler, parkedStore, mapping: {}, config: () => config });
 * await worker.start();
 * ```
 */
function createLocalWorker(options: LocalWorkerOptions): LocalWorker {
  const { clients, names } = options;
  let worker: Worker | undefined;
  // The same per-shard hot-key sketches as a Lambda environment keeps, reported with every heartbeat.
  const tracker = new ConsumerLoadTracker();
  const mapping = new LocalEventSourceMapping({
    kinesis: clients.kinesis,
    streamName: names.streamName,
    streamArn: options.streamArn,
    handler: trackLoad(options.handler, { tracker }),
    parkedStore: options.parkedStore,
    settings: options.mapping,
    onError: options.onError,
    onInvocation: (event) => {
      if (event.phase === 'end') worker?.recordsProcessed(event.records);
      options.onInvocation?.(event);
    },
  });
  const lagMs = () => {
    const reading = new Set(mapping.shards);
    return Math.max(
      0,
      ...mapping
        .progress()
        .filter((p) => reading.has(p.shardId))
        .map((p) => p.lagMs),
    );
  };
  worker = new Worker({
    instanceId: options.instanceId,
    streamName: names.streamName,
    store: new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: names.coordinationTable }),
    processor: mapping,
    listShards: () => listStreamShards(clients.kinesis, names.streamName),
    deleteLease: leaseDeleter(clients.dynamodb, names.coordinationTable),
    config: options.config,
    reportedConfigVersion: options.reportedConfigVersion,
    timings: options.timings,
    lagMs,
    hotKeys: () => tracker.drainHotKeys(),
    onEvent: options.onEvent,
  });
  return { worker, mapping, lagMs };
}

export type { LocalWorker, LocalWorkerOptions };
export { createLocalWorker };
