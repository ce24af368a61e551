import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { type Config, type ConfigInput, parseConfig } from '../../core/config/schema.js';
import { ENV, METRICS } from '../../core/constants.js';
import type { MappingSettings } from '../../core/esm/settings.js';
import { type BatchStats, emptyStats } from '../../core/processing/batch-processor.js';
import { conflictPolicies } from '../../core/processing/conflict-policies.js';
import { DeferredSweep } from '../../core/processing/deferred-sweep.js';
import { InstanceLatencies } from '../../core/processing/latency.js';
import { configuredProjection, mirrorProjection } from '../../core/processing/projection.js';
import { ParkedReplayer } from '../../core/processing/replay.js';
import { Producer } from '../../core/producer/producer.js';
import { ParkedStore } from '../../core/state/parked-store.js';
import { StateStore } from '../../core/state/state-store.js';
import type { WorkerEvent } from '../../core/workers/events.js';
import type { WorkerTimings } from '../../core/workers/timings.js';
import { createConfigFollowingHandler } from '../../functions/consumer/follow-config.js';
import type { LoadedProjection } from '../../projection-module/load.js';
import { type LocalClients, localClients } from '../clients.js';
import { type LocalConfig, startLocalConfig } from '../config/local-config.js';
import { type Endpoints, type KinesisEngine, type RunningEngines, startEngines } from '../engines/engines.js';
import { LocalClusterManager } from '../manager/local-cluster-manager.js';
import type { ResourceNames } from '../provision.js';
import { provisionFromTemplate } from '../template/index.js';
import { WORKLOAD_TABLES } from '../workload/generator.js';
import type { LoadProfileName } from '../workload/load-profile.js';
import { waitForDrain } from './drain.js';
import { countingProjection, EffectCounts } from './effect-audit.js';
import { Production, produce } from './produce.js';
import { ProgressReporter } from './progress.js';
import { generatorSource, inputSource, type Source } from './sources.js';
import { scanState } from './state-scan.js';
import { accountFor, dumpParked, dumpState, type PipelineSummary } from './summary.js';
import { type Verification, verifyAgainstModel } from './verify.js';
import { DrainWatch, startWorkerGroup, type WorkerGroup } from './worker-group.js';
import type { WorkerPool } from './worker-pool.js';

