/** The cluster benchmark's failover timeline, drawn from its results (`bench/results/cluster.json`). */
import { percentile } from './results.js';
import { escapeXml, formatTick, niceMax } from './scaling/svg-chart.js';

/** One `kill -9` of a worker: when each of its shards was read again by a new owner, and whether it assigned. */
interface FailoverKill {
  readonly shardMs: readonly number[];
  /** Undefined in results recorded before the benchmark kept it per kill. */
  readonly assigner?: boolean;
}

/** What the cluster benchmark records about failover. */
interface FailoverData {
  /** Every shard's kill-to-first-record time, kill after kill. */
  readonly shardMs: readonly number[];
  /** Per kill, the time until its last shard was back. */
  readonly killMs: readonly number[];
  readonly assignerKills: number;
  /** Per kill (results since the benchmark records it). */
  readonly kills?: readonly FailoverKill[];
  /** The shard times of the kills that hit the assigner, in kill order (results of membership heartbeats). */
  readonly assignerShardMs?: readonly number[];
}

/** The failover targets of membership heartbeats (lease 4.5 s): p50 and maximum per shard. */
const FAILOVER_TARGETS = { p50Ms: 5_000, maxMs: 8_000 } as const;

/**
 * The kills of a run: as recorded, or, for results recorded before `kills` existed, `shardMs` cut into equal
 * groups (every kill took a worker with the same number of shards), checked against `killMs`.
 */
function killsOf(data: FailoverData): FailoverKill[] {
  if (data.kills !== undefined) return [...data.kills];
  const per = data.shardMs.length / data.killMs.length;
  const kills = data.killMs.map((_, k) => ({ shardMs: data.shardMs.slice(k * per, (k + 1) * per) }));
  if (!Number.isInteger(per) || kills.some((kill, k) => Math.max(...kill.shardMs) !== data.killMs[k]))
    throw new Error(
      `cluster results: ${data.shardMs.length} shard times do not divide into the ${data.killMs.length} kills; ` +
        'run `npm run bench -- cluster` again (it records each kill)',
    );
  if (data.assignerShardMs === undefined) return kills;
  // The assigner's kills are the ones whose shard times come next in its own list, in order.
  let next = 0;
  return kills.map((kill) => {
    const assigner = kill.shardMs.every((ms, i) => data.assignerShardMs![next + i] === ms);
    if (assigner) next += kill.shardMs.length;
    return { ...kill, assigner };
  });
}

const WIDTH = 960;
const LEFT = 150;
const RIGHT = 40;
const ROW = 22;
const SHARD = '#1f77b4';
const ASSIGNER = '#d62728';

/**
 * One row per kill: a bar from the kill to its last shard back, a dot per shard; the lease duration and the
 * targets as lines (lease + heartbeat for results of polled leases, which have one `heartbeatMs`; p50 and
 * maximum {@link FAILOVER_TARGETS} for membership heartbeats, busy every `heartbeatBusyMs`); the p50 and
 * maximum over every shard below.
 */
