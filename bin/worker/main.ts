/**
 * Composition root of `cdcp worker`: one worker of a fleet that divides a stream's shards through leases in the
 * coordination table — in an ECS task, or one of the processes `npm start -- --workers N` starts. It reads its
 * settings from flags and environment only (`settings.ts`), its AWS credentials from the SDK's default chain
 * (an ECS task role just works) and endpoints from `AWS_ENDPOINT_URL[_<SERVICE>]`, its configuration from
 * AppConfig through the Lambda consumer's own source (or a local config store), and processes with the Lambda
 * consumer's handler. SIGTERM hands every lease off within the stop timeout; `GET /health` says whether its
 * heartbeat is current.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { reportedConfigVersion } from '../../core/config/reported-version.js';
import type { ConfigSource } from '../../core/config/source.js';
import { METRICS, WORKER } from '../../core/constants.js';
import { systemClock } from '../../core/coordination/clock.js';
import { type BatchStats, emptyStats } from '../../core/processing/batch-processor.js';
import { InstanceLatencies } from '../../core/processing/latency.js';
import { ParkedStore } from '../../core/state/parked-store.js';
import { StateCache } from '../../core/state/state-cache.js';
import { StateStore } from '../../core/state/state-store.js';
import { type ConsumerWorker, createConsumerWorker } from '../../core/workers/consumer-worker.js';
import type { WorkerEvent } from '../../core/workers/events.js';
import { workerHealth } from '../../core/workers/health.js';
import { countTableRequests } from '../../core/workers/request-meter.js';
import { exitCodeOf, GracefulShutdown } from '../../core/workers/shutdown.js';
import { createConfigFollowingHandler } from '../../functions/consumer/follow-config.js';
import type { WorkerStats } from '../../localstack/run/worker-messages.js';
import { type WorkerClients, workerClients } from './clients.js';
import {
  openConfigSource,
  readerOf,
  streamArnOf,
  type WorkerProjection,
  workerProjection,
} from './dependencies.js';
import { type HealthServer, startHealthServer } from './health-server.js';
import { type WorkerSettings, WorkerSettingsError } from './settings.js';
import { watchStopSignals } from './stop-signals.js';
import { type Supervisor, supervisor } from './supervisor.js';

/** What the process gives the worker: its environment and signals (tests pass their own). */
interface WorkerProcess {
  readonly env: NodeJS.ProcessEnv;
  /** SIGTERM and SIGINT arrive here. */
  readonly signals: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
  /** The projection built into this program (the container image's bundle); absent: loaded as told. */
  readonly builtInProjection?: WorkerProjection;
}

/** What the run needs to hand around once built. */
interface Assembled extends ConsumerWorker {
  readonly instanceId: string;
  /** What this process's batches added up to (reported to a supervisor). */
  readonly totals: BatchStats;
  /** Latencies of the changes applied: for heartbeats, for reports to a supervisor, in all. */
  readonly latency: InstanceLatencies;
  readonly logger: Logger;
  readonly parent: Supervisor | undefined;
  readonly configSource: ConfigSource;
  readonly projection: WorkerProjection;
}

/**
 * Runs one worker until SIGTERM (or its supervisor going away) stops it; resolves with the process's exit code:
 * 0 after a clean hand-off, 1 when the stop timed out or failed.
 */
async function runWorker(settings: WorkerSettings, host: WorkerProcess): Promise<number> {
  const instanceId = settings.instanceId ?? `worker-${hostname()}-${randomBytes(3).toString('hex')}`;
  const logLevel = (host.env.LOG_LEVEL as 'INFO' | undefined) ?? 'INFO';
  const logger = new Logger({
    serviceName: WORKER.logService,
    logLevel,
    persistentKeys: { instanceId },
  });
  const clients = workerClients({ region: settings.region });
  // Before the client's first request: its middleware stack is resolved once (`cacheMiddleware`).
  const requests = countTableRequests(clients.dynamodb, settings.coordinationTable);
  let configSource: ConfigSource | undefined;
  let health: HealthServer | undefined;
  try {
    const projection = await workerProjection(settings.projectionModule, host.env, host.builtInProjection);
    configSource = await openConfigSource(settings, host.env, logger);
    const run = await assemble(settings, {
      instanceId,
      logLevel,
      logger,
      clients,
      configSource,
      projection,
    });
    if (settings.health !== undefined)
      health = await startHealthServer({
        ...settings.health,
        report: () => workerHealth(run.worker, systemClock),
      });
    const report = await runUntilStopped(
      settings,
      run,
      host,
      () => ({
        totals: { ...run.totals },
        latency: run.latency.total.toJSON(),
        recentLatency: run.latency.drainRecent(),
        eventsPerSecond: run.worker.eventsPerSecond,
        lagMs: run.lagMs(),
        shardLagMs: run.shardLagMs(),
        leases: run.worker.shards,
        assigner: run.worker.isAssigner,
        inFlight: run.mapping.inFlight,
        coordinationRequests: requests.total(),
        coordinationByOperation: Object.fromEntries(requests.byOperation),
      }),
      health,
    );
    return exitCodeOf(report);
  } catch (error) {
    if (!(error instanceof WorkerSettingsError)) logger.error('worker failed', { error: error as Error });
    throw error;
  } finally {
    await health?.close();
    await configSource?.close();
    clients.destroy();
  }
}

