/**
 * The deployed artifact runs: the stack is synthesized WITH bundling (the local esbuild, never Docker), and the
 * consumer's and the cluster manager's bundles are taken from the cloud assembly and run as Lambda runs them
 * (a fresh Node process imports `index.mjs` as an ES module and calls its `handler` export) with the
 * environment the template gives them, against the test's DynamoDB Local and kinesalite. AppConfig and the
 * event source mapping id are left out of the environment (no engine serves them: the functions then run the
 * stack's configuration), and the cluster manager's CloudWatch GetMetricData answers from a stub, the one
 * control-plane call of its round that has no engine. With the environment Lambda sets for active tracing, the
 * consumer's trace segments are caught by a UDP socket standing in for the X-Ray daemon.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ENV } from '../../../core/constants.js';
import { DynamoDbAuditLog } from '../../../core/scaling/dynamodb-audit-log.js';
import { CdcProcessorStack } from '../../../lib/cdc-processor-stack.js';
import { scanState } from '../../../localstack/run/state-scan.js';
import type { CfnTemplate } from '../../../localstack/template/cfn-template.js';
import { provisionFromTemplate } from '../../../localstack/template/index.js';
import {
  createDecodeContext,
  createDefaultRegistry,
  decodeKinesisRecord,
  kinesisEventRecords,
} from '../../../runtime/index.js';
import { type Stub, startHttp2Front, startJsonApiStub } from '../../helpers/aws-stubs.js';
import {
  type FunctionArtifact,
  functionArtifact,
  invokeBundle,
  localAwsEnvironment,
  resolveEnvironment,
} from '../../helpers/bundles.js';
import { testClients, uniqueName } from '../../helpers/engines.js';
import { eventually } from '../../helpers/eventually.js';

const PROJECTION = 'test/helpers/projections/change-count.mjs';
/** Real Lambda Kinesis events: DynamoDB's Kinesis integration, and DMS (a create-table control record, then a row). */
const FIXTURE_EVENTS = [
  'test/fixtures/dynamodb-kinesis/lambda-kinesis-event-ddb-kds-insert-powertools-ts.json',
  'test/fixtures/dynamodb-kinesis/lambda-kinesis-event-ddb-kds-insert-lorrystream.json',
  'test/fixtures/aws-dms/lambda-kinesis-event-dms-create-table-and-insert-lorrystream.json',
].map((path) => JSON.parse(readFileSync(path, 'utf8')) as { Records: unknown[] });

const clients = testClients();
const outdir = mkdtempSync(join(tmpdir(), 'cdcp-artifact-'));
let template: CfnTemplate;
let consumer: FunctionArtifact;
let manager: FunctionArtifact;
let refs: Record<string, string>;
let names: Awaited<ReturnType<typeof provisionFromTemplate>>['names'];
let synthMs: number;
const stubs: Stub[] = [];

beforeAll(async () => {
  const started = performance.now();
  const app = new App({ outdir });
  const stack = new CdcProcessorStack(app, 'Artifact', { projectionEntry: PROJECTION });
  template = app.synth().getStackArtifact(stack.artifactId).template as CfnTemplate;
  synthMs = performance.now() - started;
  consumer = functionArtifact(template, outdir, 'cdc-event-processor consumer');
  manager = functionArtifact(template, outdir, 'cdc-event-processor cluster manager');
  const provisioned = await provisionFromTemplate(clients, { template, prefix: uniqueName('artifact') });
  names = provisioned.names;
  refs = Object.fromEntries(provisioned.tables.map((t) => [t.logicalId, t.tableName]));
  const streamId = Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::Kinesis::Stream')![0];
  refs[streamId] = names.streamName;
});

afterAll(async () => {
  clients.destroy();
  await Promise.all(stubs.map((s) => s.close()));
  rmSync(outdir, { recursive: true, force: true });
});

/** What each aggregate must hold after the fixture events: the changes decoded from them, counted once each. */
function expectedState(): Map<string, { changes: number; status: unknown }> {
  const registry = createDefaultRegistry();
  const context = createDecodeContext({});
  const expected = new Map<string, { changes: number; status: unknown }>();
  for (const event of FIXTURE_EVENTS)
    for (const entry of kinesisEventRecords(event) ?? [])
      for (const outcome of decodeKinesisRecord(registry, entry.record!, context).outcomes)
        for (const change of outcome.decoded?.changes ?? []) {
          const previous = expected.get(change.aggregateId);
          expected.set(change.aggregateId, {
            changes: (previous?.changes ?? 0) + 1,
            status: change.after?.status ?? null,
          });
        }
  return expected;
}