interface PipelineOptions {
  /** Events to produce; undefined = until stopped. */
  readonly events?: number;
  readonly untilDrained?: boolean;
  readonly shards?: number;
  readonly mapping?: Partial<MappingSettings>;
  readonly kinesisEngine?: KinesisEngine;
  /** Fraction of records republished later (duplicates and late redeliveries). */
  readonly injectDuplicates?: number;
  /** Poison changes, each on a distinct aggregate. */
  readonly injectPoison?: number;
  /** Publish the change events of this file (or `-` for stdin) instead of generating. */
  readonly input?: string;
  /** Write the final state as JSON Lines here (`-`: stdout). */
  readonly dumpState?: string;
  /** Write the parked items as JSON Lines here (`-`: stdout): aggregate, position, reason, message. */
  readonly dumpParked?: string;
  readonly seed?: number;
  readonly aggregates?: number;
  /** Events per second when producing until stopped. @default 2000 */
  readonly rate?: number;
  /** How the rate moves over time (`--load-profile`); the base rate is `rate` (default 200/s). */
  readonly loadProfile?: LoadProfileName;
  /** Run the cluster manager locally (on with a load profile): it resizes the stream as the load moves. */
  readonly clusterManager?: boolean | { readonly intervalMs?: number; readonly recordsPerShard?: number };
  readonly config?: ConfigInput;
  /** Resource name prefix. @default 'cdcp-local' */
  readonly prefix?: string;
  /** Use these engines instead of starting embedded ones (tests, benchmarks). */
  readonly endpoints?: Endpoints;
  /** Show live progress on stderr. @default true */
  readonly progress?: boolean;
  readonly signal?: AbortSignal;
  /** Called once the tables and stream exist (the CLI writes its runtime file here). */
  readonly onReady?: (info: {
    endpoints: Endpoints;
    names: ResourceNames;
    config: Config;
    configFile: string;
  }) => void;
  /** The local config store this run publishes to and watches. @default a file of its own under .cdcp/ */
  readonly configFile?: string;
  /** KPL aggregation in the producer (records of one aggregate per Kinesis record); 1 turns it off. @default 100 */
  readonly aggregateMaxRecords?: number;
  /** Give up waiting for the drain after this long. @default 600_000 */
  readonly drainTimeoutMs?: number;
  /**
   * Worker processes (`cdcp worker`); 0 runs one worker inside this process; `external`: none, the stream is
   * read by workers someone else started. @default 0
   */
  readonly workers?: number | 'external';
  /** How worker processes read: `polling` or `fan-out` (kinesis-mock only, locally). @default 'polling' */
  readonly reader?: 'polling' | 'fan-out';
  /** Fan-out subscriptions are renewed this often (5000..300000 ms). @default 300_000 */
  readonly resubscribeIntervalMs?: number;
  /** Lease and poll timings of the in-process worker. @default from config.instances */
  readonly workerTimings?: Partial<WorkerTimings>;
  /** Worker processes report each handler invocation (tests that kill a worker in mid-batch). */
  readonly reportInvocations?: boolean;
  /** Called for everything a worker does (leases acquired, lost, handed off; assigner changes). */
  readonly onWorkerEvent?: (workerId: string, event: WorkerEvent, atWallMs: number) => void;
  /**
   * Runs beside production and the drain (tests and benchmarks that kill workers or reshard mid-run); the run
   * verifies only after it has finished.
   */
  readonly during?: (run: RunningPipeline) => Promise<void>;
  /**
   * Count the changes that take effect per aggregate (a counting projection) and check every count: proves
   * that no change took effect twice, which the mirror projection cannot show. Generated workloads only.
   */
  readonly auditEffects?: boolean;
  /**
   * Stamps each generated change's source commit time. @default Date.now (a live source: latency is measured
   * from it)
   */
  readonly commitClock?: () => number;
  /** Called once the run produces (npm start's live dashboard samples it from here). */
  readonly onRunning?: (run: RunningPipeline) => void;
  /** Called once the workers run (npm start serves `cdcp local workers` from here). */
  readonly onWorkers?: (group: WorkerGroup) => void;
  /**
   * The projection module the consumer, the deferred sweep and the model fold changes with (`--projection`);
   * worker processes load the same module and check its identity. @default the mirror
   */
  readonly projection?: LoadedProjection;
}

/** What `during` and `onRunning` get: the run's workers, clients and names, and how far production is. */
interface RunningPipeline {
  readonly pool: WorkerPool | undefined;
  readonly workers: WorkerGroup;
  readonly clients: {
    readonly dynamodb: LocalClients['dynamodb'];
    readonly kinesis: LocalClients['kinesis'];
  };
  readonly names: ResourceNames;
  readonly streamArn: string;
  produced(): number;
  processed(): number;
  readonly signal: AbortSignal | undefined;
}

/** Where a run's tables and stream are, once provisioned, and the configuration it starts with. */
interface Provisioned {
  readonly endpoints: Endpoints;
  readonly clients: LocalClients;
  readonly names: ResourceNames;
  readonly streamArn: string;
  readonly mapping: Partial<MappingSettings>;
  readonly config: Config;
  readonly localConfig: LocalConfig;
}

/** The consumers of a run: its workers, what they counted, and the deferred-change sweep. */
interface Consumers {
  readonly workers: WorkerGroup;
  readonly parkedStore: ParkedStore;
  readonly audit: EffectCounts | undefined;
  /** Resolves once the deferred sweep started by the last configuration change has finished. */
  sweeping(): Promise<unknown>;
}

/**
 * What a run holds while it runs, released by {@link RunResources.release} in reverse order on every path
 * (success, a failed step, an abort). Each step sets what it started.
 */
