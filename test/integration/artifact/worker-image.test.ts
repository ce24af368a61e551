/**
 * The worker image, without a Docker daemon: its build context is staged by the same function the construct
 * calls at synthesis (the worker bundled by esbuild with a projection module), then laid out as the
 * Dockerfile's final stage lays it out — the bundle alone in an `/app` folder outside this repository, no
 * node_modules, no package.json — and its entry command is run as the image runs it: `--help`, then a real
 * start against DynamoDB Local and kinesalite, configured by environment as the task definition configures it,
 * until the task definition's health check passes, records are applied with the built-in projection, and
 * SIGTERM ends it with a hand-off (exit 0).
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ENV } from '../../../core/constants.js';
import { displayEntry } from '../../../lib/function-code.js';
import { stageWorkerImage, WORKER_IMAGE } from '../../../lib/worker-image.js';
import { provision, resourceNames } from '../../../localstack/provision.js';
import { scanState } from '../../../localstack/run/state-scan.js';
import { verifyAgainstModel } from '../../../localstack/run/verify.js';
import { WORKLOAD_TABLES, WorkloadGenerator } from '../../../localstack/workload/generator.js';
import { loadProjectionModule, probeProjectionModuleSync } from '../../../projection-module/load.js';
import { testClients, uniqueName } from '../../helpers/engines.js';
import { eventually } from '../../helpers/eventually.js';
import { spawnCapturing } from '../../helpers/processes.js';

const run = promisify(execFile);
const PROJECTION = 'test/helpers/projections/change-count.mjs';
const clients = testClients();
const folder = mkdtempSync(join(tmpdir(), 'cdcp-worker-image-'));
const context = join(folder, 'context');
/** The final stage's filesystem root: `/app` of the image is `<root>/app` here. */
const root = join(folder, 'image');
let stageMs: number;

