/**
 * peers: our consumer beside lifion-kinesis, a lease-based Kinesis consumer for Node.js (KCL-like: DynamoDB
 * leases, consumer groups, automatic shard assignment, checkpoints), on the same engines (DynamoDB Local and
 * kinesalite) in the same run, each consumer its own OS process:
 *
 * 1. throughput: the same generated CDC workload through 1 and 4 consumers of each (ours: the worker
 *    processes of `npm start -- --workers N`; the peer: the per-record write its users make, and that write
 *    wrapped in Powertools idempotency), events/s and DynamoDB requests per event;
 * 2. failover: 4 consumers, `kill -9` of one at a time, time until its shards are read again, with each at its
 *    defaults and the peer with its lease timing set as close to ours as its options allow;
 * 3. DynamoDB requests per second per consumer at rest;
 * 4. under those kills and injected duplicates, changes applied twice and aggregates left wrong, against the
 *    workload generator's model.
 *
 * DynamoDB requests are counted by one HTTP proxy in front of DynamoDB Local that both systems go through
 * (neither system's own statistics). `npm run bench -- peers`
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../core/config/schema.js';
import { systemClock } from '../core/coordination/clock.js';
import { OptionsError } from '../core/errors.js';
import { workerTimings } from '../core/workers/timings.js';
import { localClients } from '../localstack/clients.js';
import { startEngines } from '../localstack/engines/engines.js';
import { WORKLOAD_TABLES } from '../localstack/workload/generator.js';
import { seededRandom } from '../localstack/workload/random.js';
import { type AuditResult, auditAgainstModel } from './lib/peers/audit.js';
import { peersChart } from './lib/peers/chart.js';
import { CountingProxy, type RequestCounts } from './lib/peers/counting-proxy.js';
import { WorkloadFeed } from './lib/peers/feed.js';
import { type StartOptions, type SystemRun, startOurs, startPeer } from './lib/peers/systems.js';
import { markdownTable, percentile, writeResult } from './lib/results.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const SHARDS = 16;
const CONSUMER_COUNTS = [1, 4] as const;
const FAILOVER_CONSUMERS = 4;
/** A whole number from the environment, checked, or `fallback`. */
function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new OptionsError(name, raw, `must be an integer of at least ${min}`);
  return value;
}

/** Names from a comma-separated environment variable, each one of `allowed`. */
function namesFromEnv(name: string, allowed: readonly string[]): string[] {
  const names = (process.env[name] ?? allowed.join(',')).split(',');
  const unknown = names.filter((n) => !allowed.includes(n));
  if (unknown.length > 0) throw new OptionsError(name, unknown.join(','), `takes ${allowed.join(', ')}`);
  return names;
}

/** Events of each throughput run. */
const EVENTS = intFromEnv('PEERS_BENCH_EVENTS', 10_000, 100);
/** Kills of each failover run. */
const KILLS = intFromEnv('PEERS_BENCH_KILLS', 3, 1);
/** Events per second while the failover runs kill consumers: records on every shard, CPU to spare. */
const RATE = 100;
/** Percent of records republished as duplicates during the failover runs (`npm start --inject-duplicates`). */
const DUPLICATES = intFromEnv('PEERS_BENCH_DUPLICATES_PERCENT', 10, 0) / 100;
/** The window at rest; a multiple of the peer's 20 s lease round, so its rounds are not over- or under-counted. */
const REST_MS = intFromEnv('PEERS_BENCH_REST_S', 40, 1) * 1000;
/** After the drain, before the window at rest: the last checkpoints and lease moves land. */
const QUIET_MS = 10_000;
/** Ownership unchanged this long counts as settled (before a throughput run, between kills). */
const SETTLED_MS = 6_000;
/** A shard not read again within this long counts as not recovered. */
const FAILOVER_LIMIT_MS = 600_000;
const DRAIN_LIMIT_MS = 900_000;
const AGGREGATES = 10_000;
/** Run the failover runs one after the other rather than side by side. */
const SEQUENTIAL = process.env.PEERS_BENCH_SEQUENTIAL === '1';
/** Which failover runs: `ours`, `peer` (its defaults), `peer-tuned` (its lease timing set, with idempotency). */
const FAILOVERS = namesFromEnv('PEERS_BENCH_FAILOVERS', ['ours', 'peer', 'peer-tuned']);
/** Which parts run. */
const PARTS = namesFromEnv('PEERS_BENCH_PARTS', ['throughput', 'failover']);