/** The worker, its mapping and its handler, wired to the clients and the configuration source. */
async function assemble(
  settings: WorkerSettings,
  deps: {
    readonly instanceId: string;
    readonly logLevel: ReturnType<Logger['getLevelName']>;
    readonly logger: Logger;
    readonly clients: WorkerClients;
    readonly configSource: ConfigSource;
    readonly projection: WorkerProjection;
  },
): Promise<Assembled> {
  const { instanceId, logger, clients, configSource, projection } = deps;
  const parent = supervisor();
  const emit = eventLog(logger, parent, settings);
  const totals = emptyStats();
  const latency = new InstanceLatencies();
  const streamArn = settings.streamArn ?? (await streamArnOf(clients, settings.streamName));
  // The worker's owner cache: its handler reads through it, and it follows the worker's shard leases.
  const { config } = configSource.current();
  const stateCache = new StateCache({ maxBytes: config.cache.maxBytes });
  const consumer = createConsumerWorker({
    instanceId,
    streamName: settings.streamName,
    streamArn,
    dynamodb: clients.dynamodb,
    coordinationTable: settings.coordinationTable,
    kinesis: clients.kinesis,
    reader: await readerOf(settings, clients, streamArn, emit),
    handler: createConfigFollowingHandler({
      dynamodb: clients.dynamodb,
      stateTable: settings.stateTable,
      parkedTable: settings.parkedTable,
      coordinationTable: settings.coordinationTable,
      instanceId,
      configSource,
      projection: projection.projection,
      stateCache,
      // The consumer's own logger: it adds each batch's shard and Lambda context to its keys, which must not
      // leak into the worker's lease events.
      logger: new Logger({
        serviceName: METRICS.service,
        logLevel: deps.logLevel,
        persistentKeys: { instanceId },
      }),
      metrics: new Metrics({ namespace: METRICS.namespace, serviceName: METRICS.service }),
      onBatch: ({ stats }, _event, latencies) => {
        for (const key of Object.keys(totals) as (keyof BatchStats)[]) totals[key] += stats[key];
        latency.record(latencies);
      },
    }),
    latency: latency.heartbeat,
    parkedStore: new ParkedStore({ client: clients.dynamodb, tableName: settings.parkedTable }),
    stateCache: {
      cache: stateCache,
      reader: new StateStore({
        client: clients.dynamodb,
        tableName: settings.stateTable,
        tombstoneTtlSeconds: config.processing.tombstoneTtlSeconds,
      }),
      active: () =>
        configSource.current().config.cache.enabled && projection.projection?.needsPreviousState === true,
    },
    mapping: settings.mapping,
    config: () => configSource.current().config,
    reportedConfigVersion: () => reportedConfigVersion(configSource.current()),
    region: settings.region ?? (await clients.kinesis.config.region()),
    onEvent: emit,
    onInvocation: settings.reportInvocations
      ? ({ shardId, phase, records }) =>
          parent?.send({ type: 'invocation', shardId, phase, records, atWallMs: Date.now() })
      : undefined,
    onError: (error, shardId) => logger.warn('shard read failed; retrying', { shardId, error }),
  });
  return { ...consumer, instanceId, totals, latency, logger, parent, configSource, projection };
}

/** Starts the worker, reports to a supervisor if there is one, and waits for the one graceful stop. */
async function runUntilStopped(
  settings: WorkerSettings,
  run: Assembled,
  host: WorkerProcess,
  stats: () => WorkerStats,
  health: HealthServer | undefined,
) {
  const { worker, logger, parent } = run;
  const shutdown = new GracefulShutdown({ worker, stopTimeoutMs: settings.stopTimeoutMs });
  const unwatch = watchStopSignals({
    signals: host.signals,
    supervisor: parent,
    shutdown,
    onRequest: (reason) => logger.info('stopping: handing leases off', { reason }),
    // Do not wait the whole stop timeout for engines that are gone.
    onOrphaned: () => setTimeout(() => process.exit(1), 3_000).unref(),
  });
  // AppConfig is polled at its interval from the handler; an idle worker still follows it (strategy, timings).
  const refresh = setInterval(() => void run.configSource.refresh(), 5_000);
  refresh.unref();
  if (!shutdown.requested) {
    await worker.start();
    logger.info('worker started', {
      streamName: settings.streamName,
      reader: settings.reader.kind,
      health: health?.url,
      projection: run.projection.identity,
    });
    parent?.send({ type: 'ready', instanceId: run.instanceId, pid: process.pid, healthUrl: health?.url });
  }
  const report = () => parent?.send({ type: 'stats', stats: stats() });
  const timer = parent === undefined ? undefined : setInterval(report, settings.statsIntervalMs);
  const ended = await shutdown.done;
  clearInterval(timer);
  clearInterval(refresh);
  unwatch();
  report();
  logger.info('worker stopped', { ...ended, error: ended.error?.message });
  parent?.send({ type: 'stopped', outcome: ended.outcome });
  return ended;
}

/** Logs every worker event (checkpoints at debug level) and passes it to a supervisor. */
function eventLog(
  logger: Logger,
  parent: Supervisor | undefined,
  settings: WorkerSettings,
): (event: WorkerEvent) => void {
  return (event) => {
    if (event.type === 'error') logger.warn(`worker error: ${event.message}`);
    else if (event.type === 'checkpointed') logger.debug('worker checkpointed', { ...event });
    else logger.info(`worker ${event.type}`, { ...event });
    // Checkpoints come with every batch: only to a supervisor that asked for progress reports.
    if (event.type !== 'checkpointed' || settings.reportInvocations)
      parent?.send({ type: 'event', event, atWallMs: Date.now() });
  };
}

export type { WorkerProcess };
export { runWorker };