class RunResources {
  engines: RunningEngines | undefined;
  clients: LocalClients | undefined;
  localConfig: LocalConfig | undefined;
  /** Whether the config store is this run's own, removed at the end. */
  ownConfigFile = false;
  workers: WorkerGroup | undefined;
  unsubscribeConfig: (() => void) | undefined;
  producer: Producer | undefined;
  manager: LocalClusterManager | undefined;
  lagFeed: NodeJS.Timeout | undefined;
  reporter: ProgressReporter | undefined;

  /** Stops what reads the stream (manager, progress, workers), so that the stores can be read as final. */
  public async stopConsumers(): Promise<void> {
    clearInterval(this.lagFeed);
    await this.manager?.stop();
    this.manager = undefined;
    this.reporter?.stop();
    this.reporter = undefined;
    await this.workers?.stop();
  }

  /** Releases everything the run started; safe to call whatever started. */
  public async release(): Promise<void> {
    await this.stopConsumers();
    this.producer?.close();
    this.unsubscribeConfig?.();
    await this.localConfig?.close();
    if (this.localConfig !== undefined && this.ownConfigFile)
      for (const suffix of ['', '.history.jsonl', '.lock'])
        await rm(`${this.localConfig.store.path}${suffix}`, { force: true });
    this.clients?.destroy();
    await this.engines?.stop();
  }
}

/**
 * Tables, stream and mapping settings from the synthesized CDK template (so local runs and the cloud cannot
 * drift; flags override the template's values), and the run's watched config store.
 */
async function provision(options: PipelineOptions, r: RunResources): Promise<Provisioned> {
  r.engines =
    options.endpoints === undefined
      ? await startEngines({ kinesisEngine: options.kinesisEngine })
      : undefined;
  const endpoints = options.endpoints ?? r.engines!.endpoints;
  const clients = localClients(endpoints);
  r.clients = clients;
  const provisioned = await provisionFromTemplate(clients, {
    prefix: options.prefix ?? 'cdcp-local',
    shardCount: options.shards,
  });
  const mapping: Partial<MappingSettings> = { ...provisioned.mapping };
  for (const [key, value] of Object.entries(options.mapping ?? {}))
    if (value !== undefined) (mapping as Record<string, unknown>)[key] = value;
  const config = parseConfig({
    ...options.config,
    processing: {
      ...options.config?.processing,
      faultInjection: (options.injectPoison ?? 0) > 0 || options.config?.processing?.faultInjection,
    },
    tables: { ...WORKLOAD_TABLES, ...options.config?.tables },
  });
  // The run publishes its starting config to a watched local store: `cdcp config set` changes it while the
  // run goes on, and the consumer applies each new version at its next batch. One store per run, so that
  // runs side by side (tests, two terminals) never read each other's settings.
  r.ownConfigFile = options.configFile === undefined && process.env[ENV.CONFIG_FILE] === undefined;
  const configFile =
    options.configFile ??
    process.env[ENV.CONFIG_FILE] ??
    join('.cdcp', `config-${provisioned.names.streamName}-${process.pid}.json`);
  r.localConfig = await startLocalConfig({ initial: config, path: configFile });
  options.onReady?.({ endpoints, names: provisioned.names, config, configFile: r.localConfig.store.path });
  return {
    endpoints,
    clients,
    names: provisioned.names,
    streamArn: provisioned.streamArn,
    mapping,
    config,
    localConfig: r.localConfig,
  };
}

/** The consumer handler of the in-process worker: the Lambda handler, counting into `totals`. */
function localHandler(
  options: PipelineOptions,
  p: Provisioned,
  totals: BatchStats,
  latency: InstanceLatencies,
  audit: EffectCounts | undefined,
) {
  return createConfigFollowingHandler({
    projection: audit === undefined ? options.projection?.projection : countingProjection,
    dynamodb: p.clients.dynamodb,
    stateTable: p.names.stateTable,
    parkedTable: p.names.parkedTable,
    coordinationTable: p.names.coordinationTable,
    configSource: p.localConfig.source,
    logger: new Logger({
      serviceName: METRICS.service,
      logLevel: (process.env.LOG_LEVEL as 'ERROR' | undefined) ?? 'CRITICAL',
    }),
    metrics: new Metrics({ namespace: METRICS.namespace, serviceName: METRICS.service }),
    onBatch: ({ stats }, _event, latencies) => {
      for (const key of Object.keys(totals) as (keyof BatchStats)[]) totals[key] += stats[key];
      latency.record(latencies);
    },
  });
}

