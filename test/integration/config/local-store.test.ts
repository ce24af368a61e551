import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ConfigSnapshot, ConfigValidationError, parseConfig } from '../../../core/config/index.js';
import { METRICS } from '../../../core/constants.js';
import {
  FileConfigSource,
  type FileConfigSourceOptions,
  LocalConfigStore,
  startLocalConfig,
} from '../../../localstack/config/index.js';
import { eventually } from '../../helpers/eventually.js';

const folders: string[] = [];
const sources: FileConfigSource[] = [];

function storeInTempFolder() {
  const folder = mkdtempSync(join(tmpdir(), 'cdcp-config-'));
  folders.push(folder);
  return new LocalConfigStore({ path: join(folder, 'config.json') });
}

async function worker(store: LocalConfigStore, options: Partial<FileConfigSourceOptions> = {}) {
  const metrics: string[] = [];
  const changes: ConfigSnapshot[] = [];
  const source = await FileConfigSource.open({
    path: store.path,
    metrics: { addMetric: (name) => metrics.push(name) },
    ...options,
  });
  sources.push(source);
  source.subscribe((next) => changes.push(next));
  return { source, metrics, changes };
}

/**
 * Puts `text` in the store's place in one step, as a hand edit saved by an editor does. (Written in place, a
 * reader could first see the truncated, empty file: a second, different corrupt content.)
 */
function replaceFile(path: string, text: string): void {
  writeFileSync(`${path}.edit`, text);
  renameSync(`${path}.edit`, path);
}

/** Waits until the source runs `version` (the watcher or the poll delivers it). */
function reaches(source: FileConfigSource, version: string, timeoutMs = 10_000) {
  return eventually(
    `the worker to run version ${version} (it runs ${source.current().version})`,
    async () => (source.current().version === version ? source.current() : undefined),
    { timeoutMs: timeoutMs, intervalMs: 10 },
  );
}

afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close()));
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe('Class: LocalConfigStore', () => {
  it('publishes validated, stamped versions that grow by one, and keeps a history', async () => {
    const store = storeInTempFolder();

    const first = await store.publish({ processing: { maxAttempts: 5 } }, { description: 'first' });
    const second = await store.publish({ version: 'mine', tables: { 'public.orders': { paused: true } } });

    expect([first.version, second.version]).toEqual(['1', '2']);
    const stored = JSON.parse(await readFile(store.path, 'utf8'));
    expect(stored.version).toBe('2');
    expect(stored.publishedAt).toBe(new Date(second.publishedAtWallMs).toISOString());
    expect(stored.tables['public.orders']).toEqual({ paused: true, priority: 'normal' });
    expect(stored.processing.maxAttempts).toBe(3);
    expect((await store.history()).map((h) => [h.version, h.description])).toEqual([
      ['1', 'first'],
      ['2', undefined],
    ]);
    expect((await store.current())?.version).toBe('2');
  });

  it('refuses an invalid document and leaves the store as it was', async () => {
    const store = storeInTempFolder();
    await store.publish({});

    await expect(store.publish({ processing: { maxAttempts: 0 } })).rejects.toThrow(ConfigValidationError);

    expect((await store.current())?.version).toBe('1');
    expect(await store.history()).toHaveLength(1);
  });

  it('gives concurrent publishers distinct versions', async () => {
    const store = storeInTempFolder();
    const other = new LocalConfigStore({ path: store.path });

    const published = await Promise.all([
      store.publish({}),
      other.publish({}),
      store.publish({}),
      other.publish({}),
      store.publish({}),
    ]);

    expect(published.map((p) => Number(p.version)).sort()).toEqual([1, 2, 3, 4, 5]);
    expect((await store.current())?.version).toBe('5');
  });

  it('continues the version count after the document was corrupted', async () => {
    const store = storeInTempFolder();
    await store.publish({});
    await store.publish({});
    writeFileSync(store.path, '{"version": "2", "proc');

    await expect(store.current()).rejects.toThrow(/is not valid JSON/);
    const next = await store.publish({});

    expect(next.version).toBe('3');
  });
});

