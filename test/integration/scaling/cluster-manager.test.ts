import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DynamoDbCoordinationStore,
  LeaderElection,
  type LeaderTerm,
  systemClock,
} from '../../../core/coordination/index.js';
import {
  ClusterManager,
  DynamoDbAuditLog,
  InMemoryMetricsSource,
  KinesisStreamControl,
  scalingPolicy,
} from '../../../core/scaling/index.js';
import { createStream, resourceNames } from '../../../localstack/provision.js';
import { createCoordinationTable } from '../../helpers/coordination.js';
import { testClients, uniqueName, writeTestRuntimeFile } from '../../helpers/engines.js';
import { eventually } from '../../helpers/eventually.js';
import { spawnScript } from '../../helpers/processes.js';
import { load, points } from '../../helpers/scaling.js';

const clients = testClients('kinesis-mock');
afterAll(() => clients.destroy());

const ROLE = 'cluster-manager';

/** Metrics that call for doubling (every shard throttled in the newest periods), ending now. */
function saturated(control: KinesisStreamControl): Promise<InMemoryMetricsSource> {
  return control.describe().then((d) => {
    const source = new InMemoryMetricsSource();
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    for (const p of points(
      d.openShards,
      35,
      (_, ago) => (ago < 2 ? load(1.0, 300) : 0.6),
      () => ({}),
      now,
    ))
      source.addPoint(p);
    return source;
  });
}

async function setup() {
  const prefix = uniqueName('manager');
  const table = await createCoordinationTable(clients.dynamodb, prefix);
  const streamName = resourceNames(prefix).streamName;
  await createStream(clients.kinesis, streamName, 2);
  const control = new KinesisStreamControl({ kinesis: clients.kinesis, streamName });
  const store = new DynamoDbCoordinationStore({ client: clients.dynamodb, tableName: table });
  const audit = new DynamoDbAuditLog({ client: clients.dynamodb, tableName: table });
  const manager = async () =>
    new ClusterManager({
      stream: control,
      metrics: await saturated(control),
      audit,
      policy: scalingPolicy(),
    });
  const election = (candidateId: string) =>
    new LeaderElection({
      store,
      candidateId,
      leaseDurationMs: 2_000,
      heartbeatPeriodMs: 500,
      clock: systemClock,
    });
  return { prefix, table, streamName, control, audit, manager, election };
}

