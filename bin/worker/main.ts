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
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { reportedConfigVersion } from '../../core/config/reported-version.js';
import type { ConfigSource } from '../../core/config/source.js';
import { ENV, METRICS } from '../../core/constants.js';
import { systemClock } from '../../core/coordination/clock.js';
import { FanOutReader } from '../../core/esm/fan-out-reader.js';
import { PollingReader } from '../../core/esm/polling-reader.js';
import type { ShardReader } from '../../core/esm/shard-reader.js';
import { ensureStreamConsumer } from '../../core/esm/stream-consumer.js';
import { type BatchStats, emptyStats } from '../../core/processing/batch-processor.js';
import type { Projection } from '../../core/processing/projection.js';
import { ParkedStore } from '../../core/state/parked-store.js';
import { createConsumerWorker } from '../../core/workers/consumer-worker.js';
import type { WorkerEvent } from '../../core/workers/events.js';
import { workerHealth } from '../../core/workers/health.js';
import { countTableRequests } from '../../core/workers/request-meter.js';
import { exitCodeOf, GracefulShutdown } from '../../core/workers/shutdown.js';
import { configSourceFromEnv } from '../../functions/consumer/config-source.js';
import { createConfigFollowingHandler } from '../../functions/consumer/follow-config.js';
import { type WorkerClients, workerClients } from './clients.js';
import { type HealthServer, startHealthServer } from './health-server.js';
import { type WorkerSettings, WorkerSettingsError } from './settings.js';
import { watchStopSignals } from './stop-signals.js';
import { type Supervisor, supervisor } from './supervisor.js';

/** What the process gives the worker: its environment and signals (tests pass their own). */
interface WorkerProcess {
  readonly env: NodeJS.ProcessEnv;
  /** SIGTERM and SIGINT arrive here. */
  readonly signals: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
}

/**
 * Runs one worker until SIGTERM (or its supervisor) stops it; resolves with the process's exit code: 0 after
 * a clean hand-off, 1 when the stop timed out or failed.
 */
async function runWorker(settings: WorkerSettings, host: WorkerProcess): Promise<number> {
  const instanceId = settings.instanceId ?? `worker-${hostname()}-${randomBytes(3).toString('hex')}`;
  const logLevel = (host.env.LOG_LEVEL as 'INFO' | undefined) ?? 'INFO';
  // The worker's own log (leases, stops) and the consumer's, which adds each batch's shard and context to its
  // keys: kept apart so that neither leaks into the other.
  const persistentKeys = { instanceId };
  const logger = new Logger({ serviceName: `${METRICS.service}-worker`, logLevel, persistentKeys });
  const consumerLogger = new Logger({ serviceName: METRICS.service, logLevel, persistentKeys });
  const clients = workerClients({ region: settings.region });
  // Before the client's first request: its middleware stack is resolved once (`cacheMiddleware`).
  const requests = countTableRequests(clients.dynamodb, settings.coordinationTable);
  const parent = supervisor();
  let configSource: ConfigSource | undefined;
  let health: HealthServer | undefined;
  try {
    const streamArn = settings.streamArn ?? (await streamArnOf(clients, settings.streamName));
    configSource = await openConfigSource(settings, host.env, logger);
    const emit = eventLog(logger, parent, settings);
    const totals: BatchStats = emptyStats();
    const source = configSource;
    const { worker, mapping, lagMs } = createConsumerWorker({
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
        configSource: source,
        projection: await projectionOf(settings.projectionModule),
        logger: consumerLogger,
        metrics: new Metrics({ namespace: METRICS.namespace, serviceName: METRICS.service }),
        onBatch: ({ stats }) => {
          for (const key of Object.keys(totals) as (keyof BatchStats)[]) totals[key] += stats[key];
        },
      }),
      parkedStore: new ParkedStore({ client: clients.dynamodb, tableName: settings.parkedTable }),
      mapping: settings.mapping,
      config: () => source.current().config,
      reportedConfigVersion: () => reportedConfigVersion(source.current()),
      region: settings.region ?? (await clients.kinesis.config.region()),
      onEvent: emit,
      onInvocation: settings.reportInvocations
        ? ({ shardId, phase, records }) =>
            parent?.send({ type: 'invocation', shardId, phase, records, atWallMs: Date.now() })
        : undefined,
      onError: (error, shardId) => logger.warn('shard read failed; retrying', { shardId, error }),
    });
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
    const refresh = setInterval(() => void source.refresh(), 5_000);
    refresh.unref();
    if (settings.health !== undefined)
      health = await startHealthServer({
        ...settings.health,
        report: () => workerHealth(worker, systemClock),
      });
    const stats = () =>
      parent?.send({
        type: 'stats',
        stats: {
          totals: { ...totals },
          eventsPerSecond: worker.eventsPerSecond,
          lagMs: lagMs(),
          leases: worker.shards,
          assigner: worker.isAssigner,
          inFlight: mapping.inFlight,
          coordinationRequests: requests.total(),
          coordinationByOperation: Object.fromEntries(requests.byOperation),
        },
      });
    if (!shutdown.requested) {
      await worker.start();
      logger.info('worker started', {
        streamName: settings.streamName,
        reader: settings.reader.kind,
        health: health?.url,
      });
      parent?.send({ type: 'ready', instanceId, pid: process.pid, healthUrl: health?.url });
    }
    const timer = parent === undefined ? undefined : setInterval(stats, settings.statsIntervalMs);
    const report = await shutdown.done;
    clearInterval(timer);
    clearInterval(refresh);
    unwatch();
    stats();
    logger.info('worker stopped', { ...report, error: report.error?.message });
    parent?.send({ type: 'stopped', outcome: report.outcome });
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