const OUR_CONFIG = parseConfig({ tables: WORKLOAD_TABLES });
const OUR_TIMINGS = workerTimings(OUR_CONFIG.leases);
/**
 * lifion-kinesis's lease timings: the lease term (5 min), the heartbeat (20 s) and the time after which a
 * silent consumer is dropped (two heartbeats, 40 s) are constants of its code; only how often a consumer
 * looks for leases to take is an option. Set, it takes our assigner's pace of looking for dead workers: its
 * busy membership heartbeat, each of which returns the fleet's liveness.
 */
const PEER_TUNED = { leaseAcquisitionInterval: OUR_TIMINGS.heartbeatIntervalMs };
const PEER_DEFAULTS_NOTE = 'lease 5 min, heartbeat 20 s, gone after 40 s, leaseAcquisitionInterval 20 s';

const log = (message: string) => process.stderr.write(`${message}\n`);

interface SystemDef {
  readonly key: string;
  readonly label: string;
  readonly color: string;
  start(options: StartOptions): Promise<SystemRun>;
}

const OURS: SystemDef = {
  key: 'ours',
  label: 'ours',
  color: '#1f77b4',
  start: (o) => startOurs({ ...o, config: OUR_CONFIG }),
};
const PEER: SystemDef = {
  key: 'peer',
  label: 'lifion-kinesis',
  color: '#ff7f0e',
  start: (o) => startPeer({ ...o, idempotency: false, peerOptions: {} }),
};
const PEER_IDEMPOTENT: SystemDef = {
  key: 'peer-idempotent',
  label: 'lifion-kinesis + idempotency',
  color: '#d62728',
  start: (o) => startPeer({ ...o, idempotency: true, peerOptions: {} }),
};

/** Every shard held by a running consumer, ownership unchanged for `quietMs`; gives up after `limitMs`. */
async function settled(run: SystemRun, quietMs = SETTLED_MS, limitMs = 300_000) {
  const deadline = Date.now() + limitMs;
  let last = '';
  let since = Date.now();
  for (;;) {
    const owners = await run.owners();
    const key = JSON.stringify([...owners].sort());
    if (key !== last) {
      last = key;
      since = Date.now();
    }
    const held = owners.size === SHARDS && [...owners.values()].every((o) => o !== undefined);
    if (held && Date.now() - since >= quietMs) return owners as Map<string, string>;
    if (Date.now() > deadline) {
      log(`  ownership did not settle within ${limitMs / 1000} s: ${key}`);
      return owners;
    }
    await systemClock.sleep(500);
  }
}

async function drain(run: SystemRun, feed: WorkloadFeed): Promise<void> {
  const deadline = Date.now() + DRAIN_LIMIT_MS;
  while (!(await run.drained(feed.tips))) {
    if (Date.now() > deadline)
      throw new Error(
        `${run.streamName} was not read to its end within ${DRAIN_LIMIT_MS / 1000} s; consumers reported: ${run.errors.join('; ') || 'nothing'}`,
      );
    await systemClock.sleep(200);
  }
}

/** The kind of table a request went to, from the table names the systems use. */
function tableKind(table: string): string {
  const kind = /-(state|coordination|lifion|idempotency|parked)$/.exec(table)?.[1] ?? 'other';
  return kind === 'lifion' ? 'coordination' : kind;
}

/** "<prefix>-coordination Query" → "coordination Query". */
const operationKind = (op: string) =>
  op.replace(/^\S*-(\w+) /, (_, kind: string) => `${tableKind(`-${kind}`)} `);

function byKind(counts: RequestCounts): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [table, n] of Object.entries(counts.byTable))
    out[tableKind(table)] = (out[tableKind(table)] ?? 0) + n;
  return out;
}

/** Shards per consumer, busiest first ("4/4/4/4"). */
function spread(owners: ReadonlyMap<string, string | undefined>): string {
  const per = new Map<string, number>();
  for (const o of owners.values()) if (o !== undefined) per.set(o, (per.get(o) ?? 0) + 1);
  return [...per.values()].sort((a, b) => b - a).join('/');
}

