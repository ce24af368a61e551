/**
 * `cdcp status`: the cluster as the coordination table shows it — instances with their load and config
 * version, every shard's lease (owner, checkpoint, lag, state) and the elected leaders.
 */
import { LEADER_ROLES } from '../../core/constants.js';
import {
  DynamoDbCoordinationStore,
  type InstanceRecord,
  type LeaseRecord,
  leaderKey,
  shardLeaseKey,
} from '../../core/coordination/index.js';
import type { LatencySummary } from '../../core/processing/latency.js';
import { type ShardLease, splitLeases } from '../../core/workers/shard-lease.js';
import type { LiveSnapshot } from '../../localstack/run/live-view.js';
import type { Target } from '../cli/target.js';
import { CliError, type Command, flag, stringOption, targetOf } from './command.js';

const fmt = (n: number | undefined) => (n === undefined ? '—' : Math.round(n).toLocaleString('en-US'));

function duration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** `p50/p99 ms` of a heartbeat's latency figures, `—` when it applied nothing in its period. */
function latencyCell(figures: LatencySummary | undefined): string {
  return figures === undefined ? '—' : `${fmt(figures.p50Ms)}/${fmt(figures.p99Ms)} ms`;
}

function instanceRow(i: InstanceRecord, leases: number, nowWallMs: number) {
  return {
    id: i.instanceId,
    kind: i.kind,
    ageMs: nowWallMs - i.startedAtWallMs,
    heartbeat: i.heartbeat,
    heartbeatAgoMs: nowWallMs - i.heartbeatAtWallMs,
    eventsPerSecond: i.load.eventsPerSecond,
    cpuPercent: i.load.cpuPercent,
    lagMs: i.load.lagMs,
    sourceToAppliedMs: i.load.sourceToAppliedMs,
    arrivalToAppliedMs: i.load.arrivalToAppliedMs,
    leases,
    configVersion: i.configVersion,
  };
}

function shardRow(lease: ShardLease, byId: ReadonlyMap<string, ShardLease>, nowWallMs: number) {
  const { data, record } = lease;
  const waitingFor = data.parents.filter((p) => byId.has(p) && !byId.get(p)!.data.ended);
  const state = data.ended
    ? 'ended'
    : waitingFor.length > 0
      ? `waiting for ${waitingFor.join(', ')}`
      : record.owner === undefined
        ? 'free'
        : record.pendingOwner !== undefined && record.pendingOwner !== record.owner
          ? `handing off to ${record.pendingOwner}`
          : 'reading';
  return {
    shardId: lease.shardId,
    owner: record.owner,
    fence: record.fence,
    checkpoint: data.checkpoint,
    records: data.records,
    lagMs: data.lagMs,
    checkpointAgoMs:
      data.checkpointedAtWallMs === undefined ? undefined : nowWallMs - data.checkpointedAtWallMs,
    parents: data.parents,
    state,
  };
}

function leaderRow(record: LeaseRecord | undefined) {
  return record?.owner === undefined ? undefined : { id: record.owner, term: record.fence };
}

type StatusReport = Awaited<ReturnType<typeof collect>>;

/** The cluster as the coordination table shows it now. */
async function collect(target: Target) {
  const store = new DynamoDbCoordinationStore({
    client: target.dynamodb,
    tableName: target.names.coordinationTable,
  });
  const streamName = target.names.streamName;
  const [instances, records, manager] = await Promise.all([
    store.listInstances(),
    store.listLeases(shardLeaseKey(streamName, '-').pk),
    store.getLease(leaderKey(LEADER_ROLES.clusterManager)),
  ]);
  const now = Date.now();
  const { shards, assigner } = splitLeases(records);
  const byId = new Map(shards.map((s) => [s.shardId, s]));
  const held = (id: string) => shards.filter((s) => s.record.owner === id).length;
  return {
    instances: instances
      .sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1))
      .map((i) => instanceRow(i, held(i.instanceId), now)),
    stream: streamName,
    shards: shards.map((s) => shardRow(s, byId, now)),
    assigner: leaderRow(assigner),
    clusterManager: leaderRow(manager),
  };
}

