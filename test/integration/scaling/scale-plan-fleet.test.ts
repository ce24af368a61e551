/**
 * `cdcp scale plan --stack` for a stack whose consumer is a worker fleet: the CLI finds the fleet's ECS
 * service in the stack's target output, reads its counts (DescribeServices) and the workers' heartbeats and
 * leases from the coordination table, and shows the fleet's action with the rest of the plan, changing nothing.
 * The stream and tables are kinesalite's and DynamoDB Local's; CloudFormation, AppConfig, CloudWatch and ECS,
 * which no local engine serves, answer from stubs reached through AWS_ENDPOINT_URL_<SERVICE>, like every other
 * call of the CLI process.
 */

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../../core/config/schema.js';
import { TARGET_OUTPUT, type TargetDocument } from '../../../core/constants.js';
import {
  DynamoDbCoordinationStore,
  InstanceRegistry,
  LeaseClient,
  shardLeaseKey,
} from '../../../core/coordination/index.js';
import type { Plan } from '../../../core/scaling/index.js';
import { provision, resourceNames } from '../../../localstack/provision.js';
import { MIRROR_IDENTITY } from '../../../projection-module/identity.js';
import {
  type Stub,
  startAppConfigStub,
  startCloudFormationStub,
  startHttp2Front,
  startJsonApiStub,
} from '../../helpers/aws-stubs.js';
import { localAwsEnvironment } from '../../helpers/bundles.js';
import { testClients, uniqueName } from '../../helpers/engines.js';
import { spawnScript } from '../../helpers/processes.js';

const STACK = 'OrdersFleet';
const clients = testClients();
const stubs: Stub[] = [];
let env: NodeJS.ProcessEnv;
let ecs: Stub;

beforeAll(async () => {
  const names = resourceNames(uniqueName('scale-fleet'));
  const { streamArn } = await provision(clients, names, { shardCount: 4 });
  // Two workers at 90% of their task's CPU, two shard leases each.
  const store = new DynamoDbCoordinationStore({
    client: clients.dynamodb,
    tableName: names.coordinationTable,
  });
  const registry = new InstanceRegistry({ store });
  const leases = new LeaseClient({ store });
  for (const [w, id] of ['worker-a', 'worker-b'].entries()) {
    await registry.register({
      instanceId: id,
      kind: 'worker',
      load: { cpuPercent: 90, eventsPerSecond: 900 },
    });
    for (const shard of [2 * w, 2 * w + 1]) {
      const key = shardLeaseKey(names.streamName, `shardId-00000000000${shard}`);
      await leases.create(key, { leaseDurationMs: 20_000, renewal: 'heartbeat' });
      await leases.tryAcquire(key, { owner: id, leaseDurationMs: 20_000, renewal: 'heartbeat' });
    }
  }
  const document: TargetDocument = {
    version: TARGET_OUTPUT.version,
    streamName: names.streamName,
    streamArn,
    stateTable: names.stateTable,
    parkedTable: names.parkedTable,
    coordinationTable: names.coordinationTable,
    failedBatchesBucket: 'failed-batches',
    appConfig: {
      applicationId: 'app',
      environmentId: 'env',
      profileId: 'profile',
      deploymentStrategyId: 'strategy',
    },
    projection: MIRROR_IDENTITY,
    fleet: { cluster: 'cdcp', service: 'workers', minWorkers: 2, maxWorkers: 10, taskCpu: 1024 },
  };
  const cloudFormation = await startCloudFormationStub({
    [STACK]: [
      {
        key: 'CdcTarget',
        value: JSON.stringify(document),
        description: `${TARGET_OUTPUT.descriptionPrefix} test`,
      },
    ],
  });
  // minShards 4: CloudWatch answers no data (a quiet stream), which would otherwise merge shards.
  const appConfig = await startAppConfigStub(
    { profileId: 'profile' },
    parseConfig({ scaling: { minShards: 4 } }),
  );
  const cloudWatch = await startJsonApiStub({ GetMetricData: { MetricDataResults: [], Messages: [] } });
  ecs = await startJsonApiStub({
    DescribeServices: {
      services: [
        { desiredCount: 2, runningCount: 2, pendingCount: 0, deployments: [{ rolloutState: 'COMPLETED' }] },
      ],
      failures: [],
    },
  });
  const kinesis = await startHttp2Front(inject('kinesaliteEndpoint'));
  stubs.push(cloudFormation, appConfig, cloudWatch, ecs, kinesis);
  env = {
    ...localAwsEnvironment({
      cloudformation: cloudFormation.url,
      appconfig: appConfig.url,
      cloudwatch: cloudWatch.url,
      ecs: ecs.url,
      kinesis: kinesis.url,
      dynamodb: inject('dynamodbEndpoint'),
    }),
    CDCP_RUNTIME_FILE: join(tmpdir(), `cdcp-no-local-run-${process.pid}.json`),
  };
}, 60_000);

afterAll(async () => {
  clients.destroy();
  await Promise.all(stubs.map((s) => s.close()));
});

describe('cdcp scale plan --stack, a worker fleet', () => {
  it("plans the fleet's size from its workers' CPU and shows it, sending ECS nothing but DescribeServices", async () => {
    const json = spawnScript('bin/cdcp.ts', ['scale', 'plan', '--stack', STACK, '--json'], env);
    const text = spawnScript('bin/cdcp.ts', ['scale', 'plan', '--stack', STACK], env);
    const [jsonExit, textExit] = await Promise.all([json.exited, text.exited]);

    expect(jsonExit.code, json.stderr()).toBe(0);
    const plan = JSON.parse(json.stdout()) as Plan;
    expect(plan.actions).toEqual([expect.objectContaining({ kind: 'set-worker-count', from: 2, to: 3 })]);
    expect(plan.summary.fleet).toMatchObject({ desiredWorkers: 2, liveWorkers: 2, load: 1.8 });
    expect(textExit.code, text.stderr()).toBe(0);
    expect(text.stdout()).toContain(
      '  workers: 2 desired (2…10), 2 running, 2 live, 0 without a shard; load 1.8',
    );
    expect(text.stdout()).toContain('workers 2 → 3 (ECS desired count)');
    expect(new Set(ecs.operations)).toEqual(new Set(['DescribeServices']));
  });
});
