import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig, reportedConfigVersion } from '../../../core/config/index.js';
import { DynamoDbCoordinationStore, InstanceRegistry } from '../../../core/coordination/index.js';
import { FileConfigSource, LocalConfigStore } from '../../../localstack/config/index.js';
import { resourceNames } from '../../../localstack/provision.js';
import { createCoordinationTable } from '../../helpers/coordination.js';
import { testClients, uniqueName, writeTestRuntimeFile } from '../../helpers/engines.js';
import { eventually } from '../../helpers/eventually.js';
import { spawnScript } from '../../helpers/processes.js';

const clients = testClients();
const folder = mkdtempSync(join(tmpdir(), 'cdcp-config-cli-'));
afterAll(() => {
  clients.destroy();
  rmSync(folder, { recursive: true, force: true });
});

/** `cdcp` with no running pipeline in view, the local store named by CDCP_CONFIG_FILE, and no AppConfig. */
const localEnv = (store: string, more: NodeJS.ProcessEnv = {}) => ({
  CDCP_RUNTIME_FILE: join(folder, 'no-runtime.json'),
  CDCP_CONFIG_FILE: store,
  CDCP_APPCONFIG_APPLICATION_ID: '',
  CDCP_APPCONFIG_ENVIRONMENT_ID: '',
  CDCP_APPCONFIG_PROFILE_ID: '',
  CDCP_APPCONFIG_DEPLOYMENT_STRATEGY_ID: '',
  ...more,
});