function render(report: StatusReport): string[] {
  const out: string[] = [`Instances (${report.instances.length})`];
  out.push(
    `  ${'ID'.padEnd(26)} ${'KIND'.padEnd(7)} ${'AGE'.padEnd(8)} ${'HEARTBEAT'.padEnd(16)} ${'EVENTS/S'.padStart(8)} ${'CPU'.padStart(5)} ${'LAG'.padStart(9)} ${'SOURCE→APPLIED'.padStart(15)} ${'ARRIVAL→APPLIED'.padStart(15)} ${'LEASES'.padStart(6)}  CONFIG`,
  );
  for (const i of report.instances)
    out.push(
      `  ${i.id.padEnd(26)} ${i.kind.padEnd(7)} ${duration(i.ageMs).padEnd(8)} ${`#${i.heartbeat}, ${duration(i.heartbeatAgoMs)} ago`.padEnd(16)} ${fmt(i.eventsPerSecond).padStart(8)} ${(i.cpuPercent === undefined ? '—' : `${Math.round(i.cpuPercent)}%`).padStart(5)} ${(i.lagMs === undefined ? '—' : `${fmt(i.lagMs)} ms`).padStart(9)} ${latencyCell(i.sourceToAppliedMs).padStart(15)} ${latencyCell(i.arrivalToAppliedMs).padStart(15)} ${String(i.leases).padStart(6)}  ${i.configVersion ?? '—'}`,
    );
  out.push('', `Shards of ${report.stream} (${report.shards.length})`);
  out.push(
    `  ${'SHARD'.padEnd(22)} ${'OWNER'.padEnd(26)} ${'FENCE'.padStart(5)} ${'CHECKPOINT'.padEnd(14)} ${'LAG'.padStart(9)}  STATE`,
  );
  for (const s of report.shards)
    out.push(
      `  ${s.shardId.padEnd(22)} ${(s.owner ?? '—').padEnd(26)} ${String(s.fence).padStart(5)} ${(s.checkpoint === undefined ? '—' : `…${s.checkpoint.slice(-12)}`).padEnd(14)} ${(s.lagMs === undefined ? '—' : `${fmt(s.lagMs)} ms`).padStart(9)}  ${s.state}`,
    );
  out.push(
    '',
    `Lease assigner: ${report.assigner === undefined ? 'none elected' : `${report.assigner.id} (term ${report.assigner.term})`}`,
    `Cluster manager: ${report.clusterManager === undefined ? 'none elected' : `${report.clusterManager.id} (term ${report.clusterManager.term})`}`,
  );
  return out;
}

/** The local run's live figures (what its dashboard shows), through its control endpoint; undefined elsewhere. */
async function liveOf(target: Target): Promise<LiveSnapshot | undefined> {
  if (target.kind !== 'local' || target.runtime.control === undefined) return undefined;
  const { url, token } = target.runtime.control;
  try {
    const response = await fetch(`${url}/dashboard`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json()) as LiveSnapshot | { starting: true };
    return 'starting' in body ? undefined : body;
  } catch {
    return undefined;
  }
}

