/** A small hand-written SVG line chart: stacked panels sharing the x axis (time, by default). No dependencies. */

interface Series {
  readonly label: string;
  readonly color: string;
  readonly values: readonly number[];
  readonly dashed?: boolean;
  readonly width?: number;
}

interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly series: readonly Series[];
  /** Log scale (values ≤ 0 drawn at the floor). */
  readonly log?: boolean;
}

/** The shared x axis, when it is not hours from 0. */
interface XAxis {
  /** Where the axis starts. @default 0 */
  readonly min?: number;
  /** The ticks to draw. @default whole hours (every 2 or 24 on long charts) */
  readonly ticks?: readonly number[];
  /** A tick's label. @default `${x} h` */
  readonly label?: (x: number) => string;
  /** A log scale (x > 0). @default linear */
  readonly log?: boolean;
  /** Mark each sample with a dot (few samples: a measured curve). @default false */
  readonly dots?: boolean;
  /** Vertical lines across every panel at these x values, labelled (events on a timeline). */
  readonly markers?: readonly { readonly x: number; readonly label: string }[];
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

/**
 * Renders `panels` over `hours` (x values shared by every series, one per sample).
 *
 * @example
 * ```ts
 * writeFileSync('chart.svg', svgChart('flash spike', hours, [{ title: 'load', unit: 'records/s', series }]));
 * ```
 */
function svgChart(
  title: string,
  hours: readonly number[],
  panels: readonly Panel[],
  axis: XAxis = {},
): string {
  const width = 960;
  const panelHeight = 220;
  const left = 70;
  const right = 200;
  const top = 50;
  const gap = 60;
  const height = top + panels.length * (panelHeight + gap);
  const plotWidth = width - left - right;
  const xMax = hours.at(-1) ?? 1;
  const xMin = axis.min ?? (axis.log ? (hours[0] ?? 1) : 0);
  const x = (h: number) =>
    axis.log
      ? left + ((Math.log10(h) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin) || 1)) * plotWidth
      : left + ((h - xMin) / (xMax - xMin || 1)) * plotWidth;
  const xLabel = axis.label ?? ((h: number) => `${h} h`);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  panels.forEach((panel, i) => {
    const y0 = top + i * (panelHeight + gap) + 20;
    const all = panel.series.flatMap((s) => s.values).filter((v) => Number.isFinite(v));
    const floor = 1;
    const max = niceMax(Math.max(...all, panel.log ? 10 : 1));
    const y = (v: number) => {
      if (panel.log) {
        const lv = Math.log10(Math.max(floor, v));
        return y0 + panelHeight - (lv / Math.log10(max)) * panelHeight;
      }
      return y0 + panelHeight - (Math.max(0, v) / max) * panelHeight;
    };
    out.push(
      `<text x="${left}" y="${y0 - 12}" font-weight="bold">${escapeXml(panel.title)} (${escapeXml(panel.unit)}${panel.log ? ', log scale' : ''})</text>`,
    );
    out.push(
      `<rect x="${left}" y="${y0}" width="${plotWidth}" height="${panelHeight}" fill="none" stroke="#999"/>`,
    );
    const ticks = panel.log
      ? Array.from({ length: Math.round(Math.log10(max)) + 1 }, (_, k) => 10 ** k)
      : [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
    for (const t of ticks) {
      out.push(
        `<line x1="${left}" x2="${left + plotWidth}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#eee"/>`,
      );
      out.push(
        `<text x="${left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${formatTick(t)}</text>`,
      );
    }
    const step = xMax > 48 ? 24 : xMax > 12 ? 2 : 1;
    const xTicks = axis.ticks ?? Array.from({ length: Math.floor(xMax / step) + 1 }, (_, k) => k * step);
    for (const h of xTicks) {
      out.push(
        `<line x1="${x(h).toFixed(1)}" x2="${x(h).toFixed(1)}" y1="${y0}" y2="${y0 + panelHeight}" stroke="#f3f3f3"/>`,
      );
      out.push(
        `<text x="${x(h).toFixed(1)}" y="${y0 + panelHeight + 14}" text-anchor="middle">${escapeXml(xLabel(h))}</text>`,
      );
    }
    for (const marker of axis.markers ?? []) {
      const mx = x(marker.x).toFixed(1);
      out.push(
        `<line x1="${mx}" x2="${mx}" y1="${y0}" y2="${y0 + panelHeight}" stroke="#d62728" stroke-dasharray="3,3"/>`,
      );
      if (i === 0)
        out.push(
          `<text x="${mx}" y="${y0 - 2}" text-anchor="middle" fill="#d62728">${escapeXml(marker.label)}</text>`,
        );
    }
    panel.series.forEach((s, k) => {
      const stride = Math.max(1, Math.floor(s.values.length / 2000));
      const pts: string[] = [];
      for (let j = 0; j < s.values.length; j += stride)
        pts.push(`${x(hours[j]!).toFixed(1)},${y(s.values[j]!).toFixed(1)}`);
      out.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="${s.width ?? 1.4}"${s.dashed ? ' stroke-dasharray="5,3"' : ''} points="${pts.join(' ')}"/>`,
      );
      if (axis.dots)
        for (const p of pts) {
          const [px, py] = p.split(',');
          out.push(`<circle cx="${px}" cy="${py}" r="3" fill="${s.color}"/>`);
        }
      const ly = y0 + 10 + k * 16;
      out.push(
        `<line x1="${left + plotWidth + 12}" x2="${left + plotWidth + 32}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>`,
      );
      out.push(`<text x="${left + plotWidth + 38}" y="${ly + 4}">${escapeXml(s.label)}</text>`);
    });
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function formatTick(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(v % 1e6 === 0 ? 0 : 1)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(v % 1e3 === 0 ? 0 : 1)}k`;
  return String(Math.round(v * 100) / 100);
}

export type { Panel, Series, XAxis };
export { escapeXml, formatTick, niceMax, svgChart };
