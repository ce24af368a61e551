/** A small hand-written SVG chart of horizontal bars in panels, beside `svgChart` (lines over time). */
import { escapeXml, formatTick, niceMax } from './scaling/svg-chart.js';

interface Bar {
  readonly label: string;
  readonly color: string;
  readonly value: number;
}

/** One group of bars (for example one workload), with an optional marker line (for example a floor). */
interface BarRow {
  readonly label: string;
  readonly bars: readonly Bar[];
  readonly marker?: { readonly label: string; readonly value: number };
  /** Written after the longest bar, for example "4.6× fewer". */
  readonly note?: string;
}

interface BarPanel {
  readonly title: string;
  readonly unit: string;
  readonly rows: readonly BarRow[];
}

const WIDTH = 960;
const LEFT = 190;
const RIGHT = 150;
const BAR = 14;
const GAP = 12;

function rowHeight(row: BarRow): number {
  return row.bars.length * BAR + GAP;
}

/**
 * Renders `panels` of horizontal bars, each panel with its own scale from 0, bars labelled with their values
 * and a legend of the bar labels of the first row.
 *
 * @example
 * ```ts
 * writeFileSync('cost.svg', svgBars('consumer cost', 'DynamoDB Local, 5,000 events', [{ title, unit, rows }]));
 * ```
 */
function svgBars(title: string, subtitle: string, panels: readonly BarPanel[]): string {
  const plotWidth = WIDTH - LEFT - RIGHT;
  const heights = panels.map((p) => p.rows.reduce((h, r) => h + rowHeight(r), 0) + 60);
  const height = 70 + heights.reduce((a, b) => a + b, 0);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="24" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="20" y="42" fill="#555">${escapeXml(subtitle)}</text>`,
  ];
  let top = 70;
  panels.forEach((panel, p) => {
    const values = panel.rows.flatMap((r) => [...r.bars.map((b) => b.value), r.marker?.value ?? 0]);
    const max = niceMax(Math.max(...values.filter(Number.isFinite)));
    const x = (v: number) => LEFT + (Math.max(0, v) / max) * plotWidth;
    out.push(
      `<text x="20" y="${top}" font-weight="bold">${escapeXml(panel.title)} (${escapeXml(panel.unit)})</text>`,
    );
    let y = top + 12;
    for (const row of panel.rows) {
      const h = rowHeight(row) - GAP;
      out.push(`<text x="${LEFT - 8}" y="${y + h / 2 + 4}" text-anchor="end">${escapeXml(row.label)}</text>`);
      row.bars.forEach((bar, k) => {
        const by = y + k * BAR;
        out.push(
          `<rect x="${LEFT}" y="${by + 1}" width="${(x(bar.value) - LEFT).toFixed(1)}" height="${BAR - 2}" fill="${bar.color}"/>`,
          `<text x="${(x(bar.value) + 4).toFixed(1)}" y="${by + BAR - 3}">${formatValue(bar.value)}</text>`,
        );
      });
      if (row.marker !== undefined)
        out.push(
          `<line x1="${x(row.marker.value).toFixed(1)}" x2="${x(row.marker.value).toFixed(1)}" y1="${y - 2}" y2="${y + h + 2}" stroke="#000" stroke-dasharray="3,2"/>`,
        );
      if (row.note !== undefined)
        out.push(
          `<text x="${LEFT + plotWidth + 60}" y="${y + h / 2 + 4}" font-weight="bold">${escapeXml(row.note)}</text>`,
        );
      y += rowHeight(row);
    }
    for (const f of [0, 0.25, 0.5, 0.75, 1])
      out.push(
        `<line x1="${x(f * max).toFixed(1)}" x2="${x(f * max).toFixed(1)}" y1="${y - 4}" y2="${y}" stroke="#999"/>`,
        `<text x="${x(f * max).toFixed(1)}" y="${y + 12}" text-anchor="middle">${formatTick(f * max)}</text>`,
      );
    const legend = [
      ...(panel.rows[0]?.bars ?? []).map((b) => `<tspan fill="${b.color}">■</tspan> ${escapeXml(b.label)}`),
      ...(panel.rows.some((r) => r.marker !== undefined)
        ? [`┆ ${escapeXml(panel.rows.find((r) => r.marker)!.marker!.label)}`]
        : []),
    ];
    out.push(`<text x="${LEFT}" y="${y + 28}">${legend.join('   ')}</text>`);
    top += heights[p]!;
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function formatValue(v: number): string {
  return v >= 100 ? String(Math.round(v)) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export type { Bar, BarPanel, BarRow };
export { svgBars };