/** The run's figures above the cluster's: what the live dashboard's charts and lists show, in lines. */
function renderLive(live: LiveSnapshot): string[] {
  const last = live.samples.at(-1);
  const recent = last?.sourceToAppliedMs;
  const lines = [
    `Run: ${fmt(live.produced)} produced, ${fmt(live.applied)} applied; ${fmt(last?.inPerSecond)} events/s in, ${fmt(last?.appliedPerSecond)} applied/s; ${fmt(live.parked)} parked, ${fmt(live.quarantined)} quarantined aggregates`,
    `Latency source → applied: now p50 ${latencyFigure(recent?.p50Ms)}, p99 ${latencyFigure(recent?.p99Ms)}, max ${latencyFigure(recent?.maxMs)}; whole run p50 ${latencyFigure(live.sourceToAppliedMs?.p50Ms)}, p99 ${latencyFigure(live.sourceToAppliedMs?.p99Ms)} (arrival → applied p50 ${latencyFigure(live.arrivalToAppliedMs?.p50Ms)})`,
  ];
  for (const m of live.moves.slice(0, 5))
    lines.push(
      `Lease move: ${new Date(m.atWallMs).toLocaleTimeString()} ${m.shardId} ${m.how} ${m.from ?? '—'} → ${m.to ?? '—'}`,
    );
  for (const d of live.decisions.slice(0, 3))
    lines.push(
      `Cluster manager: ${new Date(d.atWallMs).toLocaleTimeString()} term ${d.term} ${d.actions.join(', ') || 'no action'}${d.outcomes.length > 0 ? ` (${d.outcomes.join('; ')})` : ''}`,
    );
  return [...lines, ''];
}

function latencyFigure(ms: number | undefined): string {
  return ms === undefined ? '—' : `${fmt(ms)} ms`;
}

const status: Command = {
  path: ['status'],
  usage: 'status [--stack NAME | --local] [--json] [--watch [--interval-ms N]]',
  summary: 'instances, shard leases (owner, checkpoint, lag) and leaders',
  help: `Shows the cluster as its coordination table does: every registered instance (age, heartbeat, load,
leases, config version, and the latency of the changes it applied in its last heartbeat period: source
commit to state write and arrival in the stream to state write, p50/p99), every shard lease of the stream
(owner, fence, checkpoint, lag at that checkpoint, state: reading, free, waiting for parents, handing off,
ended), the elected lease assigner and the cluster manager's leader. Times are from the writers' clocks, for
people: liveness is judged by observers on their own clocks over a failure-detection window, which a single
look cannot do.

With --watch, redraws every --interval-ms (default 2000) until Ctrl-C: the terminal's live view. On the local
run it adds what the run's live dashboard shows: events per second in and applied, source-to-applied
latency now and over the run, parked and quarantined counts, lease moves and take-overs, and the cluster
manager's decisions.

With --json, one JSON object: instances, stream, shards, assigner, clusterManager (and, with --watch, one
object per redraw with the local run's figures as live).`,
  options: {
    watch: { type: 'boolean', description: 'redraw until Ctrl-C' },
    'interval-ms': {
      type: 'string',
      value: 'N',
      description: 'redraw interval of --watch, 500..60000 (default 2000)',
    },
  },
  target: 'any',
  json: true,
  async run(ctx) {
    const target = await targetOf(ctx);
    if (!flag(ctx, 'watch')) {
      const report = await collect(target);
      ctx.stdout.write(ctx.json ? `${JSON.stringify(report)}\n` : `${render(report).join('\n')}\n`);
      return 0;
    }
    const intervalMs = intervalOf(stringOption(ctx, 'interval-ms'));
    const terminal = (ctx.stdout as NodeJS.WriteStream).isTTY === true;
    for (;;) {
      const [report, live] = await Promise.all([collect(target), liveOf(target)]);
      if (ctx.json)
        ctx.stdout.write(`${JSON.stringify({ ...report, ...(live === undefined ? {} : { live }) })}\n`);
      else {
        const frame = [
          `cdcp status · ${target.describe} · ${new Date().toLocaleTimeString()} (every ${intervalMs} ms, Ctrl-C to stop)`,
          '',
          ...(live === undefined ? [] : renderLive(live)),
          ...render(report),
        ].join('\n');
        // On a terminal each frame replaces the last; piped, frames follow each other.
        ctx.stdout.write(terminal ? `\x1b[H\x1b[2J${frame}\n` : `${frame}\n\n`);
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  },
};

function intervalOf(value: string | undefined): number {
  if (value === undefined) return 2_000;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 500 || n > 60_000)
    throw new CliError(
      `--interval-ms must be a whole number from 500 to 60000; received ${JSON.stringify(value)}`,
    );
  return n;
}

export { statusCommand };

const statusCommand = status;
