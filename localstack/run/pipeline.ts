import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { type Config, type ConfigInput, parseConfig } from '../../core/config/schema.js';
import { ENV, METRICS } from '../../core/constants.js';
import type { MappingSettings } from '../../core/esm/settings.js';
import type { RecordOrigin } from '../../core/events/change.js';
import { compareSequenceNumbers } from '../../core/events/position.js';
import { type BatchStats, emptyStats } from '../../core/processing/batch-processor.js';
import { DeferredSweep } from '../../core/processing/deferred-sweep.js';
import { configuredProjection, type Projection } from '../../core/processing/projection.js';
import { ParkedReplayer } from '../../core/processing/replay.js';
import { type Accepted, Producer } from '../../core/producer/producer.js';
import { ParkedStore } from '../../core/state/parked-store.js';
import { StateStore } from '../../core/state/state-store.js';
import type { WorkerEvent } from '../../core/workers/events.js';
import type { WorkerTimings } from '../../core/workers/timings.js';
import { createDecoding } from '../../functions/consumer/create-handler.js';
import { createConfigFollowingHandler } from '../../functions/consumer/follow-config.js';
import type { LoadedProjection } from '../../projection-module/load.js';
import { type LocalClients, localClients } from '../clients.js';
import { type LocalConfig, startLocalConfig } from '../config/local-config.js';
import { type Endpoints, type KinesisEngine, startEngines } from '../engines/engines.js';
import { LocalClusterManager } from '../manager/local-cluster-manager.js';
import type { ResourceNames } from '../provision.js';
import { provisionFromTemplate } from '../template/index.js';
import { WORKLOAD_TABLES, WorkloadGenerator } from '../workload/generator.js';
import { type LoadProfileName, loadProfile } from '../workload/load-profile.js';
import { ExpectedModel } from '../workload/model.js';
import { countingProjection, EffectCounts } from './effect-audit.js';
import { readInput } from './input-source.js';
import { ProgressReporter, type ProgressSnapshot } from './progress.js';
import { type StateRow, scanState } from './state-scan.js';
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
  /** Write the final state as JSON Lines here. */
  readonly dumpState?: string;
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
  /** Called once the workers run (npm start serves `cdcp local workers` from here). */
  readonly onWorkers?: (group: WorkerGroup) => void;
  /**
   * The projection module the consumer, the deferred sweep and the model fold changes with (`--projection`);
   * worker processes load the same module and check its identity. @default the mirror
   */
  readonly projection?: LoadedProjection;
}

