/**
 * `npm run bench -- scale-out`: the same workload processed by 1, 2, 4 and 8 `cdcp worker` processes, for the
 * built-in mirror (CPU-bound: this machine's two cores and its one DynamoDB Local cap it) and for an I/O-bound
 * projection that waits 20 ms per aggregate (bench/lib/scale-out/io-projection.ts; the cores are not the limit).
 * For each: events/s over a window of a backlog, scaling efficiency T(n) / (n · T(1)), source-to-applied
 * latency p50 / p99 at half that rate, coordination requests per second per worker, CPU per event (workers and
 * engines). Then, on kinesis-mock, a steady run through a join, a graceful leave (SIGTERM) and UpdateShardCount,
 * with the largest gap in applied events and the latency around each change against the steady level. Prints
 * the targets met or missed, writes bench/results/scale-out.json and two SVG charts.
 *
 * The throughput and latency runs choose aggregates uniformly, so that every shard carries the same load and the
 * figures measure the processor; the default Zipf skew (the hottest of 16 shards carries about a quarter of the
 * events) caps any consumer's scaling once the colder shards drain, and the benchmark prints that cap apart.
 *
 * SCALE_OUT_QUICK=1 runs small sizes (1 and 2 workers, short windows); SCALE_OUT_IO_DELAY_MS sets the wait;
 * SCALE_OUT_ZIPF sets the skew of the aggregate choice (default 0: uniform; the generator's default is 1.1);
 * SCALE_OUT_ONLY=io (or mirror, or changes) runs one part; SCALE_OUT_TRACE=1 logs every lease event.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DeleteStreamCommand, UpdateShardCountCommand } from '@aws-sdk/client-kinesis';
import { parseConfig } from '../core/config/schema.js';
import { DynamoDbCoordinationStore, LeaseClient, shardLeaseKey } from '../core/coordination/index.js';
import { splitLeases } from '../core/workers/shard-lease.js';
import { type LocalClients, localClients } from '../localstack/clients.js';
import { type Endpoints, startEngines, startKinesisMock } from '../localstack/engines/engines.js';
import { provision, resourceNames } from '../localstack/provision.js';
import { WorkerPool } from '../localstack/run/worker-pool.js';
import { WORKLOAD_TABLES, WorkloadGenerator } from '../localstack/workload/generator.js';
import { loadProjectionModule } from '../projection-module/load.js';
import { markdownTable, writeResult } from './lib/results.js';
import { CpuMeter } from './lib/scale-out/cpu.js';
import { BenchProducer } from './lib/scale-out/producer.js';
import { shardShares, skewCaps } from './lib/scale-out/skew.js';
import { SourceToApplied } from './lib/scale-out/source-to-applied.js';
import { svgChart } from './lib/scaling/svg-chart.js';

const QUICK = process.env.SCALE_OUT_QUICK !== undefined;
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const IO_PROJECTION = fileURLToPath(new URL('./lib/scale-out/io-projection.ts', import.meta.url));
const IO_DELAY_MS = Number(process.env.SCALE_OUT_IO_DELAY_MS ?? 20);
/** Zipf exponent of the aggregate choice in the throughput and latency runs: 0 spreads the load evenly. */
const ZIPF = Number(process.env.SCALE_OUT_ZIPF ?? 0);
/** The generator's own default, whose skew the benchmark reports as a cap. */
const DEFAULT_ZIPF = 1.1;
const SEED = 42;
const LEASE_MS = 4_500;
const SHARDS = 16;
const WORKER_COUNTS = QUICK ? [1, 2] : [1, 2, 4, 8];
/**
 * Records per batch. The I/O-bound projection blocks its worker's thread for each aggregate of a batch and a
 * worker interleaves its shards' batches, so one worker on 16 shards finishes its batches together, once every
 * `16 × batch × 20 ms`: batches of 20 keep that cycle (6.4 s) well inside the window and the latency low, as a
 * team running a projection that calls another service would set them. (Batches of 10 cost the workers 3 ms of
 * CPU per event, enough for 8 workers to reach the 2 cores' limit.)
 */