/**
 * The workers (one in this process, or worker processes), and the sweep that replays deferred changes once
 * their table is resumed (aggregates that get a new change resume inline in the consumer; the sweep takes the
 * others, one sweep at a time).
 */
async function startConsumers(options: PipelineOptions, p: Provisioned, r: RunResources): Promise<Consumers> {
  const totals: BatchStats = emptyStats();
  const latency = new InstanceLatencies();
  const parkedStore = new ParkedStore({ client: p.clients.dynamodb, tableName: p.names.parkedTable });
  const audit = options.auditEffects === true ? new EffectCounts() : undefined;
  r.workers = await startWorkerGroup({
    workers: options.workers ?? 0,
    clients: p.clients,
    endpoints: p.endpoints,
    names: p.names,
    streamArn: p.streamArn,
    mapping: p.mapping,
    config: p.config,
    currentConfig: () => p.localConfig.source.current().config,
    configFile: p.localConfig.store.path,
    handler: localHandler(options, p, totals, latency, audit),
    totals,
    latency,
    parkedStore,
    reader: options.reader,
    resubscribeIntervalMs: options.resubscribeIntervalMs,
    timings: options.workerTimings,
    reportInvocations: options.reportInvocations,
    auditEffects: audit !== undefined,
    projection: options.projection?.identity,
    onEvent: (workerId, event, atWallMs) => {
      options.onWorkerEvent?.(workerId, event, atWallMs);
      if (event.type === 'error' && process.env.LOG_LEVEL !== undefined)
        process.stderr.write(`${workerId}: ${event.message}\n`);
    },
    onCrash: (row, output) =>
      r.reporter?.note(
        `worker ${row.id} (pid ${row.pid}) exited unexpectedly with ${row.exit?.signal ?? `code ${row.exit?.code}`}; its leases go to the others. Last output:\n${output.trim().split('\n').slice(-5).join('\n')}`,
      ),
    onError: (error, shardId) => {
      if (process.env.LOG_LEVEL !== undefined) process.stderr.write(`mapping ${shardId}: ${error.message}\n`);
    },
  });
  options.onWorkers?.(r.workers);
  const stateStore = new StateStore({
    client: p.clients.dynamodb,
    tableName: p.names.stateTable,
    tombstoneTtlSeconds: p.config.processing.tombstoneTtlSeconds,
  });
  const deferredSweep = new DeferredSweep({
    replayDeferred: (isDeferred) =>
      new ParkedReplayer({
        stateStore,
        parkedStore,
        projection: configuredProjection(
          p.localConfig.source.current().config,
          options.projection?.projection,
        ),
        conflictPolicy: conflictPolicies(
          p.localConfig.source.current().config,
          options.projection?.projection ?? mirrorProjection,
        ),
      }).replayDeferred(isDeferred),
  });
  let sweeping: Promise<unknown> = Promise.resolve();
  r.unsubscribeConfig = p.localConfig.source.subscribe((next) => {
    sweeping = deferredSweep
      .sweepIfDue(next.config)
      .then((report) => {
        if (report !== undefined && report.aggregates > 0)
          r.reporter?.note(`resumed ${report.aggregates} deferred aggregate(s)`);
      })
      .catch((error: Error) => r.reporter?.note(`replaying deferred changes failed: ${error.message}`));
  });
  return { workers: r.workers, parkedStore, audit, sweeping: () => sweeping };
}