async function streamArnOf(clients: WorkerClients, streamName: string): Promise<string> {
  const out = await clients.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
  const arn = out.StreamDescriptionSummary?.StreamARN;
  if (arn === undefined) throw new Error(`DescribeStreamSummary of ${streamName} returned no ARN`);
  return arn;
}

/** A local config store when given (npm start), else the Lambda consumer's source from the environment. */
async function openConfigSource(
  settings: WorkerSettings,
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<ConfigSource> {
  const metrics = new Metrics({ namespace: METRICS.namespace, serviceName: METRICS.service });
  if (settings.config.kind === 'environment')
    return configSourceFromEnv(settings.config.env, { logger, metrics });
  // Loaded only for local runs: a deployed worker never reads a file store.
  const { FileConfigSource } = await import('../../localstack/config/file-config-source.js');
  // Until the file is read: CDCP_CONFIG_JSON (the run's starting configuration), else the defaults.
  const fallback = configSourceFromEnv({ [ENV.CONFIG_JSON]: env[ENV.CONFIG_JSON] }).current().config;
  return FileConfigSource.open({ path: settings.config.path, fallback, logger, metrics });
}

async function readerOf(
  settings: WorkerSettings,
  clients: WorkerClients,
  streamArn: string,
  emit: (event: WorkerEvent) => void,
): Promise<ShardReader> {
  const { reader } = settings;
  if (reader.kind === 'polling')
    return new PollingReader({ kinesis: clients.kinesis, streamName: settings.streamName });
  const consumerArn = await ensureStreamConsumer({
    kinesis: clients.kinesis,
    streamArn,
    consumerName: reader.consumerName,
  });
  return new FanOutReader({
    kinesis: clients.subscriber(),
    consumerArn,
    resubscribeIntervalMs: reader.resubscribeIntervalMs,
    onSubscribe: ({ shardId, position, ordinal }) =>
      emit({
        type: 'subscribed',
        shardId,
        from:
          position.SequenceNumber === undefined ? String(position.Type) : `after ${position.SequenceNumber}`,
        ordinal,
      }),
  });
}

/** The projection a module exports (its default export, or `projection`); the mirror when none is given. */
async function projectionOf(modulePath: string | undefined): Promise<Projection | undefined> {
  if (modulePath === undefined) return undefined;
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(resolve(modulePath)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new WorkerSettingsError(
      `the projection module ${JSON.stringify(modulePath)} cannot be loaded (${(error as Error).message}); check the path given in --projection or CDCP_WORKER_PROJECTION_MODULE`,
    );
  }
  const candidate = (loaded.default ?? loaded.projection) as Partial<Projection> | undefined;
  if (typeof candidate?.name !== 'string' || typeof candidate.apply !== 'function')
    throw new WorkerSettingsError(
      `the projection module ${JSON.stringify(modulePath)} has no default export with a name and an apply function; received exports ${JSON.stringify(Object.keys(loaded))}`,
    );
  return candidate as Projection;
}

export type { WorkerProcess };
export { runWorker };
