/**
 * The live dashboard of `npm start`, in headless Chromium: Debian's `chromium` package driven by playwright-core
 * (`.ci/run` installs the package; nothing is installed or downloaded here).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { messageOf } from '../../../core/errors.js';
import { eventually } from '../../helpers/eventually.js';
import { ROOT, spawnScript } from '../../helpers/processes.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM)
  console.warn(
    `live dashboard browser test not run: no Chromium at ${CHROMIUM}. Install Debian's chromium package (apt-get install -y chromium), as .ci/run does, or set CHROMIUM_PATH`,
  );

const RUNTIME_FILE = join(tmpdir(), `cdcp-live-${process.pid}.json`);
const ENV = { CDCP_RUNTIME_FILE: RUNTIME_FILE };
/** Where the test leaves its screenshot. */
const OUTPUT_DIR = join(ROOT, 'test-results', 'live-dashboard');
/** `UPDATE_SCREENSHOTS=1` also refreshes the one the README shows. */
const DOCS_SCREENSHOT = join(ROOT, 'docs', 'images', 'live-dashboard.png');

/** What the page shows, read from its DOM. */
interface PageState {
  readonly updates: number;
  readonly inRate: number;
  readonly shards: { readonly shard: string; readonly owner: string; readonly lag: string }[];
  readonly workers: {
    readonly id: string;
    readonly state: string;
    readonly leases: string;
    /** p50/p99 of its last heartbeat period, from its registry item. */
    readonly latency: string;
  }[];
  readonly moves: {
    readonly shard: string;
    readonly how: string;
    readonly from: string;
    readonly to: string;
  }[];
  readonly lagSeries: number;
}

/**
 * Reads what the page shows from its DOM. A string the page evaluates: this repository's TypeScript has no DOM
 * types, and the test needs none beyond what it reads.
 */
const READ_PAGE = `(() => {
  const rows = (id) => [...document.querySelectorAll('#' + id + ' tr')];
  const cell = (row, cls) => row.querySelector('td.' + cls)?.textContent ?? '';
  return {
    updates: Number(document.body.dataset.updates ?? 0),
    inRate: Number((document.getElementById('in-rate')?.textContent ?? '').replace(/,/g, '')) || 0,
    shards: rows('shards').map((r) => ({ shard: cell(r, 'shard'), owner: cell(r, 'owner'), lag: cell(r, 'lag') })),
    workers: rows('workers').map((r) => ({ id: r.dataset.id ?? '', state: cell(r, 'state'), leases: cell(r, 'leases'), latency: cell(r, 'latency') })),
    moves: rows('moves').map((r) => ({ shard: cell(r, 'shard'), how: cell(r, 'how'), from: cell(r, 'from'), to: cell(r, 'to') })),
    lagSeries: Number(document.getElementById('chart-lag')?.dataset.series ?? 0),
  };
})()`;

function readPage(page: Page): Promise<PageState> {
  return page.evaluate<PageState>(READ_PAGE);
}

/** Polls the page until `check` returns a value: page state, never a wall-clock duration, decides. */
async function pageUntil<T>(page: Page, what: string, check: (s: PageState) => T | undefined): Promise<T> {
  let last: PageState | undefined;
  try {
    return await eventually(
      what,
      async () => {
        last = await readPage(page);
        return check(last);
      },
      { timeoutMs: 45_000, intervalMs: 250 },
    );
  } catch (error) {
    throw new Error(`${messageOf(error)}; the page showed ${JSON.stringify(last)}`);
  }
}