interface ThroughputResult {
  readonly system: string;
  readonly consumers: number;
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly requestsPerEvent: number;
  readonly requestsPerEventByKind: Record<string, number>;
  readonly byOperation: Record<string, number>;
  readonly shardsPerConsumer: string;
  readonly audit: AuditResult;
  readonly errors: readonly string[];
}

async function throughput(
  def: SystemDef,
  consumers: number,
  base: Omit<StartOptions, 'consumers' | 'counted' | 'name'>,
  proxy: CountingProxy,
): Promise<ThroughputResult> {
  log(`throughput: ${def.label}, ${consumers} consumer(s), ${EVENTS} events…`);
  const run = await def.start({ ...base, consumers, counted: false, name: `${def.key}-${consumers}` });
  const feed = new WorkloadFeed({
    kinesis: base.clients.kinesis,
    streamName: run.streamName,
    seed: 17,
    aggregates: AGGREGATES,
  });
  try {
    const owners = await settled(run);
    const before = proxy.snapshot();
    const started = performance.now();
    await feed.publish(EVENTS);
    await drain(run, feed);
    const seconds = (performance.now() - started) / 1000;
    const spent = CountingProxy.difference(proxy.snapshot(), before, run.prefix);
    const audit = auditAgainstModel(feed.model, feed.effects, await run.observed(), false);
    const perEvent = (n: number) => n / EVENTS;
    const result: ThroughputResult = {
      system: def.label,
      consumers,
      events: EVENTS,
      seconds,
      eventsPerSecond: EVENTS / seconds,
      requestsPerEvent: perEvent(spent.total),
      requestsPerEventByKind: Object.fromEntries(
        Object.entries(byKind(spent)).map(([k, n]) => [k, perEvent(n)]),
      ),
      byOperation: Object.fromEntries(
        Object.entries(spent.byOperation).map(([op, n]) => [operationKind(op), n]),
      ),
      shardsPerConsumer: spread(owners),
      audit,
      errors: [...run.errors],
    };
    log(
      `  ${Math.round(result.eventsPerSecond)} events/s, ${result.requestsPerEvent.toFixed(3)} requests/event, shards ${result.shardsPerConsumer}, ${audit.correct}/${audit.aggregates} aggregates as the model`,
    );
    return result;
  } finally {
    feed.close();
    await run.stop();
  }
}

interface FailoverResult {
  readonly system: string;
  /** The system and which of its timings, in a few words (the chart's label). */
  readonly label: string;
  readonly timings: string;
  /** Per shard taken over: kill to its first batch applied by another consumer. */
  readonly shardMs: number[];
  /** Per kill: until every shard of the victim was read again. */
  readonly killMs: number[];
  /** Shards not read again within the limit. */
  readonly notRecovered: number;
  readonly restRequestsPerSecondPerConsumer: number;
  readonly restByOperation: Record<string, number>;
  readonly published: number;
  readonly duplicatesInjected: number;
  /** Whether the consumers read the stream to its end within the drain limit. */
  readonly drained: boolean;
  readonly audit: AuditResult;
  readonly errors: readonly string[];
}

/**
 * Kill to the first batch of `shardId` another consumer than `victim` received, or NaN. Received rather than
 * applied: the peer hands the whole backlog over as one batch (up to 10,000 records), ours in batches of 100,
 * so the time to apply a batch says nothing about failover.
 */
async function readAgain(run: SystemRun, shardId: string, victim: string, sinceWallMs: number, from: number) {
  const deadline = sinceWallMs + FAILOVER_LIMIT_MS;
  let index = from;
  for (;;) {
    for (; index < run.batches.length; index++) {
      const b = run.batches[index]!;
      if (b.shardId === shardId && b.consumer !== victim && b.atWallMs > sinceWallMs)
        return b.atWallMs - sinceWallMs;
    }
    if (Date.now() > deadline) return Number.NaN;
    await systemClock.sleep(50);
  }
}

