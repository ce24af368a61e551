/**
 * `npm start`: the whole pipeline on embedded engines (see `npm start -- --help`).
 */
import { DynamoDbCoordinationStore } from '../core/coordination/dynamodb-store.js';
import { DynamoDbAuditLog } from '../core/scaling/dynamodb-audit-log.js';
import { ProjectionModuleError } from '../projection-module/errors.js';
import { type LoadedProjection, loadProjectionModule } from '../projection-module/load.js';
import { ArgsError, parseRunArgs, USAGE } from './run/args.js';
import { startControlServer } from './run/control-server.js';
import { LiveView } from './run/live-view.js';
import { runPipeline } from './run/pipeline.js';
import { writeRuntimeFile } from './run/runtime-file.js';
import { latencyLine } from './run/summary.js';
import type { WorkerGroup } from './run/worker-group.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<number> {
  let args: ReturnType<typeof parseRunArgs>;
  try {
    args = parseRunArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof ArgsError) {
      process.stderr.write(`npm start: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let projection: LoadedProjection | undefined;
  if (args.projection !== undefined) {
    try {
      projection = await loadProjectionModule(args.projection);
    } catch (error) {
      if (!(error instanceof ProjectionModuleError)) throw error;
      process.stderr.write(`npm start: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(
      `projection "${projection.identity.name}" (fingerprint ${projection.identity.fingerprint}) from ${args.projection}\n`,
    );
  }
  const stop = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: string) => {
    interrupts++;
    if (interrupts > 1) {
      process.stderr.write(`\n${signal} again: stopping now.\n`);
      process.exit(130);
    }
    process.stderr.write(
      `\n${signal}: finishing in-flight batches and stopping (press Ctrl-C again to force)…\n`,
    );
    stop.abort();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  let removeRuntimeFile: (() => void) | undefined;
  let workers: WorkerGroup | undefined;
  const live = new LiveView();
  const control = await startControlServer(
    () => workers,
    () => live,
  );
  const summary = await runPipeline({
    events: args.events,
    untilDrained: args.untilDrained,
    shards: args.shards,
    mapping: { batchSize: args.batchSize, parallelizationFactor: args.parallelization },
    kinesisEngine: args.kinesisEngine,
    injectDuplicates: args.injectDuplicates,
    injectPoison: args.injectPoison,
    input: args.input,
    dumpState: args.dumpState,
    dumpParked: args.dumpParked,
    seed: args.seed,
    aggregates: args.aggregates,
    rate: args.rate,
    loadProfile: args.loadProfile,
    clusterManager: args.clusterManager,
    workers: args.workers,
    projection,
    reader: args.reader,
    config: {
      leases: {
        ...(args.assignment === undefined ? {} : { assignment: args.assignment }),
        ...(args.failureDetectionMs === undefined ? {} : { failureDetectionMs: args.failureDetectionMs }),
      },
    },
    signal: stop.signal,
    onRunning: (running) =>
      live.attach({
        store: new DynamoDbCoordinationStore({
          client: running.clients.dynamodb,
          tableName: running.names.coordinationTable,
        }),
        auditLog: new DynamoDbAuditLog({
          client: running.clients.dynamodb,
          tableName: running.names.coordinationTable,
        }),
        names: running.names,
        workers: running.workers,
        produced: running.produced,
      }),
    onWorkerEvent: (workerId, event) => live.event(workerId, event),
    onWorkers: (group) => {
      workers = group;
      if (args.workers > 0)
        process.stderr.write(
          `${args.workers} worker process(es) running; \`npx cdcp local workers\` lists them, \`add\`, \`remove ID\` and \`kill ID\` change them\n`,
        );
    },
    onReady: ({ endpoints, names, config, configFile }) => {
      removeRuntimeFile = writeRuntimeFile({
        pid: process.pid,
        startedAt: new Date().toISOString(),
        endpoints,
        names,
        config,
        configFile,
        control: control.endpoint,
        ...(projection === undefined ? {} : { projection: projection.identity }),
      });
      process.stderr.write(
        `engines ready (${endpoints.kind}: DynamoDB ${endpoints.dynamodb}, Kinesis ${endpoints.kinesisEngine} ${endpoints.kinesis}); stream ${names.streamName}\n` +
          `live dashboard: ${control.endpoint.dashboardUrl} (\`npx cdcp status --local --watch\` in a terminal)\n`,
      );
    },
  }).finally(async () => {
    live.stop();
    removeRuntimeFile?.();
    await control.close();
  });

  if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    process.stderr.write(
      `\n${summary.accounting}; ${summary.quarantinedAggregates} quarantined aggregates, ${summary.aggregates} aggregates; ${summary.eventsPerSecond} events/s over ${(summary.durationMs / 1000).toFixed(1)} s on ${summary.engine}\n`,
    );
    process.stderr.write(`${latencyLine(summary.latency)}\n`);
    if (summary.notPublished > 0)
      process.stderr.write(
        `${summary.notPublished} record(s) of the input were not published: Kinesis refused them\n`,
      );
    if (summary.difference !== undefined) process.stderr.write(`${summary.difference}\n`);
    if (summary.verified !== null) process.stderr.write(`verified against the model: ${summary.verified}\n`);
  }
  if (summary.differences !== undefined)
    process.stderr.write(
      `differences (first ${summary.differences.length}):\n  ${summary.differences.join('\n  ')}\n`,
    );
  return summary.verified === false ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `npm start failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