async function cdcp(args: readonly string[], env: NodeJS.ProcessEnv) {
  const run = spawnScript('bin/cdcp.ts', ['config', ...args], env);
  const { code } = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

function file(name: string, document: unknown): string {
  const path = join(folder, name);
  writeFileSync(path, typeof document === 'string' ? document : JSON.stringify(document));
  return path;
}

describe('cdcp config defaults / validate', () => {
  it('prints the complete default configuration, which validates', async () => {
    const env = localEnv(join(folder, 'unused.json'));

    const defaults = await cdcp(['defaults'], env);
    const validate = await cdcp(['validate', file('defaults.json', defaults.stdout)], env);

    expect(defaults.code).toBe(0);
    expect(JSON.parse(defaults.stdout)).toEqual(defaultConfig());
    expect(validate.code).toBe(0);
    expect(validate.stderr).toBe(`${join(folder, 'defaults.json')} is a valid configuration\n`);
  });

  it('exits non-zero listing every violation with its path, the value received and what was expected', async () => {
    const bad = file('bad.json', {
      processing: { maxAttempts: 0, maxAtempts: 3 },
      tables: { 'public.orders': { priority: 'urgent' } },
      scaling: { minShards: 10, maxShards: 2 },
    });

    const result = await cdcp(['validate', bad], localEnv(join(folder, 'unused.json')));

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${bad} has 4 problems:\n`);
    expect(result.stderr).toContain(
      '  - processing.maxAttempts: received 0, expected an integer from 1 to 1000\n',
    );
    expect(result.stderr).toContain(
      '  - processing.maxAtempts: received 3, expected no setting named "maxAtempts" here (did you mean "maxAttempts"?)',
    );
    expect(result.stderr).toContain(
      '  - tables["public.orders"].priority: received "urgent", expected one of "high", "normal", "low"\n',
    );
    expect(result.stderr).toContain(
      '  - scaling.minShards: received 10, expected at most scaling.maxShards (2)\n',
    );
  });

  it('says where a file that is not JSON breaks', async () => {
    const result = await cdcp(['validate', file('torn.json', '{"processing": {"maxAttempts": 3')], {});

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /torn\.json is not valid JSON \(.*position \d+\); received "\{\\"processing/,
    );
  });
});

describe('cdcp config set / get on the local store', () => {
  it('refuses an invalid file, publishes a valid one that a running worker applies, and reads it back', async () => {
    const store = new LocalConfigStore({ path: join(folder, 'store', 'config.json') });
    await store.publish({ processing: { maxAttempts: 4 } });
    const worker = await FileConfigSource.open({ path: store.path });
    const env = localEnv(store.path);

    const refused = await cdcp(
      ['set', file('invalid.json', { tables: { 'public.orders': { paused: 'yes' } } })],
      env,
    );

    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'tables["public.orders"].paused: received "yes", expected true or false',
    );
    expect(refused.stderr).toContain('nothing was published');
    expect((await store.current())?.version).toBe('1');

    const published = await cdcp(
      [
        'set',
        file('pause.json', { version: 'v-mine', tables: { 'public.orders': { paused: true } } }),
        '--description',
        'pause orders',
      ],
      env,
    );

    expect(published.code, published.stderr).toBe(0);
    expect(published.stdout).toMatch(new RegExp(`^version 2 published \\S+Z to file:${store.path}\\n$`));
    expect(published.stderr).toContain('the file\'s version "v-mine" was replaced');
    const applied = await eventually('the worker to apply version 2', async () =>
      worker.current().version === '2' ? worker.current() : undefined,
    );
    expect(applied.config.tables['public.orders']?.paused).toBe(true);
    expect((await store.history()).at(-1)?.description).toBe('pause orders');

    const got = await cdcp(['get'], env);

    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toEqual(JSON.parse(readFileSync(store.path, 'utf8')));
    expect(got.stderr).toMatch(/^cdcp config get: acting on the local store .*\nversion 2 published /);
    await worker.close();
  });

  it('reports a corrupt store on get, and workers stay on their last good version', async () => {
    const store = new LocalConfigStore({ path: join(folder, 'corrupt', 'config.json') });
    await store.publish({});
    const worker = await FileConfigSource.open({ path: store.path });
    writeFileSync(store.path, '{"version": ');

    const got = await cdcp(['get'], localEnv(store.path));
    await eventually('the worker to see the corrupt store', async () => worker.lastRejection);

    expect(got.code).toBe(1);
    expect(got.stderr).toContain(`the local config store ${store.path} is not valid JSON`);
    expect(got.stderr).toContain('Instances keep running their last good version');
    expect(worker.current().version).toBe('1');
    await worker.close();
  });

  it('says what to set when no store can be found', async () => {
    const result = await cdcp(['get'], localEnv(''));

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no config store was found');
    expect(result.stderr).toContain('CDCP_CONFIG_FILE is not set (received "")');
  });
});

describe('cdcp config status', () => {
  it("shows each live instance's version and how long the newest took to reach all of them", async () => {
    const prefix = uniqueName('cfg-status');
    const coordinationTable = await createCoordinationTable(clients.dynamodb, prefix);
    const store = new LocalConfigStore({ path: join(folder, 'status', 'config.json') });
    await store.publish({});
    const published = await store.publish({ shedding: { active: true } });
    // What `npm start` writes (this test process stands in for it), with the store it publishes to.
    const runtimeFile = join(folder, 'runtime.json');
    writeTestRuntimeFile(runtimeFile, resourceNames(prefix), { configFile: store.path });
    const env = { CDCP_RUNTIME_FILE: runtimeFile, CDCP_APPCONFIG_APPLICATION_ID: '' };
    // Four workers' registry items, as their heartbeats write them: three applied version 2, one still on 1.
    const registry = new InstanceRegistry({
      store: new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: coordinationTable }),
    });
    const at = (afterMs: number) => published.publishedAtWallMs + afterMs;
    const workers = [
      ['worker-a', reportedConfigVersion({ version: '2', appliedAtWallMs: at(40) })],
      ['worker-b', reportedConfigVersion({ version: '2', appliedAtWallMs: at(1_250) })],
      ['worker-c', reportedConfigVersion({ version: '2', appliedAtWallMs: at(310) })],
      ['worker-d', reportedConfigVersion({ version: '1', appliedAtWallMs: at(-60_000) })],
    ] as const;
    for (const [instanceId, configVersion] of workers)
      expect(await registry.register({ instanceId, kind: 'worker', configVersion })).toBe(true);

    const behind = await cdcp(['status', '--json'], env);
    const waited = await cdcp(['status', '--wait', '0.5'], env);

    expect(behind.code, behind.stderr).toBe(0);
    const report = JSON.parse(behind.stdout);
    expect(report).toMatchObject({
      published: {
        version: '2',
        publishedAtWallMs: published.publishedAtWallMs,
        target: `file:${store.path}`,
      },
      latestVersion: '2',
      onLatest: 3,
      converged: false,
    });
    expect(report.convergenceMs).toBeUndefined();
    expect(
      report.instances.map((i: { instanceId: string; version: string }) => [i.instanceId, i.version]),
    ).toEqual([
      ['worker-a', '2'],
      ['worker-b', '2'],
      ['worker-c', '2'],
      ['worker-d', '1'],
    ]);
    expect(waited.code).toBe(1);
    expect(waited.stdout).toContain('3 of 4 live instance(s) run version 2; not converged yet');

    // worker-d's next heartbeat reports version 2, applied 2.5 s after publication.
    await registry.heartbeat('worker-d', {
      configVersion: reportedConfigVersion({ version: '2', appliedAtWallMs: at(2_500) }),
    });
    const converged = await cdcp(['status'], env);

    expect(converged.code, converged.stderr).toBe(0);
    expect(converged.stdout).toContain(
      `version 2 published ${new Date(published.publishedAtWallMs).toISOString()}`,
    );
    expect(converged.stdout).toMatch(/worker-b\s+worker\s+2\s+\S+Z \(\+1250 ms\)/);
    expect(converged.stdout).toContain(
      'all 4 live instance(s) run version 2; it reached all of them 2500 ms after publication',
    );
  });
});