const BATCH_SIZE = { mirror: 100, io: 20 } as const;
/** Throughput is measured over this window of a backlog, once every shard has settled on its owner. */
const WINDOW_MS = { mirror: QUICK ? 8_000 : 20_000, io: QUICK ? 10_000 : 30_000 } as const;
/** Latency is measured at half the measured throughput over this window, after a warm-up. */
const LATENCY_MS = QUICK ? 8_000 : 20_000;
const WARM_UP_MS = 5_000;
/** First guesses of one worker's events/s, to size the first backlog (later ones scale the measured rate). */
const FIRST_GUESS = { mirror: 2_000, io: 50 } as const;
/** The membership-change run on kinesis-mock: shards before and after UpdateShardCount, rate, windows. */
const CHANGES = {
  shards: 4,
  reshardTo: 8,
  workers: 3,
  eventsPerSecond: QUICK ? 60 : 100,
  steadyMs: QUICK ? 10_000 : 20_000,
  afterChangeMs: QUICK ? 12_000 : 20_000,
  afterReshardMs: QUICK ? 20_000 : 40_000,
};

type Projection = 'mirror' | 'io';

interface Point {
  readonly projection: Projection;
  readonly workers: number;
  readonly eventsPerSecond: number;
  /** The backlog ran out inside the window: the rate is a lower bound. */
  readonly backlogExhausted: boolean;
  readonly latencyAtRate: number;
  readonly latency: {
    readonly p50: number;
    readonly p99: number;
    readonly max: number;
    readonly count: number;
  };
  /** Coordination requests per second per worker (mean) while processing the half-rate load, and per 1,000 events. */
  readonly coordinationPerWorker: number;
  /** The same without the checkpoints (one conditional write per processed chunk). */
  readonly coordinationPerWorkerWithoutCheckpoints: number;
  readonly coordinationPer1kEvents: number;
  readonly checkpointsPerSecond: number;
  /** CPU milliseconds per event over the throughput window: the workers, and the engines (DynamoDB Local, kinesalite). */
  readonly cpuMsPerEvent: { readonly workers: number; readonly engines: number };
  /** Share of the machine's cores the workers, the engines and this process used over the throughput window. */
  readonly coresUsed: {
    readonly workers: number;
    readonly dynamodb: number;
    readonly kinesis: number;
    readonly bench: number;
  };
}