/** The local cluster manager, when the run asks for it (a load profile turns it on): it resizes the stream. */
function startManager(
  options: PipelineOptions,
  p: Provisioned,
  r: RunResources,
  scalingActions: { kind: string; status: string; detail: string }[],
): void {
  const managerOptions =
    options.clusterManager === true ||
    (options.clusterManager === undefined && options.loadProfile !== undefined)
      ? {}
      : options.clusterManager === false || options.clusterManager === undefined
        ? undefined
        : options.clusterManager;
  if (managerOptions === undefined) return;
  const manager = new LocalClusterManager({
    kinesis: p.clients.kinesis,
    dynamodb: p.clients.dynamodb,
    streamName: p.names.streamName,
    coordinationTable: p.names.coordinationTable,
    config: () => p.localConfig.source.current().config,
    publisher: p.localConfig.store,
    intervalMs: managerOptions.intervalMs,
    recordsPerShard: managerOptions.recordsPerShard,
    onRound: (round) => {
      for (const o of round.outcomes) {
        scalingActions.push({ kind: o.action.kind, status: o.status, detail: o.detail });
        r.reporter?.note(`cluster manager: ${o.action.kind} ${o.status}: ${o.detail}`);
      }
    },
    onError: (error) => r.reporter?.note(`cluster manager: ${error.message}`),
  });
  r.manager = manager;
  manager.start();
  const workers = r.workers!;
  r.lagFeed = setInterval(() => manager.metrics.recordIteratorAge(workers.lagMs(), Date.now()), 1000);
}

/** Live progress on stderr, from what the workers counted. */
function startProgress(
  source: Source,
  production: Production,
  workers: WorkerGroup,
  phase: { current: string },
): ProgressReporter {
  const reporter = new ProgressReporter({
    snapshot: () => {
      const counted = workers.totals();
      return {
        produced: production.produced,
        target: source.total,
        applied: counted.applied,
        duplicates: counted.duplicates,
        parked: counted.parked - counted.unparked,
        processed: counted.records,
        lagMs: workers.lagMs(),
        phase: phase.current,
        workers: workers.pool === undefined ? undefined : workers.rows(),
      };
    },
  });
  reporter.start();
  return reporter;
}

/** Publishes the source's records; a failure of the producer ends the run. */
async function publishAll(
  options: PipelineOptions,
  p: Provisioned,
  r: RunResources,
  source: Source,
  production: Production,
): Promise<void> {
  r.producer = new Producer({
    kinesis: p.clients.kinesis,
    streamName: p.names.streamName,
    maxInFlightRequests: 8,
  });
  await produce(
    source,
    {
      producer: r.producer,
      rate: options.rate ?? (options.events === undefined && options.input === undefined ? 2000 : undefined),
      loadProfile: options.loadProfile,
      injectDuplicates: options.injectDuplicates,
      signal: options.signal,
      onAccepted: (shardId, bytes, partitionKey) => r.manager?.recordWrite(shardId, bytes, partitionKey),
      onRejected: (message) => r.reporter?.note(`not published: ${message}`),
    },
    production,
  );
  if (production.error !== undefined)
    throw new Error(`the producer could not publish every record: ${production.error.message}`, {
      cause: production.error,
    });
}

