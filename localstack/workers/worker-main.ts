/**
 * One worker instance as its own OS process (`npm start -- --workers N` starts N of these; `cdcp local workers
 * add` one more): registers, holds shard leases, reads its shards with the event source mapping and the same
 * consumer handler as Lambda. Its parent passes a {@link WorkerSpec} in CDCP_WORKER_SPEC and talks to it over
 * the IPC channel; the worker stops gracefully on `stop` or SIGTERM, and when its parent goes away.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { reportedConfigVersion } from '../../core/config/reported-version.js';
import type { Config } from '../../core/config/schema.js';
import type { ConfigSource } from '../../core/config/source.js';
import { METRICS } from '../../core/constants.js';
import { type BatchStats, emptyStats } from '../../core/processing/batch-processor.js';
import { ParkedStore } from '../../core/state/parked-store.js';
import { createConsumerHandler } from '../../functions/consumer/create-handler.js';
import { createConfigFollowingHandler } from '../../functions/consumer/follow-config.js';
import { localClients } from '../clients.js';
import { FileConfigSource } from '../config/file-config-source.js';
import { countingProjection } from '../run/effect-audit.js';
import { createLocalWorker } from './local-worker.js';
import { type SupervisorMessage, WORKER_SPEC_ENV, type WorkerMessage, type WorkerSpec } from './messages.js';
import { countTableRequests } from './request-meter.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
const rawSpec = process.env[WORKER_SPEC_ENV];
const logLevel = (process.env.LOG_LEVEL as 'ERROR' | undefined) ?? 'CRITICAL';

if (rawSpec === undefined || process.send === undefined) {
  process.stderr.write(
    `worker: this is a worker process of \`npm start -- --workers N\`; it needs ${WORKER_SPEC_ENV} and an IPC ` +
      'channel from its parent. Start workers with `npm start -- --workers N` or `cdcp local workers add`.\n',
  );
  process.exit(2);
}
const spec = JSON.parse(rawSpec) as WorkerSpec;
const send = (message: WorkerMessage) => {
  if (process.connected) process.send!(message);
};

const clients = localClients(spec.endpoints);
const requests = countTableRequests(clients.dynamodb, spec.names.coordinationTable);
const totals: BatchStats = emptyStats();
const logger = new Logger({ serviceName: METRICS.service, logLevel });
const configSource: ConfigSource | undefined =
  spec.configFile === undefined
    ? undefined
    : await FileConfigSource.open({ path: spec.configFile, fallback: spec.config });
const config = (): Config => configSource?.current().config ?? spec.config;
const deps = {
  projection: spec.auditEffects ? countingProjection : undefined,
  dynamodb: clients.dynamodb,
  stateTable: spec.names.stateTable,
  parkedTable: spec.names.parkedTable,
  logger,
  metrics: new Metrics({ namespace: METRICS.namespace, serviceName: METRICS.service }),
  onBatch: ({ stats }: { stats: BatchStats }) => {
    for (const key of Object.keys(totals) as (keyof BatchStats)[]) totals[key] += stats[key];
  },
};
const handler =
  configSource === undefined
    ? createConsumerHandler({ ...deps, config: spec.config })
    : createConfigFollowingHandler({ ...deps, configSource });
const { worker, mapping, lagMs } = createLocalWorker({
  instanceId: spec.instanceId,
  clients,
  names: spec.names,
  streamArn: spec.streamArn,
  handler,
  parkedStore: new ParkedStore({ client: clients.dynamodb, tableName: spec.names.parkedTable }),
  mapping: spec.mapping,
  config,
  reportedConfigVersion: () =>
    configSource === undefined ? spec.config.version : reportedConfigVersion(configSource.current()),
  timings: spec.timings,
  onEvent: (event) => {
    // Checkpoints come with every batch: only to a parent that asked for progress reports.
    if (event.type !== 'checkpointed' || spec.reportInvocations)
      send({ type: 'event', event, atWallMs: Date.now() });
    if (event.type === 'error' && process.env.LOG_LEVEL !== undefined)
      process.stderr.write(`${spec.instanceId}: ${event.message}\n`);
  },
  onInvocation: spec.reportInvocations
    ? (e) => send({ type: 'invocation', ...e, atWallMs: Date.now() })
    : undefined,
  onError: (error, shardId) => {
    if (process.env.LOG_LEVEL !== undefined)
      process.stderr.write(`${spec.instanceId} ${shardId}: ${error.message}\n`);
  },
});

const report = () =>
  send({
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

let stopping: Promise<void> | undefined;
let timer: NodeJS.Timeout | undefined;
const stop = (exitCode: number, orphaned = false) => {
  if (stopping !== undefined) return;
  stopping = (async () => {
    clearInterval(timer);
    // Bounded: a worker whose store does not answer still exits; its leases expire for the others. Without
    // a parent (it died, and its engines with it) there is little to save: exit soon.
    const deadline = setTimeout(() => process.exit(exitCode === 0 ? 1 : exitCode), orphaned ? 3_000 : 20_000);
    deadline.unref();
    await worker
      .stop()
      .catch((error: Error) => process.stderr.write(`${spec.instanceId}: stop: ${error.message}\n`));
    await configSource?.close();
    report();
    send({ type: 'stopped' });
    clients.destroy();
    process.exit(exitCode);
  })();
};

// Ctrl-C in a terminal reaches the whole process group: the run, not the keyboard, decides when we stop.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => stop(0));
process.on('disconnect', () => stop(0, true));
process.on('message', (message: SupervisorMessage) => {
  if (message.type === 'stop') stop(0);
});

await worker.start();
send({ type: 'ready', instanceId: spec.instanceId, pid: process.pid });
timer = setInterval(report, spec.statsIntervalMs ?? 500);