async function failover(
  def: SystemDef,
  label: string,
  timings: string,
  base: Omit<StartOptions, 'consumers' | 'counted' | 'name'>,
  proxy: CountingProxy,
): Promise<FailoverResult> {
  const say = (message: string) => log(`failover, ${label}: ${message}`);
  say(`${timings}; ${FAILOVER_CONSUMERS} consumers, ${KILLS} kills…`);
  const run = await def.start({
    ...base,
    consumers: FAILOVER_CONSUMERS,
    counted: true,
    name: `${def.key}-failover`,
  });
  const feed = new WorkloadFeed({
    kinesis: base.clients.kinesis,
    streamName: run.streamName,
    seed: 23,
    aggregates: AGGREGATES,
    duplicates: DUPLICATES,
  });
  try {
    feed.start(RATE);
    const random = seededRandom(7);
    const shardMs: number[] = [];
    const killMs: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const owners = await settled(run);
      const holders = [...new Set(owners.values())].filter((o): o is string => o !== undefined).sort();
      const victim = holders[Math.floor(random() * holders.length)]!;
      const shards = [...owners].filter(([, o]) => o === victim).map(([s]) => s);
      const from = run.batches.length;
      const killedAt = Date.now();
      await run.kill(victim);
      const times = await Promise.all(shards.map((s) => readAgain(run, s, victim, killedAt, from)));
      shardMs.push(...times);
      killMs.push(Math.max(...times));
      say(
        `kill ${k + 1}/${KILLS}: ${victim}, ${shards.length} shard(s) read again after ${times.map((t) => (t / 1000).toFixed(1)).join(', ')} s`,
      );
      await run.add();
    }
    await feed.stop();
    say(`${feed.published} records published (${feed.duplicatesInjected} duplicates); draining…`);
    // A run that does not read its stream to the end is a result too: its state is audited as it stands.
    const drained = await drain(run, feed).then(
      () => true,
      (error: Error) => {
        say(error.message);
        return false;
      },
    );
    const audit = auditAgainstModel(feed.model, feed.effects, await run.observed(), true);
    say(
      `${audit.correct}/${audit.aggregates} aggregates as the model; ${audit.appliedTwice} changes applied twice; at rest for ${REST_MS / 1000} s…`,
    );
    await systemClock.sleep(QUIET_MS);
    const before = proxy.snapshot();
    const restStarted = Date.now();
    await systemClock.sleep(REST_MS);
    const seconds = (Date.now() - restStarted) / 1000;
    const rest = CountingProxy.difference(proxy.snapshot(), before, run.prefix);
    const consumers = run.running().length;
    return {
      system: def.label,
      label,
      timings,
      shardMs: shardMs.filter(Number.isFinite),
      killMs: killMs.filter(Number.isFinite),
      notRecovered: shardMs.filter((t) => !Number.isFinite(t)).length,
      restRequestsPerSecondPerConsumer: rest.total / seconds / consumers,
      restByOperation: Object.fromEntries(
        Object.entries(rest.byOperation).map(([op, n]) => [operationKind(op), n / seconds / consumers]),
      ),
      published: feed.published,
      duplicatesInjected: feed.duplicatesInjected,
      drained,
      audit,
      errors: [...run.errors],
    };
  } finally {
    feed.close();
    await run.stop();
  }
}