/** What `during` gets: the run's workers, clients and names, and how far production is. */
interface RunningPipeline {
  readonly pool: WorkerPool | undefined;
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

interface PipelineSummary {
  readonly produced: number;
  readonly applied: number;
  readonly duplicatesSkipped: number;
  readonly parked: number;
  readonly quarantinedAggregates: number;
  readonly aggregates: number;
  /** null when the run was not verified (no --until-drained, or stopped early). */
  readonly verified: boolean | null;
  readonly eventsPerSecond: number;
  readonly durationMs: number;
  readonly engine: string;
  /** What the local cluster manager did, when it ran. */
  readonly scalingActions?: readonly { kind: string; status: string; detail: string }[];
  readonly differences?: readonly string[];
}

/** The source of records: the workload generator, or an input file with a model derived from it. */
interface Source {
  readonly total: number | undefined;
  next(): { partitionKey: string; data: Buffer; afterAccepted?: (a: Accepted) => void } | undefined;
  readonly model: ExpectedModel;
}

function generatorSource(options: PipelineOptions, audit: EffectCounts | undefined): Source {
  const generator = new WorkloadGenerator({
    seed: options.seed,
    aggregates: options.aggregates,
    projection: options.projection?.projection,
    poison: options.injectPoison,
    poisonWithin: options.events === undefined ? undefined : Math.floor(options.events * 0.8),
  });
  return {
    total: options.events,
    model: generator.model,
    next: () => {
      if (options.events !== undefined && generator.produced >= options.events) return undefined;
      const event = generator.next();
      audit?.produced(event.change, event.poison);
      return { partitionKey: event.partitionKey, data: event.data };
    },
  };
}

/** The tables whose changes the config defers now ("public.orders (paused)", or "low-priority tables (shedding)"), if any. */
function deferredTables(config: Config): string | undefined {
  const paused = Object.keys(config.tables).filter((t) => config.tables[t]?.paused === true);
  const shedding =
    config.shedding.active && config.shedding.deferPriorities.length > 0
      ? [`tables of priority ${config.shedding.deferPriorities.join(', ')} (shedding)`]
      : [];
  const all = [...paused.map((t) => `${t} (paused)`), ...shedding];
  return all.length === 0 ? undefined : all.join(', ');
}

/**
 * Input files carry no model: decode each record as the consumer will (after it is accepted, so formats that
 * fall back to the Kinesis sequence number get their real position) and fold the changes in source order.
 */
function inputSource(path: string, config: Config, projection: Projection | undefined): Source {
  const records = readInput(path);
  const { registry, context } = createDecoding(config);
  const model = new ExpectedModel({ projection });
  let index = 0;
  const originOf = (partitionKey: string, accepted?: Accepted): RecordOrigin => ({
    shardId: accepted?.shardId ?? 'shardId-000000000000',
    sequenceNumber: accepted?.sequenceNumber ?? '0',
    subSequenceNumber: accepted?.subSequenceNumber ?? 0,
    partitionKey,
    approximateArrivalTimestamp: Date.now(),
  });
  return {
    total: records.length,
    model,
    next: () => {
      const record = records[index++];
      if (record === undefined) return undefined;
      let partitionKey = record.partitionKey;
      if (partitionKey === undefined) {
        try {
          partitionKey = registry.decode(record.data, originOf('input'), context).changes[0]?.aggregateId;
        } catch {
          // Bad input: published under its own key, and the consumer parks it.
        }
        partitionKey ??= `input-${index}`;
      }
      const key = partitionKey;
      return {
        partitionKey: key,
        data: record.data,
        afterAccepted: (accepted) => {
          try {
            for (const change of registry.decode(record.data, originOf(key, accepted), context).changes)
              model.apply(change);
          } catch {
            // Parked by the consumer as bad input.
          }
        },
      };
    },
  };
}

/**
 * The whole local pipeline in one process: embedded engines, tables and stream, the workload generator (or an
 * input file), the producer, the local event source mapping and the consumer handler; then, with
 * `untilDrained`, verification of the state table against the model.
 */
async function runPipeline(options: PipelineOptions): Promise<PipelineSummary> {
  const started = Date.now();
  // The local runtime keeps metrics off (EMF would flood stdout) and logs only errors, on stderr.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const engines =
    options.endpoints === undefined
      ? await startEngines({ kinesisEngine: options.kinesisEngine })
      : undefined;
  const endpoints = options.endpoints ?? engines!.endpoints;
  const clients = localClients(endpoints);
  const progressOn = options.progress ?? true;
  let reporter: ProgressReporter | undefined;
  let workers: WorkerGroup | undefined;
  let producer: Producer | undefined;
  let localConfig: LocalConfig | undefined;
  let manager: LocalClusterManager | undefined;
  let lagFeed: NodeJS.Timeout | undefined;
  const scalingActions: { kind: string; status: string; detail: string }[] = [];
  let unsubscribeConfig: (() => void) | undefined;
  try {
    // Tables, stream and mapping settings come from the synthesized CDK template, so local runs and the
    // cloud cannot drift; flags given on the command line override the template's values.
    const provisioned = await provisionFromTemplate(clients, {
      prefix: options.prefix ?? 'cdcp-local',
      shardCount: options.shards,
    });
    const { names, streamArn } = provisioned;
    const mappingSettings: Partial<MappingSettings> = { ...provisioned.mapping };
    for (const [key, value] of Object.entries(options.mapping ?? {}))
      if (value !== undefined) (mappingSettings as Record<string, unknown>)[key] = value;
    const poison = options.injectPoison ?? 0;
    const config = parseConfig({
      ...options.config,
      processing: {
        ...options.config?.processing,
        faultInjection: poison > 0 || options.config?.processing?.faultInjection,
      },
      tables: { ...WORKLOAD_TABLES, ...options.config?.tables },
    });
    // The run publishes its starting config to a watched local store: `cdcp config set` changes it while the
    // run goes on, and the consumer applies each new version at its next batch. One store per run, so that
    // runs side by side (tests, two terminals) never read each other's settings.
    const configFile =
      options.configFile ??
      process.env[ENV.CONFIG_FILE] ??
      join('.cdcp', `config-${names.streamName}-${process.pid}.json`);
    localConfig = await startLocalConfig({ initial: config, path: configFile });
    options.onReady?.({ endpoints, names, config, configFile: localConfig.store.path });

    const totals: BatchStats = emptyStats();
    const parkedStore = new ParkedStore({ client: clients.dynamodb, tableName: names.parkedTable });
    const audit = options.auditEffects === true ? new EffectCounts() : undefined;
    const handler = createConfigFollowingHandler({
      projection: audit === undefined ? options.projection?.projection : countingProjection,
      dynamodb: clients.dynamodb,
      stateTable: names.stateTable,
      parkedTable: names.parkedTable,
      configSource: localConfig.source,
      logger: new Logger({
        serviceName: METRICS.service,
        logLevel: (process.env.LOG_LEVEL as 'ERROR' | undefined) ?? 'CRITICAL',
      }),
      metrics: new Metrics({ namespace: METRICS.namespace, serviceName: METRICS.service }),
      onBatch: ({ stats }) => {
        for (const key of Object.keys(totals) as (keyof BatchStats)[]) totals[key] += stats[key];
      },
    });
    workers = await startWorkerGroup({
      workers: options.workers ?? 0,
      clients,
      endpoints,
      names,
      streamArn,
      mapping: mappingSettings,
      config,
      currentConfig: () => localConfig!.source.current().config,
      configFile: localConfig.store.path,
      handler,
      totals,
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
        reporter?.note(
          `worker ${row.id} (pid ${row.pid}) exited unexpectedly with ${row.exit?.signal ?? `code ${row.exit?.code}`}; its leases go to the others. Last output:\n${output.trim().split('\n').slice(-5).join('\n')}`,
        ),
      onError: (error, shardId) => {
        if (process.env.LOG_LEVEL !== undefined)
          process.stderr.write(`mapping ${shardId}: ${error.message}\n`);
      },
    });
    options.onWorkers?.(workers);
    // A resumed table (or lifted shedding) replays what was deferred, in order per aggregate. Aggregates that
    // get a new change resume inline in the consumer; this sweeps the others. One sweep at a time.
    const stateStore = new StateStore({
      client: clients.dynamodb,
      tableName: names.stateTable,
      tombstoneTtlSeconds: config.processing.tombstoneTtlSeconds,
    });
    const deferredSweep = new DeferredSweep({
      replayDeferred: (isDeferred) =>
        new ParkedReplayer({
          stateStore,
          parkedStore,
          projection: configuredProjection(
            localConfig!.source.current().config,
            options.projection?.projection,
          ),
        }).replayDeferred(isDeferred),
    });
    let sweeping: Promise<unknown> = Promise.resolve();
    unsubscribeConfig = localConfig.source.subscribe((next) => {
      sweeping = deferredSweep
        .sweepIfDue(next.config)
        .then((report) => {
          if (report !== undefined && report.aggregates > 0)
            reporter?.note(`resumed ${report.aggregates} deferred aggregate(s)`);
        })
        .catch((error: Error) => reporter?.note(`replaying deferred changes failed: ${error.message}`));
    });
    producer = new Producer({
      kinesis: clients.kinesis,
      streamName: names.streamName,
      maxInFlightRequests: 8,
    });

    const source =
      options.input === undefined
        ? generatorSource(options, audit)
        : inputSource(options.input, config, options.projection?.projection);
    let produced = 0;
    const tips = new Map<string, string>();
    const snapshot = (phase: string) => (): ProgressSnapshot => {
      const counted = workers!.totals();
      return {
        produced,
        target: source.total,
        applied: counted.applied,
        duplicates: counted.duplicates,
        parked: counted.parked,
        processed: counted.records,
        lagMs: workers!.lagMs(),
        phase,
        workers: workers!.pool === undefined ? undefined : workers!.rows(),
      };
    };
    let phase = 'producing';
    if (progressOn) {
      reporter = new ProgressReporter({ snapshot: () => snapshot(phase)() });
      reporter.start();
    }

    // Produce with backpressure: at most `window` records waiting in the producer.
    const window = 5000;
    const rate =
      options.rate ?? (options.events === undefined && options.input === undefined ? 2000 : undefined);
    const rateAt =
      options.loadProfile === undefined
        ? undefined
        : loadProfile(options.loadProfile, { baseRate: options.rate ?? 200 });
    let due = Date.now();
    const managerOptions =
      options.clusterManager === true ||
      (options.clusterManager === undefined && options.loadProfile !== undefined)
        ? {}
        : options.clusterManager === false || options.clusterManager === undefined
          ? undefined
          : options.clusterManager;
    if (managerOptions !== undefined) {
      const started = new LocalClusterManager({
        kinesis: clients.kinesis,
        dynamodb: clients.dynamodb,
        streamName: names.streamName,
        coordinationTable: names.coordinationTable,
        config: () => localConfig!.source.current().config,
        publisher: localConfig.store,
        intervalMs: managerOptions.intervalMs,
        recordsPerShard: managerOptions.recordsPerShard,
        onRound: (round) => {
          for (const o of round.outcomes) {
            scalingActions.push({ kind: o.action.kind, status: o.status, detail: o.detail });
            reporter?.note(`cluster manager: ${o.action.kind} ${o.status}: ${o.detail}`);
          }
        },
        onError: (error) => reporter?.note(`cluster manager: ${error.message}`),
      });
      manager = started;
      started.start();
      lagFeed = setInterval(() => started.metrics.recordIteratorAge(workers!.lagMs(), Date.now()), 1000);
    }
    const duplicates = options.injectDuplicates ?? 0;
    const recent: { partitionKey: string; data: Buffer }[] = [];
    const random = Math.random;
    const inflight = new Set<Promise<unknown>>();
    // One waiter for a free slot: racing every in-flight publish would attach a reaction to each of them per
    // record while the producer is behind, which grows without bound when Kinesis is slow.
    let slotFreed: (() => void) | undefined;
    let publishError: Error | undefined;
    const track = (record: { partitionKey: string; data: Buffer; afterAccepted?: (a: Accepted) => void }) => {
      produced++;
      const p = producer!
        .publish([{ partitionKey: record.partitionKey, data: record.data }])
        .then(([accepted]) => {
          const tip = tips.get(accepted!.shardId);
          if (tip === undefined || compareSequenceNumbers(accepted!.sequenceNumber, tip) > 0)
            tips.set(accepted!.shardId, accepted!.sequenceNumber);
          manager?.recordWrite(accepted!.shardId, record.data.byteLength, record.partitionKey);
          record.afterAccepted?.(accepted!);
        })
        .catch((error: Error) => {
          publishError ??= error;
        })
        .finally(() => {
          inflight.delete(p);
          const wake = slotFreed;
          slotFreed = undefined;
          wake?.();
        });
      inflight.add(p);
    };
    const producedAt = Date.now();
    const during = options.during?.({
      pool: workers.pool,
      clients,
      names,
      streamArn,
      produced: () => produced,
      processed: () => workers!.totals().records,
      signal: options.signal,
    });
    // Surfaces at the end of the run, not as an unhandled rejection meanwhile.
    during?.catch(() => {});
    for (;;) {
      if (options.signal?.aborted || publishError !== undefined) break;
      const record = source.next();
      if (record === undefined) break;
      track(record);
      if (duplicates > 0) {
        recent.push({ partitionKey: record.partitionKey, data: record.data });
        if (recent.length > 5000) recent.splice(0, recent.length - 5000);
        // A redelivery of a recent record: soon (a plain duplicate) or much later (a late, older duplicate).
        if (random() < duplicates) track(recent[Math.floor(random() * recent.length)]!);
      }
      while (producer.stats.pending >= window && inflight.size > 0)
        await new Promise<void>((resolve) => {
          slotFreed = resolve;
        });
      if (rateAt !== undefined) {
        due += 1000 / rateAt(Date.now() - producedAt);
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      } else if (rate !== undefined) {
        const dueAt = producedAt + (produced / rate) * 1000;
        if (dueAt > Date.now()) await new Promise((r) => setTimeout(r, dueAt - Date.now()));
      }
    }
    await Promise.all(inflight);
    if (publishError !== undefined)
      throw new Error(`the producer could not publish every record: ${publishError.message}`, {
        cause: publishError,
      });

    let verification: Verification | undefined;
    if (options.untilDrained && !options.signal?.aborted) {
      phase = 'draining';
      const deadline = Date.now() + (options.drainTimeoutMs ?? 600_000);
      // The shard leases' checkpoints tell, whichever worker holds each shard now.
      const watch = new DrainWatch({ dynamodb: clients.dynamodb, names });
      let settled = during === undefined;
      void during?.finally(() => {
        settled = true;
      });
      let waitingOn: string | undefined;
      for (;;) {
        if (options.signal?.aborted) break;
        if (settled && (await watch.drained(tips))) {
          // Changes of a paused (or shed) table wait in the parked store: the run is not done until they are
          // replayed, which takes a `cdcp config set` that resumes the table (or the manager lifting shedding).
          const deferred = deferredTables(localConfig.source.current().config);
          if (deferred === undefined) break;
          if (deferred !== waitingOn)
            reporter?.note(
              `every record is read; changes of ${deferred} wait as DEFERRED in the parked store: resume with \`cdcp config set\` to finish the run`,
            );
          waitingOn = deferred;
          phase = 'waiting for resume';
        }
        if (Date.now() > deadline)
          throw new Error(
            `the run did not drain within ${options.drainTimeoutMs ?? 600_000} ms` +
              (workers.pool !== undefined && workers.pool.running().length === 0
                ? ': no worker is running (add one with `cdcp local workers add`)'
                : waitingOn === undefined
                  ? ''
                  : `: changes of ${waitingOn} stayed deferred (resume with \`cdcp config set\`)`),
          );
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await during;
    const durationMs = Date.now() - started;
    const processingMs = Math.max(1, Date.now() - producedAt);
    const drainedOk = options.untilDrained === true && !options.signal?.aborted;
    // Deferred changes being replayed after a resume belong to the run: let the sweep finish.
    await sweeping;
    clearInterval(lagFeed);
    await manager?.stop();
    await workers.stop();
    const counted = workers.totals();
    reporter?.stop();
    reporter = undefined;

    const state = await scanState(clients.dynamodb, names.stateTable);
    const parked = await parkedStore.scanAll();
    const effectDifferences = audit?.verify(state) ?? [];
    if (drainedOk) verification = verifyAgainstModel(source.model, state, parked);
    if (verification !== undefined && effectDifferences.length > 0)
      verification = {
        ...verification,
        verified: false,
        differences: [...effectDifferences.slice(0, 20), ...verification.differences],
        differenceCount: verification.differenceCount + effectDifferences.length,
      };
    if (options.dumpState !== undefined) await dumpState(options.dumpState, state);
    return {
      produced,
      applied: counted.applied,
      duplicatesSkipped: counted.duplicates,
      parked: parked.length,
      quarantinedAggregates: [...state.values()].filter((s) => s.quarantined).length,
      aggregates: state.size,
      verified: verification?.verified ?? null,
      eventsPerSecond: Math.round((produced / processingMs) * 1000),
      durationMs,
      engine: endpoints.kinesisEngine,
      ...(manager === undefined ? {} : { scalingActions }),
      ...(verification !== undefined && !verification.verified
        ? { differences: verification.differences }
        : {}),
    };
  } finally {
    clearInterval(lagFeed);
    await manager?.stop();
    reporter?.stop();
    producer?.close();
    await workers?.stop();
    unsubscribeConfig?.();
    await localConfig?.close();
    if (
      localConfig !== undefined &&
      options.configFile === undefined &&
      process.env[ENV.CONFIG_FILE] === undefined
    )
      for (const suffix of ['', '.history.jsonl', '.lock'])
        await rm(`${localConfig.store.path}${suffix}`, { force: true });
    clients.destroy();
    await engines?.stop();
  }
}

/** `--dump-state`: one JSON line per aggregate, sorted by id. */
async function dumpState(path: string, state: ReadonlyMap<string, StateRow>): Promise<void> {
  const lines = [...state.values()]
    .sort((a, b) => (a.aggregateId < b.aggregateId ? -1 : 1))
    .map(
      (r) =>
        `${JSON.stringify({ aggregateId: r.aggregateId, deleted: r.deleted, position: r.position, state: r.state })}\n`,
    )
    .join('');
  if (path === '-') process.stdout.write(lines);
  else await writeFile(path, lines);
}

export type { PipelineOptions, PipelineSummary, RunningPipeline };
export { runPipeline };