describe('ClusterManager on DynamoDB Local and kinesis-mock', () => {
  it('two managers at once: exactly one claims the decision and reshards, once', async () => {
    const { control, audit, manager, election } = await setup();
    const [a, b] = [await manager(), await manager()];

    const runs = await Promise.all([
      election('manager-a').runIfLeader(ROLE, (term) => a.run(term)),
      election('manager-b').runIfLeader(ROLE, (term) => b.run(term)),
    ]);

    expect(runs.filter((r) => r.leader)).toHaveLength(1);
    const after = await eventually('4 open shards', async () => {
      const d = await control.describe();
      return d.status === 'ACTIVE' && d.openShards.length === 4 ? d : undefined;
    });
    expect(after.shards.filter((s) => !s.open)).toHaveLength(2);
    const decisions = await audit.list();
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({
      term: 1,
      acting: true,
      leaderId: runs[0]!.leader ? 'manager-a' : 'manager-b',
    });
    expect(decisions[0]!.outcomes).toEqual([
      expect.objectContaining({ status: 'applied', detail: 'UpdateShardCount 2 → 4 accepted' }),
    ]);
  });

  it('a manager whose term was taken over is fenced by the audit log and sends nothing', async () => {
    const { control, audit, manager, election } = await setup();
    let stale: LeaderTerm | undefined;
    const first = election('manager-a');
    await first.runIfLeader(ROLE, async (term) => {
      stale = term;
    });
    // manager-a goes silent; manager-b takes over once the lease has run out on its own clock.
    const second = election('manager-b');
    const taken = await eventually(
      'manager-b leading',
      async () => {
        const c = await second.campaign(ROLE);
        return c.leader ? c : undefined;
      },
      { timeoutMs: 10_000 },
    );

    const run = await (await manager()).run(stale!);

    expect(taken.lease.fence).toBe(2);
    expect(run).toMatchObject({ claimed: false, decisionId: undefined, outcomes: [] });
    expect(await audit.list()).toEqual([]);
    expect((await control.describe()).openShards).toHaveLength(2);
  });

  it('cdcp scale plan and cdcp scale history read the running pipeline and the audit log', async () => {
    const { prefix, table, streamName, control, manager, election } = await setup();
    await election('manager-a').runIfLeader(ROLE, async (term) => (await manager()).run(term));
    await eventually('4 open shards', async () =>
      (await control.describe()).openShards.length === 4 ? true : undefined,
    );
    // `scale plan` reads load per whole 10-second period of arrival time, the newest complete one being "now"
    // when it reads: the same load is put every second until the plans have run, so that whenever they read,
    // that period holds some (after the period of the first put has ended).
    const putLoad = () =>
      clients.kinesis.send(
        new PutRecordsCommand({
          StreamName: streamName,
          Records: Array.from({ length: 200 }, (_, i) => ({
            PartitionKey: i < 150 ? 'order-7' : `order-${i}`,
            Data: Buffer.from('{}'),
          })),
        }),
      );
    await putLoad();
    const stopLoad = new AbortController();
    const loading = (async () => {
      while (await systemClock.sleep(1_000, stopLoad.signal)) await putLoad();
    })();
    const putPeriod = Math.floor(Date.now() / 10_000);
    await eventually('the period of the first put to end', () => Math.floor(Date.now() / 10_000) > putPeriod);
    // What `npm start` writes so that `cdcp` finds its engines and tables (this test stands in for it).
    const runtimeFile = join(tmpdir(), `cdcp-runtime-scale-${process.pid}.json`);
    writeTestRuntimeFile(
      runtimeFile,
      { ...resourceNames(prefix), coordinationTable: table },
      { kinesis: 'kinesis-mock' },
    );
    try {
      const env = { CDCP_RUNTIME_FILE: runtimeFile };

      const plan = spawnScript('bin/cdcp.ts', ['scale', 'plan', '--json', '--sample-minutes', '2'], env);
      const text = spawnScript('bin/cdcp.ts', ['scale', 'plan', '--sample-minutes', '2'], env);
      const history = spawnScript('bin/cdcp.ts', ['scale', 'history'], env);
      const historyJson = spawnScript('bin/cdcp.ts', ['scale', 'history', '--json'], env);
      const badSince = spawnScript('bin/cdcp.ts', ['scale', 'history', '--since', 'yesterday'], env);

      await Promise.all([plan.exited, text.exited]);
      stopLoad.abort();
      await loading;
      expect((await plan.exited).code, plan.stderr()).toBe(0);
      const parsed = JSON.parse(plan.stdout());
      // One UpdateShardCount in the audit log; 150 of every 200 records on one key make its shard the hottest.
      expect(parsed.summary).toMatchObject({
        openShards: 4,
        updateShardCountCallsLast24h: 1,
        updateShardCountCallsLeft: 9,
      });
      expect(parsed.summary.demandShards).toBeGreaterThan(0);
      expect((await text.exited).code, text.stderr()).toBe(0);
      expect(text.stdout()).toContain(`Plan for the running local pipeline: stream ${streamName}`);
      expect(text.stdout()).toMatch(/4 open shards, demand/);
      expect((await history.exited).code, history.stderr()).toBe(0);
      expect(history.stdout()).toMatch(
        /term 1 {2}manager-a {2}2 shards, \d+% {2}UpdateShardCount 2 → 4 → applied/,
      );
      expect(history.stderr()).toContain('1 decision(s) since');
      await historyJson.exited;
      expect(JSON.parse(historyJson.stdout().trim())).toMatchObject({
        term: 1,
        plan: { actions: [{ kind: 'update-shard-count' }] },
      });
      expect((await badSince.exited).code).toBe(2);
      expect(badSince.stderr()).toContain(
        '--since must be a duration like 30m, 6h or 7d; received "yesterday"',
      );
    } finally {
      stopLoad.abort();
      await loading;
      rmSync(runtimeFile);
    }
  });
});
