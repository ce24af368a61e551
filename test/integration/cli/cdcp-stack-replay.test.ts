/**
 * `cdcp parked replay --stack`: the CLI finds the processor from the stack's outputs, as it does in AWS, and
 * replays with the deployed projection only. The stack's target output is the one the construct synthesizes
 * (projectionEntry = a custom projection), its references resolved to tables in DynamoDB Local; CloudFormation's
 * DescribeStacks and the AppConfig control plane, which no local engine serves, answer from stubs reached
 * through AWS_ENDPOINT_URL_<SERVICE>, like every other call of the CLI process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FAULT_INJECTION_COLUMN } from '../../../core/processing/projection.js';
import { CdcProcessorStack } from '../../../lib/cdc-processor-stack.js';
import { loadProjectionModule } from '../../../projection-module/load.js';
import { type Stub, startAppConfigStub, startCloudFormationStub } from '../../helpers/aws-stubs.js';
import { localAwsEnvironment } from '../../helpers/bundles.js';
import { orderChange } from '../../helpers/changes.js';
import { changeRecord, consumerUnderTest } from '../../helpers/consumer.js';
import { testClients } from '../../helpers/engines.js';
import { spawnScript } from '../../helpers/processes.js';

const PROJECTION = 'test/helpers/projections/change-count.mjs';
const CONFIG = { processing: { faultInjection: true, maxAttempts: 1 } };
const STACK = 'OrdersCdc';
const AGGREGATE = 'public.orders#7';
const clients = testClients();
const folder = mkdtempSync(join(tmpdir(), 'cdcp-stack-replay-'));
const stubs: Stub[] = [];
let env: NodeJS.ProcessEnv;
let consumer: Awaited<ReturnType<typeof consumerUnderTest>>;

type Intrinsic =
  | string
  | { Ref?: string; 'Fn::GetAtt'?: [string, string]; 'Fn::Join'?: [string, Intrinsic[]] };

/** What CloudFormation does to an output value at deploy: references become the deployed names. */
function resolve(value: Intrinsic, refs: Readonly<Record<string, string>>): string {
  if (typeof value === 'string') return value;
  if (value.Ref !== undefined) return refs[value.Ref] ?? `deployed-${value.Ref}`;
  if (value['Fn::GetAtt'] !== undefined) return `arn:aws:deployed:${value['Fn::GetAtt'].join('.')}`;
  const [separator, parts] = value['Fn::Join']!;
  return parts.map((p) => resolve(p, refs)).join(separator);
}

