/**
 * What `cdcp worker` builds from its settings before it starts: the stream's ARN, the configuration source, the
 * shard reader and the projection.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import type { ConfigSource } from '../../core/config/source.js';
import { ENV, METRICS } from '../../core/constants.js';
import { FanOutReader } from '../../core/esm/fan-out-reader.js';
import { PollingReader } from '../../core/esm/polling-reader.js';
import type { ShardReader } from '../../core/esm/shard-reader.js';
import { ensureStreamConsumer } from '../../core/esm/stream-consumer.js';
import type { Projection } from '../../core/processing/projection.js';
import type { WorkerEvent } from '../../core/workers/events.js';
import { configSourceFromEnv } from '../../functions/consumer/config-source.js';
import { ProjectionModuleError } from '../../projection-module/errors.js';
import {
  describeProjection,
  MIRROR_IDENTITY,
  type ProjectionIdentity,
  parseProjectionIdentity,
  sameProjection,
} from '../../projection-module/identity.js';
import type { WorkerClients } from './clients.js';
import { type WorkerSettings, WorkerSettingsError } from './settings.js';

/** The stream's ARN as given, else as DescribeStreamSummary tells it. */
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

/** Polling, or enhanced fan-out through the fleet's registered consumer (registered here if need be). */
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

/** A projection and its identity (name and source fingerprint); `projection` undefined: the built-in mirror. */
interface WorkerProjection {
  readonly projection: Projection | undefined;
  readonly identity: ProjectionIdentity;
}

/**
 * The projection module the worker was told to load, through the package's one projection loader: bundled by
 * esbuild (TypeScript or JavaScript), its default export checked, its name and fingerprint computed, exactly
 * as `cdcp parked replay` and the Lambda bundles see it.
 */
async function loadModule(path: string): Promise<WorkerProjection> {
  // Loaded on use: esbuild is needed only when a module is loaded at start (never in the container image,
  // whose projection is built in).
  const { loadProjectionModule } = await import('../../projection-module/load.js');
  try {
    return await loadProjectionModule(path);
  } catch (error) {
    if (error instanceof ProjectionModuleError)
      throw new WorkerSettingsError(
        `${error.message}; check the path given in --projection or ${ENV.WORKER_PROJECTION_MODULE}`,
      );
    throw error;
  }
}

/**
 * The projection this worker applies, and the check that it is the fleet's: built into the image at synthesis
 * (`builtIn`, the container's bundle), else the module of `--projection` / CDCP_WORKER_PROJECTION_MODULE, else
 * the mirror. When CDCP_PROJECTION names the fleet's projection (the stack sets it on every task, `npm start` on
 * every worker process), a worker whose projection has another fingerprint refuses to start: every member of
 * a fleet applies the same projection, and `cdcp parked replay` can refuse any other.
 */
async function workerProjection(
  modulePath: string | undefined,
  env: NodeJS.ProcessEnv,
  builtIn?: WorkerProjection,
): Promise<WorkerProjection> {
  if (builtIn !== undefined && modulePath !== undefined)
    throw new WorkerSettingsError(
      `this worker was built with ${describeProjection(builtIn.identity)}, which ${ENV.WORKER_PROJECTION_MODULE} or --projection cannot replace (received ${JSON.stringify(modulePath)}); unset it, or set projectionEntry on the construct and deploy`,
    );
  const loaded =
    builtIn ??
    (modulePath === undefined
      ? { projection: undefined, identity: MIRROR_IDENTITY }
      : await loadModule(modulePath));
  const raw = env[ENV.PROJECTION];
  if (raw === undefined || raw === '') return loaded;
  let expected: ProjectionIdentity | undefined;
  try {
    expected = parseProjectionIdentity(JSON.parse(raw));
  } catch {
    expected = undefined;
  }
  if (expected === undefined)
    throw new WorkerSettingsError(
      `${ENV.PROJECTION} must be a projection identity {"name","fingerprint","entry"}; received ${JSON.stringify(raw)}. Set it as the stack does, or unset it`,
    );
  if (!sameProjection(loaded.identity, expected))
    throw new WorkerSettingsError(
      `this worker runs ${describeProjection(loaded.identity)}, but ${ENV.PROJECTION} says the fleet runs ${describeProjection(expected)}; give every worker the same projection module`,
    );
  return loaded;
}

export type { WorkerProjection };
export { openConfigSource, readerOf, streamArnOf, workerProjection };
