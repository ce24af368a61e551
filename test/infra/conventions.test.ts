import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Stream, StreamMode } from 'aws-cdk-lib/aws-kinesis';
import { afterAll, describe, expect, it } from 'vitest';
import { ENV, METRICS } from '../../core/constants.js';
import { TABLE_READ_ACTIONS, TABLE_WRITE_ACTIONS } from '../../lib/actions.js';
import { CdcProcessor } from '../../lib/cdc-processor.js';
import type { CdcProcessorProps } from '../../lib/props.js';
import { projectionFingerprint } from '../../projection-module/fingerprint.js';
import { logicalIdOf, statementsOfRole, testAppProps } from './helpers/synth.js';

const PROJECTION = 'test/helpers/projections/change-count.mjs';
const folder = mkdtempSync(join(tmpdir(), 'cdcp-conventions-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function processorIn(
  props: CdcProcessorProps = {},
  more?: (stack: Stack) => Partial<CdcProcessorProps>,
  after?: (processor: CdcProcessor, stack: Stack) => void,
) {
  const app = new App(testAppProps());
  const stack = new Stack(app, 'Conventions');
  const processor = new CdcProcessor(stack, 'Cdc', { ...props, ...more?.(stack) });
  after?.(processor, stack);
  return { stack, processor, template: Template.fromStack(stack) };
}

describe('Construct: CdcProcessor (conventions)', () => {
  describe('Prop: stream, stateTable, parkedTable, coordinationTable', () => {
    it('consumes a stream and tables of yours and creates none of its own', () => {
      const { processor, template, stack } = processorIn({}, (s) => ({
        stream: new Stream(s, 'Mine', { shardCount: 3 }),
        stateTable: new Table(s, 'MyState', {
          partitionKey: { name: 'aggregateId', type: AttributeType.STRING },
        }),
        parkedTable: Table.fromTableName(s, 'MyParked', 'parked-elsewhere'),
        coordinationTable: Table.fromTableName(s, 'MyCoordination', 'coordination-elsewhere'),
      }));
      template.resourceCountIs('AWS::Kinesis::Stream', 1);
      template.resourceCountIs('AWS::DynamoDB::Table', 1);
      expect(processor.stream.node.path).toBe('Conventions/Mine');
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(processor.stream), 'Arn'] },
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            [ENV.PARKED_TABLE]: 'parked-elsewhere',
            [ENV.COORDINATION_TABLE]: 'coordination-elsewhere',
          }),
        },
      });
      expect(stack.resolve(processor.stateTable.tableName)).toEqual({
        Ref: logicalIdOf(processor.stateTable),
      });
    });

    it('refuses stream props next to a stream of yours, naming the prop', () => {
      expect(() => processorIn({ shardCount: 4 }, (s) => ({ stream: new Stream(s, 'Mine') }))).toThrow(
        'CdcProcessor: shardCount applies only to a stream created here; with `stream` given, set it on your stream instead; received 4',
      );
    });
  });

  describe('Prop: streamMode', () => {
    it('creates an on-demand stream the cluster manager may describe but not reshard', () => {
      const { processor, template } = processorIn({
        streamMode: StreamMode.ON_DEMAND,
        config: { scaling: { enabled: false } },
      });
      template.hasResourceProperties('AWS::Kinesis::Stream', {
        StreamModeDetails: { StreamMode: 'ON_DEMAND' },
        ShardCount: Match.absent(),
      });
      const actions = statementsOfRole(template, logicalIdOf(processor.clusterManager.role)).flatMap((s) =>
        Array.isArray(s.Action) ? s.Action : [s.Action],
      );
      expect(actions).toContain('kinesis:ListShards');
      expect(actions).not.toContain('kinesis:UpdateShardCount');
    });
  });

  describe('Prop: dashboard', () => {
    it('leaves out the dashboard and keeps every alarm', () => {
      const { processor, template } = processorIn({ dashboard: false });
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
      template.resourceCountIs('AWS::CloudWatch::Alarm', Object.keys(processor.monitoring.alarms).length);
      template.resourceCountIs('AWS::CloudWatch::CompositeAlarm', 1);
      expect(processor.monitoring.dashboard).toBeUndefined();
    });
  });

  describe('Method: grantOperate', () => {
    it("grants what cdcp needs, on this processor's resources only", () => {
      let role: Role | undefined;
      const { template } = processorIn({}, undefined, (processor, stack) => {
        role = new Role(stack, 'Operator', { assumedBy: new ServicePrincipal('ec2.amazonaws.com') });
        processor.grantOperate(role);
      });
      const statements = statementsOfRole(template, logicalIdOf(role!));
      const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
      // Every statement names its resources; only GetMetricData (no resource-level permissions) is on "*".
      for (const statement of statements)
        if (statement.Resource === '*') expect(statement.Action).toBe('cloudwatch:GetMetricData');
      expect(new Set(actions)).toEqual(
        new Set([
          'cloudformation:DescribeStacks',
          ...TABLE_READ_ACTIONS,
          ...TABLE_WRITE_ACTIONS,
          'dynamodb:Scan',
          'kinesis:DescribeStreamSummary',
          'kinesis:ListShards',
          'kinesis:GetShardIterator',
          'kinesis:GetRecords',
          'lambda:GetEventSourceMapping',
          'cloudwatch:GetMetricData',
          's3:ListBucket',
          's3:GetObject',
          's3:DeleteObject',
          'appconfig:StartConfigurationSession',
          'appconfig:GetLatestConfiguration',
          'appconfig:CreateHostedConfigurationVersion',
          'appconfig:GetHostedConfigurationVersion',
          'appconfig:ListHostedConfigurationVersions',
          'appconfig:StartDeployment',
          'appconfig:ListDeployments',
        ]),
      );
    });
  });

  describe('Methods: metric…()', () => {
    it('return the metrics the dashboard graphs, under the names the runtime publishes', () => {
      const { stack, processor } = processorIn();
      expect(processor.metricChangesApplied().toMetricConfig().metricStat).toMatchObject({
        namespace: METRICS.namespace,
        metricName: METRICS.changesApplied,
        dimensions: [{ name: 'service', value: METRICS.service }],
        statistic: 'Sum',
      });
      expect(
        processor.metricChangesParked({ statistic: 'Maximum' }).toMetricConfig().metricStat,
      ).toMatchObject({
        metricName: METRICS.changesParked,
        statistic: 'Maximum',
      });
      expect(processor.metricLiveInstances().toMetricConfig().metricStat).toMatchObject({
        metricName: METRICS.liveInstances,
        dimensions: [{ name: 'service', value: METRICS.clusterManagerService }],
      });
      const iteratorAge = processor.metricIteratorAge().toMetricConfig().metricStat!;
      expect(iteratorAge).toMatchObject({
        namespace: 'AWS/Lambda',
        metricName: 'IteratorAge',
        statistic: 'Maximum',
      });
      expect(stack.resolve(iteratorAge.dimensions?.[0]?.value)).toEqual({
        Ref: logicalIdOf(processor.consumer!.function),
      });
      expect(processor.metricSourceToAppliedLatency().toMetricConfig().metricStat).toMatchObject({
        metricName: METRICS.sourceToAppliedLatency,
        dimensions: [{ name: 'service', value: METRICS.service }],
        statistic: 'p99',
      });
      expect(processor.metricArrivalToAppliedLatency().toMetricConfig().metricStat).toMatchObject({
        metricName: METRICS.arrivalToAppliedLatency,
        statistic: 'p99',
      });
      expect(processor.metricChangesDeferred().toMetricConfig().metricStat).toMatchObject({
        metricName: METRICS.changesDeferred,
      });
      expect(processor.metricSheddingActive().toMetricConfig().metricStat).toMatchObject({
        metricName: METRICS.sheddingActive,
        dimensions: [{ name: 'service', value: METRICS.clusterManagerService }],
        statistic: 'Maximum',
      });
    });
  });

  describe('Prop: projectionEntry', () => {
    it('records the projection name and source fingerprint in both functions and the target output', () => {
      const { processor, template } = processorIn({ projectionEntry: PROJECTION });
      const identity = {
        name: 'change-count',
        fingerprint: projectionFingerprint(PROJECTION).fingerprint,
        entry: PROJECTION,
      };
      expect(processor.projection).toEqual(identity);
      const functions = template.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { [ENV.PROJECTION]: JSON.stringify(identity) } } },
      });
      expect(Object.keys(functions)).toHaveLength(2);
      const target = JSON.stringify(template.toJSON().Outputs[logicalIdOf(processor.targetOutput)].Value);
      expect(target).toContain(identity.fingerprint);
    });

    it('refuses a path that names no file, and a module whose default export is not a projection', () => {
      expect(() => processorIn({ projectionEntry: 'no/such/projection.mjs' })).toThrow(
        /^CdcProcessor: projectionEntry names no file \(resolved to .*no\/such\/projection\.mjs from .*\); pass the path of your projection module, relative to the CDK app's folder; received "no\/such\/projection\.mjs"$/,
      );
      const named = join(folder, 'named.mjs');
      writeFileSync(
        named,
        "export const projection = { name: 'x', needsPreviousState: false, apply: (p) => p };\n",
      );
      expect(() => processorIn({ projectionEntry: named })).toThrow(
        /projectionEntry is not usable: the projection module .*named\.mjs has no default export \(it exports projection\); export the projection as default/,
      );
      const broken = join(folder, 'broken.mjs');
      writeFileSync(broken, "export default { name: 'x', needsPreviousState: 'yes' };\n");
      expect(() => processorIn({ projectionEntry: broken })).toThrow(
        /is not a projection: apply must be a function .*received undefined; needsPreviousState must be true or false, received "yes"/,
      );
    });
  });
});
