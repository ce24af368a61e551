/**
 * One lifion-kinesis consumer as its own OS process, so the peers benchmark can `kill -9` it. Its parent passes
 * a {@link PeerSpec} in PEERS_BENCH_SPEC and talks to it over the IPC channel: the process loads, says
 * `loaded`, and starts consuming on `start` (so a group's consumers register together, as after a deploy).
 *
 * The consumer runs as its users run it for at-least-once delivery: polling mode (kinesalite has no enhanced
 * fan-out), automatic shard assignment and checkpoints, and `usePausedPolling`, so a shard's next batch is
 * asked for — and the checkpoint of this one stored — only once every record of this batch was applied, one
 * after the other in shard order. (Without `usePausedPolling` it checkpoints a batch when it receives it,
 * before the handler has run: a crash then loses the changes in hand.)
 */
import { Agent } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import Kinesis, { type LifionBatch } from 'lifion-kinesis';
import { systemClock } from '../../../core/coordination/clock.js';
import { messageOf } from '../../../core/errors.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../localstack/clients.js';
import { peerRecordHandler } from './peer-handler.js';
import { PEER_SPEC_ENV, type PeerCommand, type PeerMessage, type PeerSpec } from './peer-messages.js';

process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= '1';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_IDEMPOTENCY_DISABLED = 'false';

/** A record whose write keeps failing is retried this long, then given up (and reported). */
const RETRY_FOR_MS = 300_000;

const rawSpec = process.env[PEER_SPEC_ENV];
if (rawSpec === undefined || process.send === undefined) {
  process.stderr.write(
    `peer-runner: this is a consumer process of \`npm run bench -- peers\`; it needs ${PEER_SPEC_ENV} and an IPC channel from its parent.\n`,
  );
  process.exit(2);
}
const spec = JSON.parse(rawSpec) as PeerSpec;
const send = (message: PeerMessage) => {
  if (process.connected) process.send!(message);
};

const dynamodb = new DynamoDBClient({
  endpoint: spec.dynamodbEndpoint,
  region: LOCAL_REGION,
  credentials: LOCAL_CREDENTIALS,
  requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }) }),
});
const apply = peerRecordHandler({
  client: dynamodb,
  stateTable: spec.stateTable,
  write: spec.write,
  idempotencyTable: spec.idempotencyTable,
});
const awsOptions = {
  endpoint: spec.kinesisEndpoint,
  region: LOCAL_REGION,
  accessKeyId: LOCAL_CREDENTIALS.accessKeyId,
  secretAccessKey: LOCAL_CREDENTIALS.secretAccessKey,
};
const line =
  (level: string) =>
  (...args: unknown[]) =>
    process.stderr.write(`${new Date().toISOString()} ${spec.id} ${level}: ${args.map(String).join(' ')}\n`);
// PEERS_BENCH_TRACE=1 shows lifion-kinesis's own debug log (leases taken, released, renewed; heartbeats).
const logger = {
  error: line('error'),
  warn: line('warn'),
  debug: process.env.PEERS_BENCH_TRACE === undefined ? () => {} : line('debug'),
};
const consumer = new Kinesis({
  ...awsOptions,
  ...spec.options,
  streamName: spec.streamName,
  consumerGroup: spec.consumerGroup,
  createStreamIfNeeded: false,
  initialPositionInStream: 'TRIM_HORIZON',
  useAutoShardAssignment: true,
  useAutoCheckpoints: true,
  useEnhancedFanOut: false,
  usePausedPolling: true,
  logger,
  dynamoDb: {
    endpoint: spec.dynamodbEndpoint,
    region: LOCAL_REGION,
    accessKeyId: LOCAL_CREDENTIALS.accessKeyId,
    secretAccessKey: LOCAL_CREDENTIALS.secretAccessKey,
    tableName: spec.leaseTable,
  },
});

/** Applies one record, retrying while its write fails (a transient error, or an idempotency record in progress). */
async function applyRecord(record: LifionBatch['records'][number]): Promise<void> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      await apply(record);
      return;
    } catch (error) {
      const message = `${record.partitionKey} ${record.sequenceNumber}: ${(error as Error).name}: ${messageOf(error)}`;
      if (Date.now() - started > RETRY_FOR_MS) {
        send({ type: 'error', message: `gave up after ${attempt} attempts: ${message}` });
        return;
      }
      if (attempt === 1) send({ type: 'error', message });
      await systemClock.sleep(Math.min(250 * attempt, 2_000));
    }
  }
}

consumer.on('data', (batch: LifionBatch) => {
  send({ type: 'batch', shardId: batch.shardId, records: batch.records.length, atWallMs: Date.now() });
  void (async () => {
    for (const record of batch.records) await applyRecord(record);
    await batch.continuePolling?.();
  })().catch((error: Error) => send({ type: 'error', message: error.message }));
});
consumer.on('error', (error: Error) => send({ type: 'error', message: error.message }));

const stop = () => {
  consumer.stopConsumer();
  dynamodb.destroy();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('disconnect', stop);
process.on('message', (command: PeerCommand) => {
  if (command.type === 'stop') stop();
  else if (command.type === 'start')
    consumer
      .startConsumer()
      .then(() => send({ type: 'ready' }))
      .catch((error: Error) => {
        send({ type: 'error', message: `start: ${error.message}` });
        process.exit(1);
      });
});
send({ type: 'loaded', pid: process.pid });
