/**
 * What `cdcp worker` builds from its settings before it starts: the stream's ARN, the configuration source, the
 * shard reader and the projection.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
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

export { openConfigSource, projectionOf, readerOf, streamArnOf };