const s = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)}` : '—');
const times = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '—');
const rates = (byOperation: Record<string, number>) =>
  Object.entries(byOperation)
    .sort(([, a], [, b]) => b - a)
    .map(([op, r]) => `${op} ${r.toFixed(2)}`)
    .join(', ');

function tables(throughputs: readonly ThroughputResult[], failovers: readonly FailoverResult[]): string {
  const parts: string[] = [];
  if (throughputs.length > 0)
    parts.push(
      markdownTable(
        [
          'system',
          'consumers',
          'events/s',
          'DynamoDB requests / event',
          '… state / coordination / idempotency',
          'shards per consumer',
          'aggregates as the model',
        ],
        throughputs.map((t) => [
          t.system,
          t.consumers,
          Math.round(t.eventsPerSecond),
          t.requestsPerEvent.toFixed(3),
          ['state', 'coordination', 'idempotency']
            .map((k) => (t.requestsPerEventByKind[k] ?? 0).toFixed(3))
            .join(' / '),
          t.shardsPerConsumer,
          `${t.audit.correct} of ${t.audit.aggregates}`,
        ]),
      ),
    );
  if (failovers.length > 0)
    parts.push(
      markdownTable(
        [
          'system (lease timings)',
          'failover p50 / max per shard, s',
          'per kill p50 / max, s',
          'not read again',
          'requests/s per consumer at rest',
          'changes applied twice',
          'aggregates wrong: stale / resurrected / missing',
          'changes without effect',
          'read to the end',
        ],
        failovers.map((f) => [
          `${f.system} (${f.timings})`,
          `${s(percentile(f.shardMs, 50))} / ${s(Math.max(...f.shardMs))} (${f.shardMs.length} shards)`,
          `${s(percentile(f.killMs, 50))} / ${s(Math.max(...f.killMs))}`,
          f.notRecovered,
          f.restRequestsPerSecondPerConsumer.toFixed(2),
          f.audit.appliedTwice,
          `${f.audit.stale} / ${f.audit.resurrected} / ${f.audit.missing} of ${f.audit.aggregates}`,
          f.audit.withoutEffect,
          f.drained ? 'yes' : `no, within ${DRAIN_LIMIT_MS / 1000} s`,
        ]),
      ),
      markdownTable(
        ['system', 'DynamoDB requests/s per consumer at rest, by table and operation'],
        failovers.map((f) => [`${f.system} (${f.timings})`, rates(f.restByOperation)]),
      ),
    );
  const ratio = ratios(throughputs, failovers);
  if (ratio.length > 0) parts.push(markdownTable(['measure', 'peer', 'ours', 'ratio'], ratio));
  return parts.join('\n\n');
}

/** The comparisons, each as peer ÷ ours (or ours ÷ peer for events/s), so above 1 is ours ahead. */
function ratios(throughputs: readonly ThroughputResult[], failovers: readonly FailoverResult[]): string[][] {
  const rows: string[][] = [];
  const t = (system: string, consumers: number) =>
    throughputs.find((r) => r.system === system && r.consumers === consumers);
  for (const n of CONSUMER_COUNTS) {
    const ours = t(OURS.label, n);
    for (const peer of [t(PEER.label, n), t(PEER_IDEMPOTENT.label, n)]) {
      if (ours === undefined || peer === undefined) continue;
      rows.push(
        [
          `events/s, ${n} consumer(s): ours ÷ ${peer.system}`,
          String(Math.round(peer.eventsPerSecond)),
          String(Math.round(ours.eventsPerSecond)),
          times(ours.eventsPerSecond / peer.eventsPerSecond),
        ],
        [
          `DynamoDB requests / event, ${n} consumer(s): ${peer.system} ÷ ours`,
          peer.requestsPerEvent.toFixed(3),
          ours.requestsPerEvent.toFixed(3),
          times(peer.requestsPerEvent / ours.requestsPerEvent),
        ],
      );
    }
  }
  const ours = failovers.find((f) => f.system === OURS.label);
  for (const peer of failovers.filter((f) => f !== ours)) {
    if (ours === undefined) continue;
    rows.push(
      [
        `failover p50 per shard: ${peer.system} (${peer.timings}) ÷ ours`,
        `${s(percentile(peer.shardMs, 50))} s`,
        `${s(percentile(ours.shardMs, 50))} s`,
        times(percentile(peer.shardMs, 50) / percentile(ours.shardMs, 50)),
      ],
      [
        `failover max per shard: ${peer.system} (${peer.timings}) ÷ ours`,
        `${s(Math.max(...peer.shardMs))} s`,
        `${s(Math.max(...ours.shardMs))} s`,
        times(Math.max(...peer.shardMs) / Math.max(...ours.shardMs)),
      ],
      [
        `requests/s per consumer at rest: ${peer.system} (${peer.timings}) ÷ ours`,
        peer.restRequestsPerSecondPerConsumer.toFixed(2),
        ours.restRequestsPerSecondPerConsumer.toFixed(2),
        times(peer.restRequestsPerSecondPerConsumer / ours.restRequestsPerSecondPerConsumer),
      ],
    );
  }
  return rows;
}

export default async function peersBenchmark(): Promise<void> {
  process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= '1';
  const loadAtStart = loadavg()[0]!;
  const startedAt = Date.now();
  const engines = await startEngines({ kinesisEngine: 'kinesalite' });
  const clients = localClients(engines.endpoints);
  const proxy = await CountingProxy.start(engines.endpoints.dynamodb);
  const base = { clients, endpoints: engines.endpoints, proxyEndpoint: proxy.endpoint, shards: SHARDS };
  const ourTimings = `failure detection ${OUR_TIMINGS.leaseDurationMs / 1000} s, heartbeat ${OUR_TIMINGS.heartbeatIntervalMs / 1000} s busy, ${OUR_TIMINGS.restHeartbeatIntervalMs / 1000} s at rest`;
  const tunedTimings = `leaseAcquisitionInterval ${PEER_TUNED.leaseAcquisitionInterval / 1000} s; lease, heartbeat and gone-after fixed in its code`;
  const throughputs: ThroughputResult[] = [];
  const failovers: FailoverResult[] = [];
  try {
    if (PARTS.includes('throughput'))
      for (const consumers of CONSUMER_COUNTS)
        for (const def of [OURS, PEER, PEER_IDEMPOTENT])
          throughputs.push(await throughput(def, consumers, base, proxy));
    if (PARTS.includes('failover')) {
      const runs: [string, () => Promise<FailoverResult>][] = [
        ['ours', () => failover(OURS, 'ours (defaults)', `defaults: ${ourTimings}`, base, proxy)],
        [
          'peer',
          () => failover(PEER, 'lifion-kinesis (defaults)', `defaults: ${PEER_DEFAULTS_NOTE}`, base, proxy),
        ],
        [
          'peer-tuned',
          () =>
            failover(
              {
                ...PEER_IDEMPOTENT,
                start: (o) => startPeer({ ...o, idempotency: true, peerOptions: PEER_TUNED }),
              },
              'lifion-kinesis + idempotency (tuned)',
              tunedTimings,
              base,
              proxy,
            ),
        ],
      ];
      const chosen = runs.filter(([key]) => FAILOVERS.includes(key)).map(([, run]) => run);
      // Failover runs wait on lease timers far more than they compute: side by side they take the time of
      // the slowest, and each one's requests are told apart by its tables' prefix.
      if (SEQUENTIAL) for (const r of chosen) failovers.push(await r());
      else {
        const outcomes = await Promise.allSettled(chosen.map((r) => r()));
        for (const o of outcomes) if (o.status === 'fulfilled') failovers.push(o.value);
        const failed = outcomes.find((o) => o.status === 'rejected');
        if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
      }
    }
  } finally {
    await proxy.stop();
    clients.destroy();
    await engines.stop();
  }
  const chartFile = `${RESULTS_DIR}peers.svg`;
  writeFileSync(
    chartFile,
    peersChart(
      `Ours beside lifion-kinesis on DynamoDB Local and kinesalite, ${SHARDS} shards`,
      failovers.map((f) => ({
        label: f.label,
        color: [OURS, PEER, PEER_IDEMPOTENT].find((d) => d.label === f.system)?.color ?? '#333',
        seconds: f.shardMs.map((ms) => ms / 1000),
      })),
      throughputs.map((t) => ({
        label: `${t.system}, ${t.consumers} consumer(s)`,
        color: [OURS, PEER, PEER_IDEMPOTENT].find((d) => d.label === t.system)?.color ?? '#333',
        parts: ['state', 'coordination', 'idempotency'].map((k) => ({
          label: k,
          value: t.requestsPerEventByKind[k] ?? 0,
        })),
      })),
    ),
  );
  const table = [
    tables(throughputs, failovers),
    `${SHARDS} shards; throughput runs: ${EVENTS} events (Zipf s = 1.1 over ${AGGREGATES} aggregates); failover runs (${SEQUENTIAL ? 'one after the other' : 'side by side'}): ${FAILOVER_CONSUMERS} consumers, ${KILLS} kills, ${RATE} events/s with ${Math.round(DUPLICATES * 100)}% duplicates. Whole run ${Math.round((Date.now() - startedAt) / 60_000)} min; load average (1 min) at start / end: ${loadAtStart.toFixed(1)} / ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores. Chart: bench/results/peers.svg.`,
  ].join('\n\n');
  writeResult('peers', {
    settings: {
      shards: SHARDS,
      events: EVENTS,
      aggregates: AGGREGATES,
      kills: KILLS,
      failoverConsumers: FAILOVER_CONSUMERS,
      failoverEventsPerSecond: RATE,
      duplicates: DUPLICATES,
      failoverRunsSideBySide: !SEQUENTIAL,
      restMs: REST_MS,
      ourTimings: OUR_TIMINGS,
      peerTuned: PEER_TUNED,
      counting: 'HTTP proxy in front of DynamoDB Local (every request both systems send)',
    },
    table,
    data: { throughputs, failovers, chart: 'bench/results/peers.svg' },
  });
}