describe.runIf(HAS_CHROMIUM)('Live dashboard of npm start in headless Chromium', () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    rmSync(RUNTIME_FILE, { force: true });
  });

  it('shows events/s and per-shard lag as they move, and a killed worker’s leases moving to the others', async () => {
    const run = spawnScript(
      'localstack/run.ts',
      ['--workers', '4', '--shards', '4', '--rate', '300', '--failure-detection-ms', '3000'],
      ENV,
    );
    let watch: ReturnType<typeof spawnScript> | undefined;
    try {
      const address = await eventually(
        'the run to print its dashboard address',
        async () => /live dashboard: (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(run.stderr())?.[1],
        { timeoutMs: 90_000 },
      );
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(address);
      const watching = spawnScript(
        'bin/cdcp.ts',
        ['status', '--local', '--watch', '--interval-ms', '500'],
        ENV,
      );
      watch = watching;
      const t0 = Date.now();
      const mark = (what: string) => console.log(`${what} after ${Date.now() - t0} ms`);

      // Events flow, every shard has a reader and a lag, and the figures move from one update to the next.
      const first = await pageUntil(page, 'events/s and a lag for each of 4 shards held by 4 workers', (s) =>
        s.inRate > 0 &&
        s.shards.length === 4 &&
        s.shards.every((sh) => sh.owner !== '—' && sh.lag.endsWith('ms')) &&
        s.workers.filter((w) => w.state === 'running' && w.leases !== '—').length === 4
          ? s
          : undefined,
      );
      mark('flowing');
      await pageUntil(page, 'events/s and per-shard lag to update', (s) =>
        s.updates > first.updates + 1 &&
        s.inRate > 0 &&
        s.lagSeries === 4 &&
        s.workers.some((w) => /^[\d,]+\/[\d,]+ ms$/.test(w.latency)) &&
        s.shards.some((sh, i) => sh.lag !== first.shards[i]?.lag)
          ? s
          : undefined,
      );

      mark('updated');
      // Kill a worker that is not the assigner: its leases expire and the assigner gives them to the others.
      const control = new URL(address);
      const token = control.searchParams.get('token')!;
      const rows = (await (
        await fetch(`${control.origin}/workers`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { workers: { id: string; assigner: boolean; leases: string[] }[] };
      const target = rows.workers.find((w) => !w.assigner && w.leases.length > 0) ?? rows.workers[0]!;
      const killed = await fetch(`${control.origin}/workers/${target.id}/kill`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(killed.status).toBe(200);

      const after = await pageUntil(page, `the leases of ${target.id} to be taken over on the page`, (s) =>
        s.workers.find((w) => w.id === target.id)?.state === 'killed' &&
        s.shards.every((sh) => sh.owner !== target.id && sh.owner !== '—') &&
        s.moves.some((m) => m.from === target.id && m.how === 'take-over')
          ? s
          : undefined,
      );
      mark('taken over');
      expect(after.workers.filter((w) => w.state === 'running')).toHaveLength(3);
      expect(errors).toEqual([]);

      mkdirSync(OUTPUT_DIR, { recursive: true });
      const shot = join(OUTPUT_DIR, 'live-dashboard.png');
      await page.screenshot({ path: shot, fullPage: true });
      if (process.env.UPDATE_SCREENSHOTS === '1')
        await page.screenshot({ path: DOCS_SCREENSHOT, fullPage: true });
      expect(existsSync(shot)).toBe(true);

      // The terminal's live view, watching all along, gives the same: the run's figures and the take-over.
      const frame = await eventually(
        'a frame of cdcp status --watch with the take-over',
        async () => {
          // Piped, frames follow each other, each starting with its title line; the last may be partial.
          const frames = watching.stdout().split('cdcp status · ').slice(1, -1);
          return frames.findLast((f) => f.includes(`take-over ${target.id} →`));
        },
        { timeoutMs: 30_000 },
      );
      expect(frame).toMatch(/events\/s in/);
      expect(frame).toMatch(/Latency source → applied: now p50 .+; whole run p50 [\d,]+ ms, p99 [\d,]+ ms/);
      expect(frame).toMatch(/SOURCE→APPLIED/);
      mark('watched');
    } finally {
      watch?.child.kill('SIGKILL');
      run.child.kill('SIGKILL');
    }
  }, 240_000);
});