/** One instruction of a Dockerfile stage. */
interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** The Dockerfile's stages, each a list of instructions (comments and blank lines dropped). */
function stagesOf(dockerfile: string): Instruction[][] {
  const stages: Instruction[][] = [];
  for (const line of dockerfile.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    const [op, ...rest] = line.split(/\s+/);
    const instruction = { op: op!.toUpperCase(), args: rest.join(' ') };
    if (instruction.op === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
}

const only = (stage: Instruction[], op: string) => stage.filter((i) => i.op === op);

/** The image's program in the final stage's layout: the image's node is this Node.js, `/app` is `<root>/app`. */
function imageCommand(
  entrypoint: readonly string[],
  command: readonly string[],
  extra: readonly string[] = [],
) {
  const [node, ...args] = [...entrypoint, ...command, ...extra].map((a) =>
    a.startsWith(`${WORKER_IMAGE.appDir}/`) ? join(root, a) : a,
  );
  expect(node).toBe(WORKER_IMAGE.node);
  return { file: process.execPath, args };
}

let dockerfile: Instruction[][];

beforeAll(() => {
  const started = performance.now();
  mkdirSync(context);
  const path = join(process.cwd(), PROJECTION);
  stageWorkerImage(context, { path, identity: probeProjectionModuleSync(path, displayEntry(path)) });
  stageMs = performance.now() - started;
  dockerfile = stagesOf(readFileSync(join(context, 'Dockerfile'), 'utf8'));
  // What the stages do: the check stage copies the context's bundle folder into its WORKDIR, and the final
  // stage copies that WORKDIR into its own.
  const [check, final] = dockerfile;
  expect(only(check!, 'COPY').map((i) => i.args)).toEqual([`${WORKER_IMAGE.contextFolder}/ ./`]);
  expect(only(check!, 'WORKDIR').map((i) => i.args)).toEqual([WORKER_IMAGE.appDir]);
  expect(only(final!, 'WORKDIR').map((i) => i.args)).toEqual([WORKER_IMAGE.appDir]);
  expect(only(final!, 'COPY').map((i) => i.args)).toEqual([`--from=check ${WORKER_IMAGE.appDir}/ ./`]);
  cpSync(join(context, WORKER_IMAGE.contextFolder), join(root, WORKER_IMAGE.appDir), { recursive: true });
});

afterAll(() => {
  clients.destroy();
  rmSync(folder, { recursive: true, force: true });
});

describe('The worker image', () => {
  it('is multi-stage: a Node.js 24 check, then distroless Node.js 24 with no build step, run as a non-root user', () => {
    const [check, final] = dockerfile;
    expect(dockerfile).toHaveLength(2);
    expect(check![0]!.args).toMatch(/^--platform=\$BUILDPLATFORM \$\{NODE_IMAGE\} AS check$/);
    expect(final![0]!.args).toMatch(/^\$\{RUNTIME_IMAGE\}$/);
    const args = readFileSync(join(context, 'Dockerfile'), 'utf8');
    expect(args).toContain('ARG NODE_IMAGE=public.ecr.aws/docker/library/node:24-');
    expect(args).toContain('ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot');
    // Nothing is installed or built in the final stage: it only copies.
    expect(final!.map((i) => i.op)).not.toContain('RUN');
    expect(only(final!, 'USER').map((i) => i.args)).toEqual([WORKER_IMAGE.user]);
    expect(JSON.parse(only(final!, 'ENTRYPOINT')[0]!.args)).toEqual([
      WORKER_IMAGE.node,
      `${WORKER_IMAGE.appDir}/${WORKER_IMAGE.bundleFile}`,
    ]);
    expect(JSON.parse(only(final!, 'CMD')[0]!.args)).toEqual([...WORKER_IMAGE.command]);
  });

  it('needs no node_modules: the final layout holds the bundle and its source map only', () => {
    expect(readdirSync(join(root, WORKER_IMAGE.appDir)).sort()).toEqual([
      WORKER_IMAGE.bundleFile,
      `${WORKER_IMAGE.bundleFile}.map`,
    ]);
    expect(existsSync(join(folder, 'node_modules'))).toBe(false);
    console.info(`worker image context staged (esbuild bundle) in ${(stageMs / 1000).toFixed(1)} s`);
  });

  it('answers --help with the worker settings and the projection built into it', async () => {
    const [, final] = dockerfile;
    const { file, args } = imageCommand(
      JSON.parse(only(final!, 'ENTRYPOINT')[0]!.args),
      JSON.parse(only(final!, 'CMD')[0]!.args),
      ['--help'],
    );

    const { stdout } = await run(file, args, {
      cwd: join(root, WORKER_IMAGE.appDir),
      env: { PATH: process.env.PATH },
    });

    expect(stdout).toMatch(/^Usage: cdcp worker /);
    expect(stdout).toContain('CDCP_STREAM_NAME');
    expect(stdout).toMatch(/Built with the projection \{"name":"change-count","fingerprint":"[0-9a-f]{16}"/);
  });

  it('starts as the task runs it, passes its health check, applies records with its projection, and hands off on SIGTERM', async () => {
    const [, final] = dockerfile;
    const { file, args } = imageCommand(
      JSON.parse(only(final!, 'ENTRYPOINT')[0]!.args),
      JSON.parse(only(final!, 'CMD')[0]!.args),
    );
    const names = resourceNames(uniqueName('image'));
    const { streamArn } = await provision(clients, names, { shardCount: 1 });
    const { projection, identity } = await loadProjectionModule(PROJECTION);
    const workload = new WorkloadGenerator({ seed: 3, aggregates: 20, projection });
    // The task definition's variables, with the engines as endpoints and credentials as a role gives them.
    const {
      child: worker,
      stdout,
      stderr,
      exited,
    } = spawnCapturing(file, args, {
      cwd: join(root, WORKER_IMAGE.appDir),
      env: {
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        [ENV.AWS_ENDPOINT_URL_DYNAMODB]: inject('dynamodbEndpoint'),
        [ENV.AWS_ENDPOINT_URL_KINESIS]: inject('kinesaliteEndpoint'),
        [ENV.STREAM_NAME]: names.streamName,
        [ENV.STREAM_ARN]: streamArn,
        [ENV.STATE_TABLE]: names.stateTable,
        [ENV.PARKED_TABLE]: names.parkedTable,
        [ENV.COORDINATION_TABLE]: names.coordinationTable,
        [ENV.CONFIG_JSON]: JSON.stringify({ tables: WORKLOAD_TABLES }),
        [ENV.PROJECTION]: JSON.stringify({ ...identity, entry: PROJECTION }),
        // Port 8080 may be taken on a shared machine: any free one, read back from the log.
        [ENV.WORKER_HEALTH_PORT]: '0',
        [ENV.WORKER_STOP_TIMEOUT_MS]: '25000',
        POWERTOOLS_METRICS_DISABLED: 'true',
      },
    });
    try {
      const healthUrl = await eventually(
        'the worker to start',
        async () => {
          if (worker.exitCode !== null)
            throw new Error(`the worker exited ${worker.exitCode}: ${stderr()}${stdout()}`);
          const started = stdout()
            .split('\n')
            .find((l: string) => l.includes('"worker started"'));
          return started === undefined ? undefined : (JSON.parse(started) as { health: string }).health;
        },
        { timeoutMs: 60_000 },
      );
      // The task definition's health check, on the port the worker took.
      await eventually('a passing health check', async () => {
        const check = await run(process.execPath, [
          '-e',
          `fetch('${healthUrl}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
        ]).then(
          () => true,
          () => undefined,
        );
        return check;
      });

      const events = Array.from({ length: 40 }, () => workload.next());
      await clients.kinesis.send(
        new PutRecordsCommand({
          StreamName: names.streamName,
          Records: events.map((e) => ({ PartitionKey: e.partitionKey, Data: e.data })),
        }),
      );
      const verification = await eventually('the records applied', async () => {
        const v = verifyAgainstModel(workload.model, await scanState(clients.dynamodb, names.stateTable), []);
        return v.verified ? v : undefined;
      });
      expect(verification.checkedAggregates).toBeGreaterThan(5);

      worker.kill('SIGTERM');
      expect((await exited).code).toBe(0);
      expect(stdout()).toContain('"worker stopped"');
    } finally {
      worker.kill('SIGKILL');
    }
  });
});
