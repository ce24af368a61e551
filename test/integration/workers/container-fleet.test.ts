/**
 * The deployable worker: three `cdcp worker` processes started exactly as an ECS task definition starts them —
 * the same command, no flags, no IPC channel, configured by environment alone, endpoints through the SDK's
 * AWS_ENDPOINT_URL_<SERVICE> variables — read a 20,000-event run. One gets SIGTERM mid-run (as ECS stops a
 * task), one SIGKILL; the run still verifies against the workload generator's model.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../../core/constants.js';
import { DynamoDbCoordinationStore, LeaseClient, shardLeaseKey } from '../../../core/coordination/index.js';
import { splitLeases } from '../../../core/workers/shard-lease.js';
import type { ResourceNames } from '../../../localstack/provision.js';
import { type RunningPipeline, runPipeline } from '../../../localstack/run/pipeline.js';
import { WORKLOAD_TABLES } from '../../../localstack/workload/generator.js';
import { uniqueName } from '../../helpers/engines.js';
import { eventually } from '../../helpers/eventually.js';
import { endpoints, FAST_LEASES } from './helpers.js';

const EVENTS = 20_000;
/** The configuration the stack would deploy: lease timings, and the key columns of the workload's tables. */
const CONFIG = { ...FAST_LEASES, tables: WORKLOAD_TABLES };
const SHARDS = 6;
const CDCP = fileURLToPath(new URL('../../../bin/cdcp.js', import.meta.url));
const COUNTING_PROJECTION = fileURLToPath(
  new URL('../../../localstack/run/counting-projection.ts', import.meta.url),
);

/** One JSON line a worker logged on stdout (Powertools Logger). */
interface LogLine {
  readonly message: string;
  readonly timestamp: string;
  readonly [key: string]: unknown;
}

/** A worker process as a container runtime sees it: its pid, its stdout, its exit. */
class Container {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #stderr = '';
  #partial = '';

  public constructor(
    public readonly id: string,
    public readonly process: ChildProcess,
  ) {
    process.stdout!.on('data', (chunk: Buffer) => {
      const text = this.#partial + chunk.toString();
      const lines = text.split('\n');
      this.#partial = lines.pop()!;
      for (const line of lines) if (line.startsWith('{')) this.lines.push(JSON.parse(line) as LogLine);
    });
    process.stderr!.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4_000);
    });
    this.exited = new Promise((resolve) => process.once('exit', (code, signal) => resolve({ code, signal })));
  }

  public get stderr(): string {
    return this.#stderr;
  }

  public logged(message: string): LogLine[] {
    return this.lines.filter((l) => l.message === message);
  }
}

/**
 * What the task definition sets: the tables and stream, the configuration (CDCP_CONFIG_JSON: no AppConfig
 * here), the endpoints (on AWS the SDK's own), credentials as the task role's would arrive. Nothing else of the
 * test's own environment is passed on.
 */
function taskEnvironment(names: ResourceNames, id: string): NodeJS.ProcessEnv {
  const engines = endpoints();
  return {
    PATH: process.env.PATH,
    [ENV.AWS_REGION]: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    [ENV.AWS_ENDPOINT_URL_DYNAMODB]: engines.dynamodb,
    [ENV.AWS_ENDPOINT_URL_KINESIS]: engines.kinesis,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_METRICS_DISABLED: 'true',
    [ENV.STREAM_NAME]: names.streamName,
    [ENV.STATE_TABLE]: names.stateTable,
    [ENV.PARKED_TABLE]: names.parkedTable,
    [ENV.COORDINATION_TABLE]: names.coordinationTable,
    [ENV.CONFIG_JSON]: JSON.stringify(CONFIG),
    [ENV.WORKER_INSTANCE_ID]: id,
    // Larger batches than Lambda's default: fewer state writes per event, so the run is short.
    [ENV.WORKER_BATCH_SIZE]: '500',
    // Three "tasks" share one loopback here; in a task it is the container's own port (8080 by default).
    [ENV.WORKER_HEALTH_PORT]: '0',
    [ENV.WORKER_HEALTH_HOST]: '127.0.0.1',
    // The counting projection proves that no change took effect twice.
    [ENV.WORKER_PROJECTION_MODULE]: COUNTING_PROJECTION,
    [ENV.LOG_LEVEL]: 'INFO',
  };
}