/** Reads the final stores, verifies them against the model after a drain, writes the dumps, and sums up. */
async function finish(
  options: PipelineOptions,
  p: Provisioned,
  c: Consumers,
  source: Source,
  production: Production,
  timing: { readonly startedAt: number; readonly producedAt: number; readonly drained: boolean },
  scalingActions: readonly { kind: string; status: string; detail: string }[],
  manager: boolean,
): Promise<PipelineSummary> {
  const counted = c.workers.totals();
  const state = await scanState(p.clients.dynamodb, p.names.stateTable);
  const parked = await c.parkedStore.scanAll();
  const effectDifferences = c.audit?.verify(state) ?? [];
  let verification: Verification | undefined = timing.drained
    ? verifyAgainstModel(source.model, state, parked)
    : undefined;
  if (verification !== undefined && effectDifferences.length > 0)
    verification = {
      ...verification,
      verified: false,
      differences: [...effectDifferences.slice(0, 20), ...verification.differences],
      differenceCount: verification.differenceCount + effectDifferences.length,
    };
  if (options.dumpState !== undefined) await dumpState(options.dumpState, state);
  if (options.dumpParked !== undefined) await dumpParked(options.dumpParked, parked);
  const processingMs = Math.max(1, Date.now() - timing.producedAt);
  return {
    produced: production.produced,
    ...accountFor({
      produced: production.produced,
      duplicatesInjected: production.duplicatesInjected,
      counted,
      parked: parked.length,
      verifiedModel: verification?.verified === true ? source.model.counts : undefined,
      workers: c.workers.rows(),
    }),
    notPublished: production.rejected,
    quarantinedAggregates: [...state.values()].filter((s) => s.quarantined).length,
    aggregates: state.size,
    verified: verification?.verified ?? null,
    eventsPerSecond: Math.round((production.produced / processingMs) * 1000),
    latency: c.workers.latency().load(),
    durationMs: Date.now() - timing.startedAt,
    engine: p.endpoints.kinesisEngine,
    ...(manager ? { scalingActions } : {}),
    ...(verification !== undefined && !verification.verified
      ? { differences: verification.differences }
      : {}),
  };
}

/**
 * The whole local pipeline in one process, as its steps: provision (engines, tables and stream, the config
 * store), start the consumers (workers and the deferred sweep) and the cluster manager, publish the source's
 * records (the workload generator, or an input file), wait for the drain, and finish (read the stores,
 * verify them against the model, sum up). One teardown releases whatever was started, on every path.
 */
async function runPipeline(options: PipelineOptions): Promise<PipelineSummary> {
  const startedAt = Date.now();
  // The local runtime keeps metrics off (EMF would flood stdout) and logs only errors, on stderr.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const r = new RunResources();
  try {
    const p = await provision(options, r);
    const c = await startConsumers(options, p, r);
    const scalingActions: { kind: string; status: string; detail: string }[] = [];
    startManager(options, p, r, scalingActions);
    const source =
      options.input === undefined
        ? generatorSource({ ...options, projection: options.projection?.projection }, c.audit)
        : inputSource(options.input, p.config, options.projection?.projection);
    const production = new Production();
    const phase = { current: 'producing' };
    if (options.progress ?? true) r.reporter = startProgress(source, production, c.workers, phase);
    const producedAt = Date.now();
    const running: RunningPipeline = {
      pool: c.workers.pool,
      workers: c.workers,
      clients: p.clients,
      names: p.names,
      streamArn: p.streamArn,
      produced: () => production.produced,
      processed: () => c.workers.totals().records,
      signal: options.signal,
    };
    options.onRunning?.(running);
    const during = options.during?.(running);
    // Surfaces at the end of the run, not as an unhandled rejection meanwhile.
    during?.catch(() => {});
    let settled = during === undefined;
    void during?.finally(() => {
      settled = true;
    });
    await publishAll(options, p, r, source, production);
    const drained = options.untilDrained === true && !options.signal?.aborted;
    if (drained) {
      phase.current = 'draining';
      await waitForDrain({
        watch: new DrainWatch({ dynamodb: p.clients.dynamodb, names: p.names }),
        tips: production.tips,
        config: () => p.localConfig.source.current().config,
        settled: () => settled,
        timeoutMs: options.drainTimeoutMs ?? 600_000,
        signal: options.signal,
        noWorkerRunning: () => c.workers.pool !== undefined && c.workers.pool.running().length === 0,
        onPhase: (next) => {
          phase.current = next;
        },
        note: (message) => r.reporter?.note(message),
      });
    }
    await during;
    // Deferred changes being replayed after a resume belong to the run: let the sweep finish.
    await c.sweeping();
    const manager = r.manager !== undefined;
    await r.stopConsumers();
    return await finish(
      options,
      p,
      c,
      source,
      production,
      { startedAt, producedAt, drained: drained && !options.signal?.aborted },
      scalingActions,
      manager,
    );
  } finally {
    await r.release();
  }
}

export type { PipelineOptions, PipelineSummary, RunningPipeline };
export { runPipeline };