describe('Class: FileConfigSource', () => {
  it('applies a published change without restart', async () => {
    const store = storeInTempFolder();
    await store.publish({ processing: { maxAttempts: 2 } });
    const { source, changes } = await worker(store);
    expect(source.current()).toMatchObject({ version: '1', origin: `file:${store.path}` });

    const published = await store.publish({ tables: { 'public.orders': { paused: true } } });
    const applied = await reaches(source, '2');

    expect(applied.config.tables['public.orders']?.paused).toBe(true);
    expect(applied.config.processing.maxAttempts).toBe(3);
    expect(applied.publishedAtWallMs).toBe(published.publishedAtWallMs);
    expect(changes.map((c) => c.version)).toEqual(['2']);
  });

  it('sees changes through the poll alone when watching is off', async () => {
    const store = storeInTempFolder();
    await store.publish({});
    const { source } = await worker(store, { watch: false, pollIntervalMs: 50 });

    await store.publish({ shedding: { active: true } });

    expect((await reaches(source, '2')).config.shedding.active).toBe(true);
  });

  it('leaves workers on the last good version when the store is corrupted, then takes the next good one', async () => {
    const store = storeInTempFolder();
    await store.publish({ processing: { maxAttempts: 4 } });
    const workers = await Promise.all([
      worker(store),
      worker(store),
      worker(store, { watch: false, pollIntervalMs: 50 }),
    ]);

    // Broken content, put there by hand (not through the store).
    replaceFile(store.path, '{"version": "9", "processing": {"maxAttempts": ');
    for (const { source } of workers)
      await eventually('the corrupt file to be seen', async () => source.lastRejection, {
        timeoutMs: 10_000,
        intervalMs: 10,
      });

    for (const { source, metrics } of workers) {
      expect(source.current().version).toBe('1');
      expect(source.current().config.processing.maxAttempts).toBe(4);
      expect(source.lastRejection).toMatchObject({ kind: 'corrupt', keptVersion: '1' });
      expect(metrics.filter((m) => m === METRICS.configInvalid)).toHaveLength(1);
    }

    const next = await store.publish({ processing: { maxAttempts: 6 } });
    for (const { source } of workers) {
      const applied = await reaches(source, next.version);
      expect(applied.config.processing.maxAttempts).toBe(6);
      expect(source.lastRejection).toBeUndefined();
    }
  });

  it('refuses content that breaks the schema and names every violation', async () => {
    const store = storeInTempFolder();
    await store.publish({});
    const { source } = await worker(store);

    replaceFile(
      store.path,
      JSON.stringify({ version: '5', processing: { maxAttempts: 0 }, tables: { t: { priority: 'top' } } }),
    );
    const rejection = await eventually('the invalid file to be refused', async () => source.lastRejection, {
      timeoutMs: 10_000,
      intervalMs: 10,
    });

    expect(rejection.kind).toBe('invalid');
    expect(rejection.violations.map((v) => v.message)).toEqual([
      'processing.maxAttempts: received 0, expected an integer from 1 to 1000',
      'tables.t.priority: received "top", expected one of "high", "normal", "low"',
    ]);
    expect(source.current().version).toBe('1');
  });

  it('runs the fallback while the store is missing, and counts the failed reads', async () => {
    const store = storeInTempFolder();
    const fallback = parseConfig({ version: 'startup', processing: { maxAttempts: 9 } });

    const { source, metrics } = await worker(store, { fallback, pollIntervalMs: 50 });

    expect(source.current()).toMatchObject({ version: 'startup', origin: 'fallback' });
    expect(source.lastRejection?.kind).toBe('unreachable');
    expect(source.lastRejection?.message).toMatch(
      /cannot read the local config store .*config\.json: ENOENT/,
    );
    expect(metrics).toContain(METRICS.configFetchFailures);

    await store.publish({});
    expect((await reaches(source, '1')).origin).toBe(`file:${store.path}`);
  });
});

describe('Function: startLocalConfig', () => {
  it("publishes the run's starting config as the next version and watches the store", async () => {
    const store = storeInTempFolder();
    await store.publish({ shedding: { active: true } });

    const local = await startLocalConfig({ path: store.path, initial: { processing: { maxAttempts: 2 } } });
    sources.push(local.source);

    expect(local.published.version).toBe('2');
    expect(local.source.current()).toMatchObject({ version: '2', origin: `file:${store.path}` });
    expect(local.source.current().config.shedding.active).toBe(false);
    expect((await store.history()).at(-1)?.description).toBe('npm start');

    await store.publish({ processing: { maxAttempts: 7 } });
    expect((await reaches(local.source, '3')).config.processing.maxAttempts).toBe(7);
  });
});