function startContainer(names: ResourceNames, id: string): Container {
  const child = spawn(process.execPath, [CDCP, 'worker'], {
    env: taskEnvironment(names, id),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Container(id, child);
}

/** Each shard lease's owner, as `cdcp status` would show it. */
async function owners(run: RunningPipeline): Promise<Map<string, string | undefined>> {
  const leases = new LeaseClient({
    store: new DynamoDbCoordinationStore({
      client: run.clients.dynamodb,
      tableName: run.names.coordinationTable,
    }),
  });
  const { shards } = splitLeases(await leases.list(shardLeaseKey(run.names.streamName, '-').pk));
  return new Map(shards.map((s) => [s.shardId, s.record.owner]));
}

/** When each of `shards` was next acquired by another worker after `sinceMs`, from their logs. */
function acquiredBy(others: readonly Container[], shards: readonly string[], sinceMs: number) {
  return shards.map((shardId) => {
    const acquired = others
      .flatMap((c) => c.logged('worker acquired').map((line) => ({ container: c.id, line })))
      .filter(({ line }) => line.shardId === shardId && Date.parse(line.timestamp) >= sinceMs)
      .sort((x, y) => Date.parse(x.line.timestamp) - Date.parse(y.line.timestamp))[0];
    return { shardId, acquired };
  });
}

describe('cdcp worker, started as a container', () => {
  it('three workers configured by environment only read 20,000 events; one stopped with SIGTERM hands its leases off, one killed has them taken over; the run verifies', async () => {
    const containers: Container[] = [];
    const figures: Record<string, number | string> = {};
    let startedAt = 0;
    try {
      const summary = await runPipeline({
        events: EVENTS,
        untilDrained: true,
        shards: SHARDS,
        // The run produces and verifies; the containers, not the run, read the stream.
        workers: 'external',
        // Production spread over about ten seconds, so that the stop and the kill land while records flow.
        rate: 2_000,
        endpoints: endpoints(),
        prefix: uniqueName('fleet'),
        progress: false,
        seed: 13,
        aggregates: 5_000,
        config: FAST_LEASES,
        auditEffects: true,
        drainTimeoutMs: 300_000,
        during: async (run) => {
          startedAt = Date.now();
          for (const n of [1, 2, 3]) containers.push(startContainer(run.names, `task-${n}`));
          const [stopped, killed, survivor] = containers as [Container, Container, Container];
          for (const c of containers) {
            await eventually(
              `${c.id} to start`,
              () => c.logged('worker started').length > 0 || c.process.exitCode !== null,
              { timeoutMs: 120_000 },
            );
            expect(c.process.exitCode, `${c.id} exited early: ${c.stderr}`).toBeNull();
            const health = await fetch(`${c.logged('worker started')[0]!.health as string}/health`);
            expect(health.status, `${c.id} health`).toBe(200);
          }
          const leasesOf = async (c: Container) =>
            [...(await owners(run))].filter(([, owner]) => owner === c.id).map(([shardId]) => shardId);

          // SIGTERM mid-run, as ECS stops a task: its leases move by hand-off, each from its last checkpoint.
          await eventually(
            'a quarter produced, and leases to hand off',
            async () => run.produced() >= EVENTS / 4 && (await leasesOf(stopped)).length > 0,
            { timeoutMs: 120_000 },
          );
          const termAt = Date.now();
          stopped.process.kill('SIGTERM');
          expect(await stopped.exited).toEqual({ code: 0, signal: null });
          figures.exitAfterSigtermMs = Date.now() - termAt;
          expect(stopped.logged('worker stopped')[0]).toMatchObject({
            outcome: 'handed-off',
            reason: 'SIGTERM',
          });
          // Each lease leaves with a checkpoint: handed to the worker the assigner chose once it accepted, or
          // (granted to it too late to read) released at once for the assigner to place.
          const left = [
            ...stopped.logged('worker handed-off'),
            ...stopped.logged('worker released').filter((l) => l.reason === 'stopping'),
          ].filter((l) => Date.parse(l.timestamp) >= termAt);
          expect(left.length).toBeGreaterThan(0);
          const leftShards = left.map((l) => l.shardId as string);
          await eventually(
            'the shards it left acquired by the others',
            () => acquiredBy([killed, survivor], leftShards, termAt).every((s) => s.acquired !== undefined),
            { timeoutMs: 120_000 },
          );
          const handedOff = acquiredBy([killed, survivor], leftShards, termAt);
          // The new owner starts right after the checkpoint the stopped worker left the lease with.
          for (const { shardId, acquired } of handedOff)
            expect(acquired!.line.startAfter, shardId).toBe(
              left.find((l) => l.shardId === shardId)!.checkpoint,
            );
          figures.handOffMs = Math.max(
            ...handedOff.map((s) => Date.parse(s.acquired!.line.timestamp) - termAt),
          );
          // Of which: finishing the chunks in flight before the hand-offs, and adopting a lease handed over.
          figures.drainMs = Math.max(...left.map((l) => Date.parse(l.timestamp) - termAt));
          figures.placedAfterReleaseMs = Math.max(
            ...handedOff.map(
              (s) =>
                Date.parse(s.acquired!.line.timestamp) -
                Date.parse(left.find((l) => l.shardId === s.shardId)!.timestamp),
            ),
          );

          // SIGKILL: no checkpoint, no release; the leases expire and are taken over.
          let killedShards: string[] = [];
          await eventually(
            'half produced, and leases to take over',
            async () => {
              killedShards = await leasesOf(killed);
              return run.produced() >= EVENTS / 2 && killedShards.length > 0;
            },
            { timeoutMs: 120_000 },
          );
          const killAt = Date.now();
          killed.process.kill('SIGKILL');
          await killed.exited;
          await eventually(
            'its shards taken over',
            () => acquiredBy([survivor], killedShards, killAt).every((s) => s.acquired !== undefined),
            { timeoutMs: 120_000 },
          );
          figures.takeOverMs = Math.max(
            ...acquiredBy([survivor], killedShards, killAt).map(
              (s) => Date.parse(s.acquired!.line.timestamp) - killAt,
            ),
          );
          figures.handedOffShards = leftShards.length;
          figures.takenOverShards = killedShards.length;
          figures.killedWasAssigner = killed.logged('worker leader').length > 0 ? 'yes' : 'no';
        },
      });

      figures.eventsPerSecond = summary.eventsPerSecond;
      figures.runMs = Date.now() - startedAt;
      // The last one is stopped as ECS scales a service in: SIGTERM, a clean exit.
      const survivor = containers[2]!;
      survivor.process.kill('SIGTERM');
      expect(await survivor.exited).toEqual({ code: 0, signal: null });
      process.stderr.write(`container fleet run: ${JSON.stringify(figures)}\n`);
      expect(summary.differences).toBeUndefined();
      expect(summary).toMatchObject({ verified: true, produced: EVENTS, parked: 0 });
    } finally {
      for (const c of containers)
        if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
      await Promise.all(containers.map((c) => c.exited));
    }
  }, 300_000);
});
