import { percentile } from '../results.js';
import { escapeXml, formatTick, niceMax } from '../scaling/svg-chart.js';

/** One system's failover times, in seconds, one per shard that had to be taken over. */
interface FailoverRow {
  readonly label: string;
  readonly color: string;
  readonly seconds: readonly number[];
}

/** One throughput run's DynamoDB requests per event, by kind of table. */
interface CostRow {
  readonly label: string;
  readonly color: string;
  readonly parts: readonly { readonly label: string; readonly value: number }[];
}

const PART_SHADES = ['1', '0.55', '0.25'];
const WIDTH = 960;
const LEFT = 300;
const RIGHT = 60;
const ROW = 34;

/** A horizontal axis with ticks from 0 to `max` under a panel. */
function axis(y: number, max: number, unit: string, x: (v: number) => number): string[] {
  const out: string[] = [];
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const v = f * max;
    out.push(`<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${y - 4}" y2="${y}" stroke="#999"/>`);
    out.push(`<text x="${x(v).toFixed(1)}" y="${y + 13}" text-anchor="middle">${formatTick(v)}</text>`);
  }
  out.push(`<text x="${WIDTH - RIGHT}" y="${y + 28}" text-anchor="end">${escapeXml(unit)}</text>`);
  return out;
}

/**
 * The peers benchmark's chart: failover time per shard for each system (every shard a dot, p50 and max
 * marked) above DynamoDB requests per event of each throughput run, split by table (state, coordination,
 * idempotency).
 */
function peersChart(title: string, failovers: readonly FailoverRow[], costs: readonly CostRow[]): string {
  const plotWidth = WIDTH - LEFT - RIGHT;
  const top = 50;
  const failoverHeight = failovers.length * ROW + 20;
  const costTop = top + failoverHeight + 70;
  const costHeight = costs.length * ROW + 20;
  const height = costTop + costHeight + 60;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="24" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];

  const failoverMax = niceMax(Math.max(1, ...failovers.flatMap((f) => f.seconds.filter(Number.isFinite))));
  const fx = (v: number) => LEFT + (Math.min(v, failoverMax) / failoverMax) * plotWidth;
  out.push(
    `<text x="20" y="${top}" font-weight="bold">Failover: kill -9 of a consumer to its shards read again, per shard (dots); bar: p50, ▼: max</text>`,
  );
  failovers.forEach((row, i) => {
    const y = top + 20 + i * ROW + ROW / 2;
    out.push(`<text x="${LEFT - 10}" y="${y + 4}" text-anchor="end">${escapeXml(row.label)}</text>`);
    out.push(`<line x1="${LEFT}" x2="${LEFT + plotWidth}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    row.seconds.forEach((s, k) => {
      const jitter = ((k % 5) - 2) * 2.5;
      out.push(
        `<circle cx="${fx(s).toFixed(1)}" cy="${(y + jitter).toFixed(1)}" r="3" fill="${row.color}" fill-opacity="0.55"/>`,
      );
    });
    if (row.seconds.length > 0) {
      const p50 = percentile(row.seconds, 50);
      const max = Math.max(...row.seconds);
      out.push(
        `<line x1="${fx(p50).toFixed(1)}" x2="${fx(p50).toFixed(1)}" y1="${y - 11}" y2="${y + 11}" stroke="#000" stroke-width="2"/>`,
      );
      // The label goes left of the marker near the right edge, where it would be cut off.
      const nearEdge = fx(max) > LEFT + plotWidth - 50;
      out.push(
        `<path d="M ${fx(max).toFixed(1)} ${y - 13} l -5 -8 l 10 0 z" fill="#000"/><text x="${(fx(max) + (nearEdge ? -8 : 8)).toFixed(1)}" y="${y - 14}"${nearEdge ? ' text-anchor="end"' : ''}>${max.toFixed(1)} s</text>`,
      );
      out.push(`<text x="${(fx(p50) + 4).toFixed(1)}" y="${y + 20}">p50 ${p50.toFixed(1)} s</text>`);
    }
  });
  out.push(...axis(top + failoverHeight + 10, failoverMax, 'seconds', fx));

  const costMax = niceMax(Math.max(0.1, ...costs.map((c) => c.parts.reduce((a, p) => a + p.value, 0))));
  const cx = (v: number) => LEFT + (v / costMax) * plotWidth;
  const parts = costs[0]?.parts.map((p) => p.label) ?? [];
  out.push(
    `<text x="20" y="${costTop}" font-weight="bold">DynamoDB requests per event (throughput runs; shades: ${escapeXml(parts.join(', '))})</text>`,
  );
  costs.forEach((row, i) => {
    const y = costTop + 20 + i * ROW;
    out.push(
      `<text x="${LEFT - 10}" y="${y + ROW / 2 + 4}" text-anchor="end">${escapeXml(row.label)}</text>`,
    );
    let at = 0;
    row.parts.forEach((part, k) => {
      if (part.value <= 0) return;
      out.push(
        `<rect x="${cx(at).toFixed(1)}" y="${y + 6}" width="${(cx(at + part.value) - cx(at)).toFixed(1)}" height="${ROW - 12}" fill="${row.color}" fill-opacity="${PART_SHADES[k] ?? '0.15'}" stroke="${row.color}"/>`,
      );
      at += part.value;
    });
    out.push(`<text x="${(cx(at) + 6).toFixed(1)}" y="${y + ROW / 2 + 4}">${at.toFixed(2)}</text>`);
  });
  out.push(...axis(costTop + costHeight + 10, costMax, 'requests per event', cx));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

export type { CostRow, FailoverRow };
export { peersChart };
