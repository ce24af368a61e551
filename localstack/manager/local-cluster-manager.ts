/**
 * The cluster manager on the local runtime: the same `core/scaling` manager the Lambda runs, on a timer instead
 * of an EventBridge schedule, leader-elected through the coordination table, with metrics fed from the local
 * pipeline (what the producer wrote to each shard, the consumers' lag and partition keys) instead of CloudWatch.
 *
 * Local engines do not throttle shards, so the policy runs with a lower per-shard capacity (`recordsPerShard`)
 * and a shorter time scale (seconds, not minutes); everything else — rules, limits, audit log — is as deployed.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { ConfigPublisher } from '../../core/config/publisher.js';
import type { Config } from '../../core/config/schema.js';
import { LEADER_ROLES } from '../../core/constants.js';
import { DynamoDbCoordinationStore } from '../../core/coordination/dynamodb-store.js';
import { LeaderElection } from '../../core/coordination/leader-election.js';
import { ClusterManager, type ManagerRun } from '../../core/scaling/cluster-manager.js';
import { ConfigSheddingControl } from '../../core/scaling/config-shedding-control.js';
import { DynamoDbAuditLog } from '../../core/scaling/dynamodb-audit-log.js';
import { InMemoryMetricsSource } from '../../core/scaling/in-memory-metrics-source.js';
import { KinesisStreamControl } from '../../core/scaling/kinesis-stream-control.js';
import { policyFromConfig } from '../../core/scaling/policy.js';

interface LocalClusterManagerOptions {
  readonly kinesis: KinesisClient;
  readonly dynamodb: DynamoDBClient;
  readonly streamName: string;
  readonly coordinationTable: string;
  /** The configuration in force (read each round: scaling policy and shedding can change while running). */
  readonly config: () => Config;
  /** Where shedding is published (the run's local config store). */
  readonly publisher?: ConfigPublisher;
  /** Time between rounds. @default 5_000 */
  readonly intervalMs?: number;
  /** Records per second one shard takes locally (local engines never throttle). @default 200 */
  readonly recordsPerShard?: number;
  /** Called with every round the leader ran. */
  readonly onRound?: (round: ManagerRun) => void;
  readonly onError?: (error: Error) => void;
}

/**
 * @example
 * ```ts
 * const manager = new LocalClusterManager({ kinesis, dynamodb, streamName, coordinationTable, config: () => cfg });
 * manager.start();
 * producerAccepted.forEach((a) => manager.recordWrite(a.shardId, bytes, partitionKey));
 * await manager.stop();
 * ```
 */
class LocalClusterManager {
  /** Fed by the run: writes per shard, lag, partition keys. Periods of one interval. */
  public readonly metrics: InMemoryMetricsSource;
  readonly #o: LocalClusterManagerOptions;
  readonly #election: LeaderElection;
  readonly #manager: ClusterManager;
  readonly #rounds: ManagerRun[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  public constructor(options: LocalClusterManagerOptions) {
    this.#o = options;
    const intervalMs = options.intervalMs ?? 5_000;
    this.metrics = new InMemoryMetricsSource({ periodMs: intervalMs, hotKeyPeriods: 3 });
    const store = new DynamoDbCoordinationStore({
      client: options.dynamodb,
      tableName: options.coordinationTable,
    });
    this.#election = new LeaderElection({
      store,
      candidateId: `local-manager-${randomUUID()}`,
      leaseDurationMs: intervalMs * 3,
    });
    const recordsPerSecond = options.recordsPerShard ?? 200;
    this.#manager = new ClusterManager({
      stream: new KinesisStreamControl({ kinesis: options.kinesis, streamName: options.streamName }),
      metrics: this.metrics,
      audit: new DynamoDbAuditLog({ client: options.dynamodb, tableName: options.coordinationTable }),
      shedding:
        options.publisher === undefined
          ? undefined
          : new ConfigSheddingControl({ publisher: options.publisher, initial: options.config }),
      // The deployed policy, on the local time scale: a minute of CloudWatch is one interval here.
      policy: () =>
        policyFromConfig(options.config(), {
          scaleOutAfterMs: intervalMs * 3,
          scaleInAfterMs: intervalMs * 24,
          cooldownMs: intervalMs * 6,
          settleMs: intervalMs * 2,
          limits: { recordsPerSecond },
        }),
    });
  }

  /** The rounds the leader ran, in order. */
  public get rounds(): readonly ManagerRun[] {
    return this.#rounds;
  }

  /** Counts records the producer wrote to a shard, and their partition keys for the hot-key sketch. */
  public recordWrite(shardId: string, bytes: number, partitionKey: string, atWallMs = Date.now()): void {
    this.metrics.recordWrites(shardId, { records: 1, bytes }, atWallMs);
    this.metrics.recordPartitionKey(partitionKey, atWallMs, 1, bytes);
  }

  public start(): void {
    const intervalMs = this.#o.intervalMs ?? 5_000;
    const tick = () => {
      if (this.#stopped) return;
      this.#running = this.#round().finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(tick, intervalMs);
      });
    };
    this.#timer = setTimeout(tick, intervalMs);
  }

  public async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#running;
    await this.#election.resign(LEADER_ROLES.clusterManager).catch(() => undefined);
  }

  async #round(): Promise<void> {
    try {
      const run = await this.#election.runIfLeader(LEADER_ROLES.clusterManager, (term) =>
        this.#manager.run(term),
      );
      if (run.leader && run.value !== undefined) {
        this.#rounds.push(run.value);
        this.#o.onRound?.(run.value);
      }
    } catch (error) {
      this.#o.onError?.(error as Error);
    }
  }
}

export type { LocalClusterManagerOptions };
export { LocalClusterManager };