const log = (message: string) => process.stderr.write(`${message}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  limitMs: number,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`scale-out: ${what} did not happen within ${limitMs} ms`);
    await sleep(250);
  }
}

/** Waits until every shard is read by a running worker with no hand-off pending, unchanged for `quietMs`. */
async function settled(leases: LeaseClient, pk: string, pool: WorkerPool, shards: number, quietMs = 3_000) {
  let last = '';
  let since = Date.now();
  await waitFor(
    'the shards to settle on their owners',
    async () => {
      const { shards: held } = splitLeases(await leases.list(pk));
      const running = new Set(pool.running().map((r) => r.id));
      const key = JSON.stringify(held.map((s) => [s.shardId, s.record.owner, s.record.pendingOwner]));
      if (key !== last) {
        last = key;
        since = Date.now();
      }
      const ok =
        held.filter((s) => !s.data.ended).length >= shards &&
        held.every(
          (s) =>
            s.data.ended ||
            (s.record.owner !== undefined &&
              running.has(s.record.owner) &&
              s.record.pendingOwner === undefined),
        );
      return ok && Date.now() - since >= quietMs;
    },
    120_000,
  );
}

/** Coordination requests every running worker has sent so far, summed, and per worker. */
function coordinationRequests(pool: WorkerPool): Map<string, number> {
  return new Map(pool.running().map((r) => [r.id, pool.stats(r.id)?.coordinationRequests ?? 0]));
}

/** A fleet of `cdcp worker` processes on a fresh stream, settled before any load, with its tracker. */
async function fleet(
  clients: LocalClients,
  endpoints: Endpoints,
  projection: Projection,
  workers: number,
  label: string,
) {
  const names = resourceNames(`so-${label}-${Date.now()}`);
  const { streamArn } = await provision(clients, names, { shardCount: SHARDS });
  const tracker = new SourceToApplied();
  const producer = new BenchProducer(
    clients.kinesis,
    names.streamName,
    new WorkloadGenerator({ seed: SEED, zipfExponent: ZIPF }),
    tracker,
  );
  const checkpoints: number[] = [];
  const pool = new WorkerPool({
    spec: {
      endpoints,
      names,
      streamArn,
      config: parseConfig({
        leases: { failureDetectionMs: LEASE_MS },
        // A projection whose apply blocks (it waits on another service) runs one aggregate at a time per batch:
        // with 32, a worker of 16 shards held its thread for seconds between heartbeats and lost its leases.
        processing: projection === 'io' ? { aggregateConcurrency: 1 } : {},
        tables: WORKLOAD_TABLES,
      }),
      mapping: { batchSize: BATCH_SIZE[projection] },
      reportInvocations: true,
      ...(projection === 'io' ? { projection: (await loadProjectionModule(IO_PROJECTION)).identity } : {}),
    },
    onEvent: (workerId, event, atWallMs) => {
      if (process.env.SCALE_OUT_TRACE !== undefined && event.type !== 'checkpointed')
        log(`    ${new Date(atWallMs).toISOString().slice(11, 23)} ${workerId} ${JSON.stringify(event)}`);
      if (event.type !== 'checkpointed') return;
      checkpoints.push(atWallMs);
      tracker.checkpointed(event.shardId, event.checkpoint, atWallMs);
    },
  });
  const leases = new LeaseClient({
    store: new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: names.coordinationTable }),
  });
  await Promise.all(Array.from({ length: workers }, () => pool.add()));
  await settled(leases, shardLeaseKey(names.streamName, '-').pk, pool, SHARDS);
  // kinesalite holds at most 100 shards: each measurement's stream goes once its workers are gone.
  const deleteStream = () =>
    clients.kinesis.send(new DeleteStreamCommand({ StreamName: names.streamName })).then(() => undefined);
  return { pool, tracker, producer, checkpoints, deleteStream };
}

async function measure(
  clients: LocalClients,
  engines: { endpoints: Endpoints; pids: { dynamodb: number; kinesis: number } },
  projection: Projection,
  workers: number,
  expectedEventsPerSecond: number,
): Promise<Point> {
  // Throughput: workers settled on their shards, then a backlog; records applied over a window of it.
  const a = await fleet(clients, engines.endpoints, projection, workers, `${projection}-${workers}-rate`);
  let eventsPerSecond: number;
  let processed: number;
  let seconds: number;
  let backlogExhausted: boolean;
  let cpu: { workers: number; dynamodb: number; kinesis: number; bench: number };
  try {
    const backlog = Math.ceil(
      expectedEventsPerSecond * ((WINDOW_MS[projection] + WARM_UP_MS) / 1000 + 10) * 1.5,
    );
    log(`  ${projection}, ${workers} worker(s): a backlog of ${backlog} events...`);
    await a.producer.backlog(backlog);
    await sleep(WARM_UP_MS);
    const meters = {
      workers: new CpuMeter(a.pool.running().map((r) => r.pid)),
      dynamodb: new CpuMeter([engines.pids.dynamodb]),
      kinesis: new CpuMeter([engines.pids.kinesis]),
      bench: process.cpuUsage(),
    };
    const [applied0, t0] = [a.tracker.appliedCount, Date.now()];
    await sleep(WINDOW_MS[projection]);
    const [applied1, t1] = [a.tracker.appliedCount, Date.now()];
    seconds = (t1 - t0) / 1000;
    processed = applied1 - applied0;
    eventsPerSecond = processed / seconds;
    const bench = process.cpuUsage(meters.bench);
    cpu = {
      workers: meters.workers.seconds(),
      dynamodb: meters.dynamodb.seconds(),
      kinesis: meters.kinesis.seconds(),
      bench: (bench.user + bench.system) / 1e6,
    };
    backlogExhausted = a.tracker.publishedCount - applied1 <= 0;
    log(`    ${Math.round(eventsPerSecond)} events/s${backlogExhausted ? ' (the backlog ran out)' : ''}`);
  } finally {
    // What is left of the backlog is of no interest: no graceful hand-off to wait for.
    await Promise.all(a.pool.running().map((r) => a.pool.kill(r.id)));
    await a.deleteStream();
  }

  // Latency and coordination at half that rate, on a fresh stream.
  const b = await fleet(clients, engines.endpoints, projection, workers, `${projection}-${workers}-latency`);
  try {
    const rate = Math.max(1, Math.round(eventsPerSecond / 2));
    b.producer.steady(rate);
    await sleep(WARM_UP_MS);
    const requests0 = coordinationRequests(b.pool);
    const [from, checkpointsFrom] = [Date.now(), b.checkpoints.length];
    await sleep(LATENCY_MS);
    const to = Date.now();
    const requests1 = coordinationRequests(b.pool);
    const checkpointsTo = b.checkpoints.length;
    await b.producer.stop();
    await waitFor(
      'the steady records to be applied',
      () => b.tracker.appliedCount >= b.tracker.publishedCount,
      120_000,
    );
    const latency = b.tracker.summary(from, to);
    const coordination = [...requests1].reduce((sum, [id, n]) => sum + n - (requests0.get(id) ?? n), 0);
    const phaseSeconds = (to - from) / 1000;
    const cores = availableParallelism();
    log(`    at ${rate} events/s: latency p50 ${latency.p50} ms, p99 ${latency.p99} ms`);
    return {
      projection,
      workers,
      eventsPerSecond,
      backlogExhausted,
      latencyAtRate: rate,
      latency,
      coordinationPerWorker: coordination / workers / phaseSeconds,
      coordinationPerWorkerWithoutCheckpoints:
        (coordination - (checkpointsTo - checkpointsFrom)) / workers / phaseSeconds,
      coordinationPer1kEvents: (1000 * coordination) / Math.max(1, latency.count),
      checkpointsPerSecond: (checkpointsTo - checkpointsFrom) / phaseSeconds,
      cpuMsPerEvent: {
        workers: (1000 * cpu.workers) / Math.max(1, processed),
        engines: (1000 * (cpu.dynamodb + cpu.kinesis)) / Math.max(1, processed),
      },
      coresUsed: {
        workers: cpu.workers / seconds / cores,
        dynamodb: cpu.dynamodb / seconds / cores,
        kinesis: cpu.kinesis / seconds / cores,
        bench: cpu.bench / seconds / cores,
      },
    };
  } finally {
    await b.producer.stop().catch(() => undefined);
    await b.pool.stopAll();
    await b.deleteStream();
  }
}

interface Change {
  readonly change: 'add a worker' | 'remove a worker (SIGTERM)' | `reshard ${number} → ${number}`;
  readonly atMs: number;
  readonly windowMs: number;
  readonly zeroSeconds: number;
  readonly minAppliedPerSecond: number;
  readonly p99: number;
  readonly max: number;
}

/** A steady run on kinesis-mock through a join, a graceful leave and UpdateShardCount. */
async function membershipChanges(clients: LocalClients, endpoints: Endpoints) {
  const names = resourceNames(`so-changes-${Date.now()}`);
  const { streamArn } = await provision(clients, names, { shardCount: CHANGES.shards });
  const tracker = new SourceToApplied();
  const producer = new BenchProducer(
    clients.kinesis,
    names.streamName,
    new WorkloadGenerator({ seed: 7 }),
    tracker,
  );
  const pool = new WorkerPool({
    spec: {
      endpoints,
      names,
      streamArn,
      config: parseConfig({ leases: { failureDetectionMs: LEASE_MS }, tables: WORKLOAD_TABLES }),
      mapping: { batchSize: 100 },
      reportInvocations: true,
    },
    onEvent: (_, event, atWallMs) => {
      if (event.type === 'checkpointed') tracker.checkpointed(event.shardId, event.checkpoint, atWallMs);
    },
  });
  const leases = new LeaseClient({
    store: new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: names.coordinationTable }),
  });
  const changes: { change: Change['change']; atMs: number; windowMs: number }[] = [];
  try {
    for (let i = 0; i < CHANGES.workers; i++) await pool.add();
    await settled(leases, shardLeaseKey(names.streamName, '-').pk, pool, CHANGES.shards);
    producer.steady(CHANGES.eventsPerSecond);
    await sleep(WARM_UP_MS * 2);
    const steadyFrom = Date.now();
    await sleep(CHANGES.steadyMs);
    const steadyTo = Date.now();
    log('  a worker joins...');
    changes.push({ change: 'add a worker', atMs: Date.now(), windowMs: CHANGES.afterChangeMs });
    await pool.add();
    await sleep(CHANGES.afterChangeMs);
    log('  a worker leaves (SIGTERM)...');
    const leaver = pool.running().find((r) => !r.assigner)!;
    changes.push({ change: 'remove a worker (SIGTERM)', atMs: Date.now(), windowMs: CHANGES.afterChangeMs });
    await pool.remove(leaver.id);
    await sleep(CHANGES.afterChangeMs);
    log(`  UpdateShardCount ${CHANGES.shards} → ${CHANGES.reshardTo}...`);
    changes.push({
      change: `reshard ${CHANGES.shards} → ${CHANGES.reshardTo}`,
      atMs: Date.now(),
      windowMs: CHANGES.afterReshardMs,
    });
    await clients.kinesis.send(
      new UpdateShardCountCommand({
        StreamName: names.streamName,
        TargetShardCount: CHANGES.reshardTo,
        ScalingType: 'UNIFORM_SCALING',
      }),
    );
    await sleep(CHANGES.afterReshardMs);
    await producer.stop();
    await waitFor('every record applied', () => tracker.appliedCount >= tracker.publishedCount, 180_000);
    const steady = { ...tracker.summary(steadyFrom, steadyTo), ...tracker.stalls(steadyFrom, steadyTo) };
    const measured: Change[] = changes.map((c) => {
      const from = c.atMs - 2_000;
      const to = c.atMs + c.windowMs;
      const { p99, max } = tracker.summary(from, to);
      return { ...c, ...tracker.stalls(from, to), p99, max };
    });
    return {
      steady,
      steadyFrom,
      changes: measured,
      tracker,
      endMs: changes.at(-1)!.atMs + CHANGES.afterReshardMs,
    };
  } finally {
    await producer.stop().catch(() => undefined);
    await pool.stopAll();
  }
}

const WORKER_TICKS = [1, 2, 4, 8];

function scalingChart(points: readonly Point[]): string {
  const byProjection = (p: Projection) => points.filter((x) => x.projection === p);
  const mirror = byProjection('mirror');
  const io = byProjection('io');
  const counts = mirror.map((p) => p.workers);
  const ideal = (ps: readonly Point[]) => ps.map((p) => p.workers * ps[0]!.eventsPerSecond);
  return svgChart(
    `Scale-out: the same workload on 1–${counts.at(-1)} cdcp worker processes (2 cores, one DynamoDB Local)`,
    counts,
    [
      {
        title: 'throughput over a backlog',
        unit: 'events/s',
        series: [
          {
            label: 'mirror (CPU-bound)',
            color: '#1f77b4',
            values: mirror.map((p) => p.eventsPerSecond),
            width: 2,
          },
          { label: 'mirror, linear', color: '#1f77b4', values: ideal(mirror), dashed: true },
          {
            label: `I/O-bound (${IO_DELAY_MS} ms per aggregate)`,
            color: '#ff7f0e',
            values: io.map((p) => p.eventsPerSecond),
            width: 2,
          },
          { label: 'I/O-bound, linear', color: '#ff7f0e', values: ideal(io), dashed: true },
        ],
      },
      {
        title: 'scaling efficiency T(n) / (n · T(1))',
        unit: 'ratio',
        series: [
          {
            label: 'mirror',
            color: '#1f77b4',
            values: mirror.map((p) => p.eventsPerSecond / (p.workers * mirror[0]!.eventsPerSecond)),
          },
          {
            label: 'I/O-bound',
            color: '#ff7f0e',
            values: io.map((p) => p.eventsPerSecond / (p.workers * io[0]!.eventsPerSecond)),
          },
          {
            label: 'target 0.9 (I/O-bound, 8)',
            color: '#7f7f7f',
            values: counts.map(() => 0.9),
            dashed: true,
          },
        ],
      },
      {
        title: 'source-to-applied latency at half the throughput',
        unit: 'ms',
        series: [
          { label: 'mirror p50', color: '#aec7e8', values: mirror.map((p) => p.latency.p50) },
          { label: 'mirror p99', color: '#1f77b4', values: mirror.map((p) => p.latency.p99) },
          { label: 'I/O-bound p50', color: '#ffbb78', values: io.map((p) => p.latency.p50) },
          { label: 'I/O-bound p99', color: '#ff7f0e', values: io.map((p) => p.latency.p99) },
        ],
      },
      {
        title: 'coordination requests per worker under that load',
        unit: 'requests/s',
        series: [
          { label: 'mirror', color: '#1f77b4', values: mirror.map((p) => p.coordinationPerWorker) },
          {
            label: 'mirror, without checkpoints',
            color: '#1f77b4',
            values: mirror.map((p) => p.coordinationPerWorkerWithoutCheckpoints),
            dashed: true,
          },
          { label: 'I/O-bound', color: '#ff7f0e', values: io.map((p) => p.coordinationPerWorker) },
          {
            label: 'I/O-bound, without checkpoints',
            color: '#ff7f0e',
            values: io.map((p) => p.coordinationPerWorkerWithoutCheckpoints),
            dashed: true,
          },
        ],
      },
    ],
    {
      min: 1,
      ticks: WORKER_TICKS.filter((w) => w <= counts.at(-1)!),
      label: (n) => `${n} workers`,
      log: true,
      dots: true,
    },
  );
}

function changesChart(run: ChangesRun): string {
  const start = Math.floor(run.steadyFrom / 1000);
  const end = Math.ceil(run.endMs / 1000);
  const seconds = Array.from({ length: end - start }, (_, i) => start + i);
  const x = seconds.map((s) => s - start);
  const latencyBySecond = seconds.map((s) => {
    const { max } = run.tracker.summary(s * 1000, (s + 1) * 1000);
    return Number.isFinite(max) ? max : 0;
  });
  return svgChart(
    'Membership changes under a steady load (kinesis-mock, mirror projection)',
    x,
    [
      {
        title: 'events per second',
        unit: 'events/s',
        series: [
          {
            label: 'sent',
            color: '#7f7f7f',
            values: seconds.map((s) => run.tracker.sentPerSecond.get(s) ?? 0),
            dashed: true,
          },
          {
            label: 'applied',
            color: '#1f77b4',
            values: seconds.map((s) => run.tracker.appliedPerSecond.get(s) ?? 0),
            width: 2,
          },
        ],
      },
      {
        title: 'source-to-applied latency, slowest record sent in each second',
        unit: 'ms',
        series: [
          { label: 'max', color: '#ff7f0e', values: latencyBySecond },
          {
            label: '2 × steady p99',
            color: '#d62728',
            values: x.map(() => 2 * run.steady.p99),
            dashed: true,
          },
        ],
      },
    ],
    {
      ticks: x.filter((s) => s % 10 === 0),
      label: (s) => `${s} s`,
      markers: run.changes.map((c) => ({ x: Math.floor(c.atMs / 1000) - start, label: c.change })),
    },
  );
}

type ChangesRun = Awaited<ReturnType<typeof membershipChanges>>;

function changesTable(run: ChangesRun): string {
  return markdownTable(
    [
      'during',
      'seconds with nothing applied while records waited',
      'fewest applied in a second',
      'latency p99',
      'latency max',
    ],
    [
      [
        `steady (${CHANGES.eventsPerSecond} events/s, ${CHANGES.workers} workers, ${CHANGES.shards} shards)`,
        run.steady.zeroSeconds,
        run.steady.minAppliedPerSecond,
        `${run.steady.p99} ms`,
        `${run.steady.max} ms`,
      ],
      ...run.changes.map((c) => [
        c.change,
        c.zeroSeconds,
        c.minAppliedPerSecond,
        `${c.p99} ms`,
        `${c.max} ms`,
      ]),
    ],
  );
}

export default async function scaleOutBenchmark(): Promise<void> {
  process.env.SCALE_OUT_IO_DELAY_MS = String(IO_DELAY_MS);
  const loadAtStart = loadavg()[0]!;
  const engines = await startEngines({ kinesisEngine: 'kinesalite' });
  const clients = localClients(engines.endpoints);
  const pidOf = (name: string) =>
    engines.processes.find((p) => p.name.toLowerCase().includes(name))?.pid ?? -1;
  const points: Point[] = [];
  let changes: ChangesRun | undefined;
  try {
    const only = process.env.SCALE_OUT_ONLY;
    for (const projection of (['mirror', 'io'] as const).filter((p) => only === undefined || only === p)) {
      log(
        `scale-out: ${projection === 'mirror' ? 'the mirror' : `the I/O-bound projection (${IO_DELAY_MS} ms per aggregate)`}`,
      );
      for (const workers of WORKER_COUNTS) {
        const previous = points.filter((p) => p.projection === projection).at(-1);
        const expected =
          previous === undefined
            ? FIRST_GUESS[projection]
            : (previous.eventsPerSecond * workers) / previous.workers;
        points.push(
          await measure(
            clients,
            {
              endpoints: engines.endpoints,
              pids: { dynamodb: pidOf('dynamo'), kinesis: pidOf('kinesalite') },
            },
            projection,
            workers,
            Math.min(expected, 4_000),
          ),
        );
      }
    }
    if (only === undefined || only === 'changes') {
      log('scale-out: membership changes on kinesis-mock...');
      const mock = await startKinesisMock();
      const mockClients = localClients({ dynamodb: engines.endpoints.dynamodb, kinesis: mock.endpoint });
      try {
        changes = await membershipChanges(mockClients, {
          dynamodb: engines.endpoints.dynamodb,
          kinesis: mock.endpoint,
          kind: 'embedded',
          kinesisEngine: 'kinesis-mock',
        });
      } finally {
        mockClients.destroy();
        await mock.process.stop();
      }
    }
  } finally {
    clients.destroy();
    await engines.stop();
  }

  const t1 = (p: Projection) =>
    points.find((x) => x.projection === p && x.workers === 1)?.eventsPerSecond ?? Number.NaN;
  const efficiency = (p: Point) => p.eventsPerSecond / (p.workers * t1(p.projection));
  const most = WORKER_COUNTS.at(-1)!;
  const ioAtMost = points.find((p) => p.projection === 'io' && p.workers === most);
  const pct = (x: number) => `${Math.round(100 * x)}%`;
  const skew = [...new Set([ZIPF, DEFAULT_ZIPF])].map((zipfExponent) => {
    const shares = shardShares({ seed: SEED, zipfExponent, shards: SHARDS });
    return { zipfExponent, hottestShard: shares[0]!, caps: skewCaps(shares, WORKER_COUNTS) };
  });
  const targets = [
    ...(ioAtMost === undefined
      ? []
      : [
          {
            target: `scaling efficiency ≥ 0.9 at ${most} workers, I/O-bound projection`,
            figures: `${efficiency(ioAtMost).toFixed(2)} (${Math.round(ioAtMost.eventsPerSecond)} events/s against ${most} × ${Math.round(t1('io'))})`,
            met: efficiency(ioAtMost) >= 0.9,
          },
        ]),
    ...(changes?.changes ?? []).map((c) => ({
      target: `${c.change}: no second without an applied event while records wait; latency p99 ≤ 2 × steady p99`,
      figures: `${c.zeroSeconds} such seconds (fewest applied in a second: ${c.minAppliedPerSecond}); p99 ${c.p99} ms against 2 × ${changes!.steady.p99} ms; max ${c.max} ms`,
      met: c.zeroSeconds === 0 && c.p99 <= 2 * changes!.steady.p99,
    })),
  ];
  const table = [
    markdownTable(
      [
        'projection',
        'workers',
        'events/s',
        'efficiency',
        'latency p50 / p99 at half rate',
        'coordination req/s per worker: all / without checkpoints (all per 1k events)',
        'checkpoints/s',
        'CPU ms per event: workers / engines',
        'cores used: workers / DynamoDB Local / kinesalite / bench',
      ],
      points.map((p) => [
        p.projection === 'mirror' ? 'mirror' : `I/O-bound ${IO_DELAY_MS} ms`,
        p.workers,
        `${Math.round(p.eventsPerSecond)}${p.backlogExhausted ? ' (backlog ran out)' : ''}`,
        efficiency(p).toFixed(2),
        `${Math.round(p.latency.p50)} / ${Math.round(p.latency.p99)} ms at ${p.latencyAtRate}/s`,
        `${p.coordinationPerWorker.toFixed(2)} / ${p.coordinationPerWorkerWithoutCheckpoints.toFixed(2)} (${p.coordinationPer1kEvents.toFixed(0)})`,
        p.checkpointsPerSecond.toFixed(1),
        `${p.cpuMsPerEvent.workers.toFixed(2)} / ${p.cpuMsPerEvent.engines.toFixed(2)}`,
        `${pct(p.coresUsed.workers)} / ${pct(p.coresUsed.dynamodb)} / ${pct(p.coresUsed.kinesis)} / ${pct(p.coresUsed.bench)}`,
      ]),
    ),
    `What the key skew alone allows (the most even assignment of whole shards, ${SHARDS} shards, seed ${SEED}):`,
    markdownTable(
      [
        'aggregate choice',
        'hottest shard',
        ...WORKER_COUNTS.map((n) => `efficiency cap at ${n} worker${n === 1 ? '' : 's'}`),
      ],
      skew.map((k) => [
        `${k.zipfExponent === 0 ? 'uniform' : `Zipf ${k.zipfExponent}`}${k.zipfExponent === ZIPF ? ' (this run)' : ''}`,
        pct(k.hottestShard),
        ...k.caps.map((c) => c.efficiencyCap.toFixed(2)),
      ]),
    ),
    changes === undefined ? '' : changesTable(changes),
    markdownTable(
      ['target', 'figures', 'met'],
      targets.map((t) => [t.target, t.figures, t.met ? 'met' : 'MISSED']),
    ),
    `Load average (1 min) at start / end: ${loadAtStart.toFixed(1)} / ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores.`,
  ]
    .filter((part) => part !== '')
    .join('\n\n');
  if (QUICK || changes === undefined || ioAtMost === undefined) {
    process.stdout.write(`\n${table}\n\n(a quick or partial run: results and charts not recorded)\n`);
    return;
  }
  writeFileSync(`${RESULTS_DIR}scale-out.svg`, scalingChart(points));
  writeFileSync(`${RESULTS_DIR}scale-out-changes.svg`, changesChart(changes));
  writeResult('scale-out', {
    settings: {
      leaseMs: LEASE_MS,
      shards: SHARDS,
      workerCounts: WORKER_COUNTS,
      windowMs: WINDOW_MS,
      latencyMs: LATENCY_MS,
      warmUpMs: WARM_UP_MS,
      ioDelayMs: IO_DELAY_MS,
      zipfExponent: ZIPF,
      seed: SEED,
      batchSize: BATCH_SIZE,
      changes: CHANGES,
    },
    table,
    data: {
      points: points.map((p) => ({ ...p, efficiency: efficiency(p) })),
      changes: { steady: changes.steady, changes: changes.changes },
      skew,
      targets,
      charts: ['bench/results/scale-out.svg', 'bench/results/scale-out-changes.svg'],
      loadAverage: { atStart: loadAtStart, atEnd: loadavg()[0] },
    },
  });
}
