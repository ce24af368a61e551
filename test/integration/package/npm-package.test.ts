/**
 * The package as another team gets it: `npm pack` (which builds on prepack), installed with aws-cdk-lib,
 * constructs and aws-cdk into a new project from the local npm cache, a plain-JavaScript CDK app that adds the
 * construct with the project's own projection module, `cdk synth` offline, the synthesized consumer bundle
 * run on a batch of real records against DynamoDB Local, and `npx cdcp` from that project.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ENV } from '../../../core/constants.js';
import { scanState } from '../../../localstack/run/state-scan.js';
import type { CfnTemplate } from '../../../localstack/template/cfn-template.js';
import { provisionFromTemplate } from '../../../localstack/template/index.js';
import {
  functionArtifact,
  invokeBundle,
  localAwsEnvironment,
  resolveEnvironment,
} from '../../helpers/bundles.js';
import { testClients, uniqueName } from '../../helpers/engines.js';
import { ROOT } from '../../helpers/processes.js';

const exec = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const FIXTURE = join(
  ROOT,
  'test/fixtures/dynamodb-kinesis/lambda-kinesis-event-ddb-kds-insert-powertools-ts.json',
);

const version = (name: string) =>
  (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
    .version;
const ownVersion = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

const clients = testClients();
const work = mkdtempSync(join(tmpdir(), 'cdcp-package-'));
const project = join(work, 'consumer-app');
const timings: Record<string, number> = {};
const quiet = {
  ...process.env,
  CDK_DISABLE_VERSION_CHECK: '1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};
let tarball: string;

async function timed<T>(step: string, action: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await action();
  } finally {
    timings[step] = Math.round(performance.now() - started);
  }
}

const inProject = (command: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  exec(command, args, { cwd: project, env: { ...quiet, ...env }, maxBuffer: 64 * 1024 * 1024 });

beforeAll(async () => {
  const packed = await timed('npm pack (builds on prepack)', () =>
    exec(NPM, ['pack', '--pack-destination', work, '--silent'], { cwd: ROOT, env: quiet }),
  );
  tarball = join(work, packed.stdout.trim().split('\n').at(-1)!);
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer-app', private: true, type: 'module' }),
  );
  writeFileSync(
    join(project, 'cdk.json'),
    JSON.stringify({ notices: false, versionReporting: false, context: { 'cli-telemetry': false } }),
  );
  writeFileSync(
    join(project, 'projection.mjs'),
    `import { defineProjection } from 'cdc-event-processor';

// The team's projection: how many changes each aggregate saw, and its latest event type.
export default defineProjection({
  name: 'event-tally',
  needsPreviousState: true,
  apply: (previous, change) => ({
    deleted: false,
    state: { seen: Number(previous?.state?.seen ?? 0) + 1, lastOp: change.op },
  }),
});
`,
  );
  writeFileSync(
    join(project, 'app.mjs'),
    `import { App, Stack } from 'aws-cdk-lib';
import { CdcProcessor } from 'cdc-event-processor/cdk';

const app = new App();
const stack = new Stack(app, 'ConsumerApp');
new CdcProcessor(stack, 'Cdc', { projectionEntry: 'projection.mjs' });
`,
  );
  await timed('npm install (tarball, aws-cdk-lib, constructs, aws-cdk; from the npm cache)', () =>
    inProject(NPM, [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      tarball,
      `aws-cdk-lib@${version('aws-cdk-lib')}`,
      `constructs@${version('constructs')}`,
      `aws-cdk@${version('aws-cdk')}`,
    ]),
  );
}, 300_000);

afterAll(() => {
  clients.destroy();
  console.info(
    `packaging test timings (ms): ${Object.entries(timings)
      .map(([step, ms]) => `${step} ${ms}`)
      .join('; ')}`,
  );
  rmSync(work, { recursive: true, force: true });
});

describe('Package: cdc-event-processor from its tarball', () => {
  it('ships compiled JavaScript with type declarations, and no TypeScript sources or tests', async () => {
    const { stdout } = await exec('tar', ['-tzf', tarball]);
    const files = stdout.trim().split('\n');
    expect(files).toContain('package/dist/runtime/index.js');
    expect(files).toContain('package/dist/runtime/index.d.ts');
    expect(files).toContain('package/dist/lib/index.js');
    expect(files).toContain('package/dist/lib/index.d.ts');
    expect(files).toContain('package/bin/cdcp.js');
    // The worker image's Dockerfile, which the construct stages beside the bundle it builds.
    expect(files).toContain('package/Dockerfile');
    expect(files).toContain('package/.dockerignore');
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => f.includes('/test/') || f.includes('/bench/'))).toEqual([]);
  });

  it("synthesizes a plain-JavaScript CDK app offline, and its consumer bundle applies the team's projection", async () => {
    const out = join(project, 'cdk.out');
    await timed('cdk synth --app "node app.mjs"', () =>
      inProject(NPX, ['cdk', 'synth', '--app', 'node app.mjs', '--output', out, '--quiet']),
    );
    const template = JSON.parse(readFileSync(join(out, 'ConsumerApp.template.json'), 'utf8')) as CfnTemplate;
    const consumer = functionArtifact(template, out, 'cdc-event-processor consumer');
    expect(JSON.parse(String(consumer.environment[ENV.PROJECTION]))).toMatchObject({
      name: 'event-tally',
      entry: 'projection.mjs',
    });
    expect(readdirSync(consumer.assetDir).sort()).toEqual(['index.mjs', 'index.mjs.map']);

    const provisioned = await provisionFromTemplate(clients, { template, prefix: uniqueName('package') });
    const refs = Object.fromEntries(provisioned.tables.map((t) => [t.logicalId, t.tableName]));
    const environment = {
      ...resolveEnvironment(consumer.environment, refs),
      ...localAwsEnvironment({ dynamodb: inject('dynamodbEndpoint') }),
    };
    const event = JSON.parse(readFileSync(FIXTURE, 'utf8'));
    const run = await timed('consumer bundle on a batch', () =>
      invokeBundle(consumer.bundle, environment, [event]),
    );

    expect(run.results).toEqual([{ batchItemFailures: [] }]);
    const state = await scanState(clients.dynamodb, provisioned.names.stateTable);
    expect(state.size).toBe(2);
    for (const row of state.values()) expect(row.state).toEqual({ seen: 1, lastOp: 'create' });
  });

  it("stages the worker image from the installed package: a bundle with the team's projection, no node_modules", async () => {
    const context = join(work, 'image-context');
    mkdirSync(context);
    const lib = join(project, 'node_modules/cdc-event-processor/dist/lib');
    const script = `
      const { stageWorkerImage } = await import(${JSON.stringify(join(lib, 'worker-image.js'))});
      const { probeProjectionModuleSync } = await import(${JSON.stringify(join(lib, '../projection-module/load.js'))});
      const path = ${JSON.stringify(join(project, 'projection.mjs'))};
      stageWorkerImage(${JSON.stringify(context)}, { path, identity: probeProjectionModuleSync(path, 'projection.mjs') });
    `;
    await timed('stage the worker image', () =>
      inProject(process.execPath, ['--input-type=module', '-e', script]),
    );

    expect(readdirSync(context).sort()).toEqual(['.dockerignore', 'Dockerfile', 'worker']);
    const help = await exec(process.execPath, ['worker.mjs', 'worker', '--help'], {
      cwd: join(context, 'worker'),
      env: { PATH: process.env.PATH },
    });
    expect(help.stdout).toContain('Built with the projection {"name":"event-tally"');
  });

  it('runs npx cdcp --version and npx cdcp decode from the project, and imports the runtime entry', async () => {
    const versionRun = await inProject(NPX, ['cdcp', '--version']);
    const decodeRun = await inProject(NPX, ['cdcp', 'decode', FIXTURE]);
    const runtime = await inProject(process.execPath, [
      '--input-type=module',
      '-e',
      "import { decode, defineProjection, Producer } from 'cdc-event-processor'; " +
        'process.stdout.write(JSON.stringify([typeof decode, typeof defineProjection, typeof Producer]));',
    ]);

    expect(versionRun.stdout).toBe(`${ownVersion}\n`);
    const lines = decodeRun.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { format: string; op: string });
    expect(lines.map((l) => [l.format, l.op])).toEqual([
      ['dynamodb', 'create'],
      ['dynamodb', 'create'],
    ]);
    expect(decodeRun.stderr).toContain('2 record(s): 2 change(s), 0 error(s)');
    expect(JSON.parse(runtime.stdout)).toEqual(['function', 'function', 'function']);
  });

  it("serves the live dashboard's page and its chart library from the installed uPlot", async () => {
    const server = join(
      project,
      'node_modules',
      'cdc-event-processor',
      'dist',
      'localstack',
      'run',
      'control-server.js',
    );
    const script = [
      `const { startControlServer } = await import(${JSON.stringify(pathToFileURL(server).href)});`,
      'const s = await startControlServer(() => undefined);',
      "const lib = await fetch(s.endpoint.url + '/assets/uPlot.iife.min.js');",
      'const page = await fetch(s.endpoint.dashboardUrl);',
      "process.stdout.write([lib.status, (await lib.text()).includes('uPlot'), page.status].join(' '));",
      'await s.close();',
    ].join('\n');

    const { stdout } = await inProject(process.execPath, ['--input-type=module', '-e', script]);

    expect(stdout).toBe('200 true 200');
  });
});