describe('Artifact: the bundles cdk deploy uploads', () => {
  it('are ES modules for Node.js 24 with an index.handler, carrying the projection identity', () => {
    for (const fn of [consumer, manager]) {
      expect(fn.handler).toBe('index.handler');
      expect(fn.runtime).toBe('nodejs24.x');
      expect(JSON.parse(String(fn.environment[ENV.PROJECTION]))).toMatchObject({ name: 'change-count' });
    }
    console.info(
      `bundles: consumer ${(consumer.bundleBytes / 1024).toFixed(0)} KiB, cluster manager ${(manager.bundleBytes / 1024).toFixed(0)} KiB; synthesis with bundling ${(synthMs / 1000).toFixed(1)} s`,
    );
  });

  it("consumer: applies real fixture records with the deployment's projection, each change once", async () => {
    const environment = {
      ...resolveEnvironment(consumer.environment, refs),
      ...localAwsEnvironment({ dynamodb: inject('dynamodbEndpoint') }),
    };
    expect(environment[ENV.STATE_TABLE]).toBe(names.stateTable);
    // Every event once, then the first again: a redelivery the position fence must skip.
    const run = await invokeBundle<{ batchItemFailures: unknown[] }>(consumer.bundle, environment, [
      ...FIXTURE_EVENTS,
      FIXTURE_EVENTS[0],
    ]);
    console.info(`consumer bundle: import (cold start) ${run.importMs.toFixed(0)} ms`);

    expect(run.results).toEqual(
      FIXTURE_EVENTS.concat([FIXTURE_EVENTS[0]!]).map(() => ({ batchItemFailures: [] })),
    );
    const state = await scanState(clients.dynamodb, names.stateTable);
    const expected = expectedState();
    expect(expected.size).toBe(4);
    expect(new Map([...state].map(([id, row]) => [id, row.state]))).toEqual(expected);
  });

  it('consumer: traces a batch to X-Ray as Lambda runs it, with the aggregate and its transaction annotated', async () => {
    // A stand-in for the X-Ray daemon: the SDK sends each closed subsegment as one UDP datagram.
    const daemon = createSocket('udp4');
    const documents: {
      id: string;
      parent_id?: string;
      name: string;
      annotations?: Record<string, unknown>;
    }[] = [];
    daemon.on('message', (message) => {
      const [, body] = message.toString('utf8').split('\n', 2);
      if (body !== undefined) documents.push(JSON.parse(body));
    });
    await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
    const environment = {
      ...resolveEnvironment(consumer.environment, refs),
      ...localAwsEnvironment({ dynamodb: inject('dynamodbEndpoint') }),
      // What Lambda sets for a function with active tracing.
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      LAMBDA_TASK_ROOT: consumer.bundle.replace(/\/index\.mjs$/, ''),
      _HANDLER: 'index.handler',
      _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
    };
    // The DMS fixture (it carries transaction ids), for a row no other test applied.
    const event = structuredClone(FIXTURE_EVENTS[2]) as { Records: { kinesis: { data: string } }[] };
    for (const record of event.Records)
      record.kinesis.data = Buffer.from(
        Buffer.from(record.kinesis.data, 'base64').toString('utf8').replace('"id": 46', '"id": 9046'),
      ).toString('base64');
    try {
      await invokeBundle(consumer.bundle, environment, [event]);
      // The handler's subsegment is sent last, when the batch ends; datagrams may still be in flight.
      await eventually(
        "the handler's subsegment",
        () => documents.some((d) => d.name === '## index.handler'),
        {
          intervalMs: 20,
        },
      );
    } finally {
      daemon.close();
    }

    const named = (name: string) => documents.filter((d) => d.name === name);
    const [handler] = named('## index.handler');
    expect(handler?.annotations).toMatchObject({ shardId: expect.any(String), records: 2 });
    const [aggregate, ...others] = named('### aggregate');
    expect(others).toEqual([]);
    expect(aggregate?.annotations).toEqual({ aggregateId: 'public.foo#9046', txId: expect.any(String) });
    const children = documents.filter((d) => d.parent_id === aggregate?.id).map((d) => d.name);
    expect(children).toEqual(expect.arrayContaining(['### decode', '### fold', '### write']));
    expect(named('### decode').some((d) => d.parent_id === handler?.id)).toBe(true);
  });

  it('cluster manager: takes the leadership and runs one round, recorded in the audit log', async () => {
    const cloudWatch = await startJsonApiStub({ GetMetricData: { MetricDataResults: [], Messages: [] } });
    const kinesis = await startHttp2Front(inject('kinesaliteEndpoint'));
    stubs.push(cloudWatch, kinesis);
    const environment = {
      ...resolveEnvironment(manager.environment, refs),
      ...localAwsEnvironment({
        dynamodb: inject('dynamodbEndpoint'),
        kinesis: kinesis.url,
        cloudwatch: cloudWatch.url,
      }),
    };
    expect(environment[ENV.EVENT_SOURCE_MAPPING_ID]).toBeUndefined();

    const run = await invokeBundle<{
      leader: boolean;
      term: number;
      scaling?: { claimed: boolean; decisionId: string };
    }>(manager.bundle, environment, [
      { 'detail-type': 'Scheduled Event', source: 'aws.events', time: new Date().toISOString(), detail: {} },
    ]);
    console.info(`cluster manager bundle: import (cold start) ${run.importMs.toFixed(0)} ms`);

    const [result] = run.results;
    expect(result).toMatchObject({ leader: true, term: 1, scaling: { claimed: true } });
    expect(cloudWatch.operations).toContain('GetMetricData');
    expect(kinesis.operations).toContain('ListShards');
    const decisions = await new DynamoDbAuditLog({
      client: clients.dynamodb,
      tableName: names.coordinationTable,
    }).list({ sinceWallMs: 0 });
    expect(decisions.map((d) => d.id)).toEqual([result!.scaling!.decisionId]);
  });
});