function failoverChart(result: {
  readonly measuredAt: string;
  readonly settings: {
    readonly leaseMs: number;
    readonly heartbeatMs?: number;
    readonly heartbeatBusyMs?: number;
    readonly workers: number;
    readonly shards: number;
  };
  readonly data: { readonly failover: FailoverData };
}): string {
  const { leaseMs, heartbeatMs, heartbeatBusyMs, workers, shards } = result.settings;
  const kills = killsOf(result.data.failover);
  const all = kills.flatMap((k) => k.shardMs);
  const targets: [number, string][] =
    heartbeatMs === undefined
      ? [
          [FAILOVER_TARGETS.p50Ms, `target p50 (${FAILOVER_TARGETS.p50Ms / 1000} s)`],
          [FAILOVER_TARGETS.maxMs, `target max (${FAILOVER_TARGETS.maxMs / 1000} s)`],
        ]
      : [[leaseMs + heartbeatMs, `target p50: lease + heartbeat (${(leaseMs + heartbeatMs) / 1000} s)`]];
  const heartbeat =
    heartbeatMs === undefined
      ? `heartbeat ${(heartbeatBusyMs ?? Number.NaN) / 1000} s busy`
      : `heartbeat ${heartbeatMs / 1000} s`;
  const max = niceMax(Math.max(...targets.map(([ms]) => ms), ...all) / 1000);
  const plotWidth = WIDTH - LEFT - RIGHT;
  const top = 80;
  const bottom = top + kills.length * ROW;
  const height = bottom + 110;
  const x = (ms: number) => LEFT + (ms / 1000 / max) * plotWidth;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="24" font-size="15" font-weight="bold">Failover: kill -9 of a worker to each of its shards read again by a new owner</text>`,
    `<text x="20" y="42" fill="#555">${escapeXml(
      `${workers} workers, ${shards} shards, lease ${leaseMs / 1000} s, ${heartbeat}; ` +
        `${kills.length} kills, ${all.length} shards; measured ${result.measuredAt.slice(0, 10)} (npm run bench -- cluster)`,
    )}</text>`,
  ];
  for (let s = 0; s <= max + 1e-9; s += max > 20 ? 5 : 2)
    out.push(
      `<line x1="${x(s * 1000).toFixed(1)}" x2="${x(s * 1000).toFixed(1)}" y1="${top - 6}" y2="${bottom}" stroke="#f0f0f0"/>`,
      `<text x="${x(s * 1000).toFixed(1)}" y="${bottom + 14}" text-anchor="middle">${formatTick(s)} s</text>`,
    );
  const guides: [number, string, string][] = [
    [leaseMs, '#999', `lease expires (${leaseMs / 1000} s)`],
    ...targets.map(([ms, label]): [number, string, string] => [ms, '#2ca02c', label]),
  ];
  for (const [i, [ms, color, label]] of guides.entries())
    out.push(
      `<line x1="${x(ms).toFixed(1)}" x2="${x(ms).toFixed(1)}" y1="${top - 10}" y2="${bottom}" stroke="${color}" stroke-dasharray="5,3"/>`,
      // A guide near the right edge is labelled to its left, inside the picture.
      x(ms) > WIDTH - RIGHT - 160
        ? `<text x="${(x(ms) - 4).toFixed(1)}" y="${top - 14 - i * 12}" fill="${color}" text-anchor="end">${escapeXml(label)}</text>`
        : `<text x="${(x(ms) + 4).toFixed(1)}" y="${top - 14 - i * 12}" fill="${color}">${escapeXml(label)}</text>`,
    );
  kills.forEach((kill, k) => {
    const y = top + k * ROW + ROW / 2;
    const color = kill.assigner ? ASSIGNER : SHARD;
    const last = Math.max(...kill.shardMs);
    out.push(
      `<text x="${LEFT - 8}" y="${y + 4}" text-anchor="end">kill ${k + 1}${kill.assigner ? ' (the assigner)' : ''}</text>`,
      `<rect x="${LEFT}" y="${y - 3}" width="${(x(last) - LEFT).toFixed(1)}" height="6" fill="${color}" fill-opacity="0.18"/>`,
      ...kill.shardMs.map(
        (ms) => `<circle cx="${x(ms).toFixed(1)}" cy="${y}" r="4" fill="${color}" fill-opacity="0.7"/>`,
      ),
      `<text x="${(x(last) + 8).toFixed(1)}" y="${y + 4}" fill="#555">${(last / 1000).toFixed(1)} s</text>`,
    );
  });
  const p50 = percentile(all, 50);
  const p99 = percentile(all, 99);
  const summary = `every shard: p50 ${(p50 / 1000).toFixed(1)} s, p99 ${(p99 / 1000).toFixed(1)} s, max ${(Math.max(...all) / 1000).toFixed(1)} s`;
  out.push(
    `<line x1="${x(p50).toFixed(1)}" x2="${x(p50).toFixed(1)}" y1="${top - 6}" y2="${bottom}" stroke="#000" stroke-width="1.5"/>`,
    `<text x="${x(p50).toFixed(1)}" y="${bottom + 30}" text-anchor="middle" font-weight="bold">p50</text>`,
    `<text x="${LEFT}" y="${bottom + 52}" font-weight="bold">${escapeXml(summary)}</text>`,
    `<text x="${LEFT}" y="${bottom + 72}" fill="#555"><tspan fill="${SHARD}">●</tspan> a shard back (a worker killed)` +
      `${kills.some((k) => k.assigner === undefined) ? '' : `   <tspan fill="${ASSIGNER}">●</tspan> a shard back (the assigner killed)`}` +
      `${kills.some((k) => k.assigner === undefined) ? `; ${result.data.failover.assignerKills} of the kills hit the assigner (not recorded per kill in these results)` : ''}</text>`,
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

export type { FailoverData, FailoverKill };
export { FAILOVER_TARGETS, failoverChart, killsOf };
