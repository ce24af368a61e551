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
import { type Command, targetOf } from './command.js';

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

const status: Command = {
  path: ['status'],
  usage: 'status [--stack NAME | --local] [--json]',
  summary: 'instances, shard leases (owner, checkpoint, lag) and leaders',
  help: `Shows the cluster as its coordination table does: every registered instance (age, heartbeat, load,
leases, config version, and the latency of the changes it applied in its last heartbeat period: source
commit to state write and arrival in the stream to state write, p50/p99), every shard lease of the stream (owner, fence, checkpoint, lag at that checkpoint,
state: reading, free, waiting for parents, handing off, ended), the elected lease assigner and the cluster
manager's leader. Times are from the writers' clocks, for people: liveness is judged by observers on their
own clocks over a failure-detection window, which a single look cannot do.

With --json, one JSON object: instances, stream, shards, assigner, clusterManager.`,
  target: 'any',
  json: true,
  async run(ctx) {
    const target = await targetOf(ctx);
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
    const report = {
      instances: instances
        .sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1))
        .map((i) => instanceRow(i, held(i.instanceId), now)),
      stream: streamName,
      shards: shards.map((s) => shardRow(s, byId, now)),
      assigner: leaderRow(assigner),
      clusterManager: leaderRow(manager),
    };
    if (ctx.json) {
      ctx.stdout.write(`${JSON.stringify(report)}\n`);
      return 0;
    }
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
    ctx.stdout.write(`${out.join('\n')}\n`);
    return 0;
  },
};

export { status as statusCommand };