/** The stack's outputs as DescribeStacks returns them after a deploy whose tables are the consumer's. */
function deployedOutputs(names: typeof consumer.names) {
  const app = new App({ outdir: join(folder, 'cdk.out'), context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new CdcProcessorStack(app, STACK, { projectionEntry: PROJECTION });
  const template = app.synth().getStackArtifact(stack.artifactId).template as {
    Resources: Record<string, { Type: string }>;
    Outputs: Record<string, { Value: Intrinsic; Description: string }>;
  };
  const p = stack.processor;
  const refs: Record<string, string> = {
    [stack.getLogicalId(p.stateTable.node.defaultChild as never)]: names.stateTable,
    [stack.getLogicalId(p.parkedTable.node.defaultChild as never)]: names.parkedTable,
    [stack.getLogicalId(p.coordinationTable.node.defaultChild as never)]: names.coordinationTable,
    [stack.getLogicalId(p.stream.node.defaultChild as never)]: names.streamName,
  };
  return {
    profileId: resolve({ Ref: stack.getLogicalId(p.config.profile.node.defaultChild as never) }, refs),
    outputs: Object.entries(template.Outputs).map(([key, o]) => ({
      key,
      value: resolve(o.Value, refs),
      description: o.Description,
    })),
  };
}

beforeAll(async () => {
  const { projection } = await loadProjectionModule(PROJECTION);
  consumer = await consumerUnderTest(clients, { config: CONFIG, projection });
  // A create, a change that fails in the projection (parked at once: maxAttempts 1), and one parked behind it.
  await consumer.invoke([
    changeRecord(orderChange(7, 10, 'create'), 10, 1),
    changeRecord(
      orderChange(7, 11, 'update', { id: 7, status: 's11', [FAULT_INJECTION_COLUMN]: 'boom' }),
      11,
      2,
    ),
    changeRecord(orderChange(7, 12), 12, 3),
  ]);
  const { outputs, profileId } = deployedOutputs(consumer.names);
  const cloudFormation = await startCloudFormationStub({ [STACK]: outputs });
  const appConfig = await startAppConfigStub({ profileId }, CONFIG);
  stubs.push(cloudFormation, appConfig);
  env = {
    ...localAwsEnvironment({
      cloudformation: cloudFormation.url,
      appconfig: appConfig.url,
      dynamodb: inject('dynamodbEndpoint'),
      kinesis: inject('kinesaliteEndpoint'),
    }),
    CDCP_RUNTIME_FILE: join(folder, 'no-local-run.json'),
  };
}, 120_000);

afterAll(async () => {
  clients.destroy();
  await Promise.all(stubs.map((s) => s.close()));
  rmSync(folder, { recursive: true, force: true });
});

async function cdcp(...args: string[]) {
  const run = spawnScript('bin/cdcp.ts', args, env);
  const { code } = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

const stateOf = async () => (await consumer.state.get(AGGREGATE))?.state;

describe('cdcp parked replay --stack', () => {
  it('refuses a projection module other than the deployed one, in one line, and changes nothing', async () => {
    const other = join(folder, 'mirror-like.mjs');
    writeFileSync(
      other,
      "export default { name: 'change-count', needsPreviousState: false, apply: (_p, c) => ({ deleted: false, state: c.after }) };\n",
    );
    const before = await stateOf();

    const run = await cdcp(
      'parked',
      'replay',
      '--stack',
      STACK,
      '--aggregate',
      AGGREGATE,
      '--projection',
      other,
    );

    expect(run.code).toBe(2);
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).toBe(`cdcp parked replay: acting on stack ${STACK} in us-east-1`);
    expect(lines.slice(1)).toHaveLength(1);
    expect(lines[1]).toMatch(
      new RegExp(
        `^cdcp parked replay: --projection ${other} is projection "change-count" \\(fingerprint [0-9a-f]{16}, from ${other}\\), but stack ${STACK} in us-east-1 runs projection "change-count" \\(fingerprint [0-9a-f]{16}, from ${PROJECTION}\\); pass --projection with the module the consumers were deployed with`,
      ),
    );
    expect(await stateOf()).toEqual(before);
    expect(await consumer.parked.listAggregate(AGGREGATE)).toHaveLength(2);
  });

  it('--dry-run lists what would be replayed and changes nothing; without a terminal it asks for --yes', async () => {
    const before = await stateOf();

    const dryRun = await cdcp('parked', 'replay', '--stack', STACK, '--dry-run', '--json');
    const unconfirmed = await cdcp('parked', 'replay', '--stack', STACK);

    expect(dryRun.code).toBe(0);
    expect(JSON.parse(dryRun.stdout)).toEqual({ target: AGGREGATE, parked: 2, dryRun: true });
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(
      /cdcp parked replay: refusing to replay every parked change on stack OrdersCdc in us-east-1 without --yes: standard input is not a terminal/,
    );
    expect(await stateOf()).toEqual(before);
    expect(await consumer.parked.listAggregate(AGGREGATE)).toHaveLength(2);
  });

  it("replays the parked changes through the stack's projection, found from its outputs, and lifts the quarantine", async () => {
    expect(await stateOf()).toEqual({ changes: 1, status: 's10' });

    const run = await cdcp('parked', 'replay', '--stack', STACK, '--yes', '--ignore-injected-faults');

    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('applying projection "change-count"');
    expect(run.stdout).toContain(`replayed  ${AGGREGATE}: 2 applied`);
    const item = await consumer.state.get(AGGREGATE);
    // The custom projection's state, not the mirror's row image: every change counted once, in order.
    expect(item?.state).toEqual({ changes: 3, status: 's12' });
    expect(item?.quarantine).toBeUndefined();
    expect(await consumer.parked.listAggregate(AGGREGATE)).toEqual([]);
  });

  it('says in one line when the stack does not exist', async () => {
    const run = await cdcp('parked', 'list', '--stack', 'NoSuchStack');

    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'cdcp parked list: stack NoSuchStack does not exist in us-east-1; check --stack and --region\n',
    );
  });
});
