/**
 * The container variant of the processor (`consumer: ShardConsumer.containers()`): the worker fleet's task
 * definition, task role, service and alarms, the cluster manager's part in sizing it, and the CDK app's
 * `-c consumer=containers`. Synthesized without bundling: the image's context is staged, not bundled.
 */
import { readFileSync } from 'node:fs';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { Cluster } from 'aws-cdk-lib/aws-ecs';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV, METRICS, TARGET_OUTPUT, WORKER } from '../../core/constants.js';
import { CONSUMER_CONTEXT_KEY, CONTAINERS_CONTEXT_KEY, createApp } from '../../lib/app.js';
import { CdcProcessor } from '../../lib/cdc-processor.js';
import type { CdcProcessorStack } from '../../lib/cdc-processor-stack.js';
import { CdcProcessorPropsError } from '../../lib/errors.js';
import { FLEET_RUNBOOK } from '../../lib/fleet-monitoring.js';
import { ShardConsumer } from '../../lib/shard-consumer.js';
import { WORKER_IMAGE } from '../../lib/worker-image.js';
import {
  arnOf,
  logicalIdOf,
  refOf,
  type Statement,
  statementsOfRole,
  synthStack,
  testAppProps,
} from './helpers/synth.js';

interface ContainerDefinition {
  readonly Command: string[];
  readonly User: string;
  readonly ReadonlyRootFilesystem: boolean;
  readonly StopTimeout: number;
  readonly HealthCheck: { Command: string[]; StartPeriod: number };
  readonly Environment: { Name: string; Value: unknown }[];
  readonly LogConfiguration: { LogDriver: string; Options: Record<string, unknown> };
}

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('CdcProcessor with a worker fleet', () => {
  let stack: CdcProcessorStack;
  let template: Template;
  let container: ContainerDefinition;
  let environment: Map<string, unknown>;

  beforeAll(() => {
    ({ stack, template } = synthStack({ consumer: ShardConsumer.containers() }));
    const [definition] = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
    container = definition!.Properties.ContainerDefinitions[0] as ContainerDefinition;
    environment = new Map(container.Environment.map((e) => [e.Name, e.Value]));
  });

  describe('the task definition', () => {
    it('runs `cdcp worker` as the image lays it out, as a non-root user on a read-only root filesystem', () => {
      expect(container.Command).toEqual(['worker']);
      expect(container.User).toBe(WORKER_IMAGE.user);
      expect(container.User.split(':').map(Number)).not.toContain(0);
      expect(container.ReadonlyRootFilesystem).toBe(true);
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        RequiresCompatibilities: ['FARGATE'],
        Cpu: '1024',
        Memory: '2048',
        RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      });
    });

    it("checks health on the worker's endpoint with the image's own Node.js (no shell, no curl)", () => {
      const [cmd, node, flag, script] = container.HealthCheck.Command;
      expect([cmd, node, flag]).toEqual(['CMD', WORKER_IMAGE.node, '-e']);
      expect(script).toContain(`http://127.0.0.1:${WORKER.healthPort}${WORKER.healthPath}`);
      expect(environment.get(ENV.WORKER_HEALTH_PORT)).toBe(String(WORKER.healthPort));
      expect(container.HealthCheck.StartPeriod).toBeGreaterThanOrEqual(30);
    });

    it("gives the hand-off its time: the task's stop timeout is the worker's plus 10 s, within Fargate's 120", () => {
      expect(environment.get(ENV.WORKER_STOP_TIMEOUT_MS)).toBe(String(WORKER.stopTimeoutMs));
      expect(container.StopTimeout).toBe(WORKER.stopTimeoutMs / 1000 + 10);

      const { template: longer } = synthStack({
        consumer: ShardConsumer.containers({ workerStopTimeout: Duration.seconds(100) }),
      });
      const [definition] = Object.values(longer.findResources('AWS::ECS::TaskDefinition'));
      expect(definition!.Properties.ContainerDefinitions[0].StopTimeout).toBe(110);
      expect(() => ShardConsumer.containers({ workerStopTimeout: Duration.seconds(111) })).toThrow(
        'CdcProcessor: consumer.workerStopTimeout must be a Duration of whole seconds in 1..110: ECS stops a Fargate task at most 120 s after SIGTERM, and the worker needs 10 s of it to exit; received Duration 1 minute 51 seconds',
      );
    });

    it("is configured by environment only: the stack's stream, tables, AppConfig, projection and mapping", () => {
      const p = stack.processor;
      expect(Object.fromEntries(environment)).toMatchObject({
        [ENV.STREAM_NAME]: refOf(p.stream),
        [ENV.STREAM_ARN]: arnOf(p.stream),
        [ENV.STATE_TABLE]: refOf(p.stateTable),
        [ENV.PARKED_TABLE]: refOf(p.parkedTable),
        [ENV.COORDINATION_TABLE]: refOf(p.coordinationTable),
        [ENV.APPCONFIG_APPLICATION_ID]: refOf(p.config.application),
        [ENV.PROJECTION]: JSON.stringify(p.projection),
        [ENV.WORKER_READER]: 'polling',
        [ENV.WORKER_BATCH_SIZE]: '100',
        [ENV.WORKER_MAX_RETRY_ATTEMPTS]: '10',
        [ENV.WORKER_STARTING_POSITION]: 'TRIM_HORIZON',
      });
      expect(JSON.parse(String(environment.get(ENV.CONFIG_JSON)))).toMatchObject({
        instances: { failureDetectionMs: 20_000 },
      });
    });

    it("logs to the fleet's own log group, never blocking the worker", () => {
      expect(container.LogConfiguration).toEqual({
        LogDriver: 'awslogs',
        Options: expect.objectContaining({
          'awslogs-group': refOf(stack.processor.workers!.logGroup),
          mode: 'non-blocking',
        }),
      });
      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    });
  });

  describe('the task role', () => {
    it('gets exactly what a worker calls, no wildcard action, its coordination items by leading key', () => {
      const p = stack.processor;
      const statements = statementsOfRole(template, logicalIdOf(p.workers!.taskRole));
      expect(statements.flatMap(actionsOf).filter((a) => a.includes('*'))).toEqual([]);
      expect(statements.slice(0, 2)).toEqual([
        {
          Effect: 'Allow',
          Action: [
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
            'dynamodb:DeleteItem',
            'dynamodb:Query',
          ],
          Resource: arnOf(p.coordinationTable),
          Condition: {
            'ForAllValues:StringEquals': {
              'dynamodb:LeadingKeys': [
                'INSTANCE',
                { 'Fn::Join': ['', ['LEASE#', refOf(p.stream)]] },
                { 'Fn::Join': ['', ['CACHE#', refOf(p.stream)]] },
              ],
            },
          },
        },
        {
          Effect: 'Allow',
          Action: ['kinesis:ListShards', 'kinesis:GetShardIterator', 'kinesis:GetRecords'],
          Resource: arnOf(p.stream),
        },
      ]);
      const tables = statements.find((s) => actionsOf(s).includes('dynamodb:BatchWriteItem'))!;
      expect(tables.Resource).toEqual([arnOf(p.stateTable), arnOf(p.parkedTable)]);
      expect(actionsOf(tables)).not.toContain('dynamodb:Scan');
      expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('appconfig:'))).toEqual([
        'appconfig:StartConfigurationSession',
        'appconfig:GetLatestConfiguration',
      ]);
      expect(statements).toHaveLength(4);
    });

    it('subscribes through the consumer the stack registers with enhanced fan-out, and never registers one', () => {
      const { stack: fanOut, template: t } = synthStack({
        consumer: ShardConsumer.containers({ reader: 'fan-out', fanOutConsumerName: 'orders-workers' }),
      });
      const workers = fanOut.processor.workers!;
      const statements = statementsOfRole(t, logicalIdOf(workers.taskRole));

      t.hasResourceProperties('AWS::Kinesis::StreamConsumer', { ConsumerName: 'orders-workers' });
      expect(statements).toContainEqual({
        Effect: 'Allow',
        Action: ['kinesis:DescribeStreamConsumer', 'kinesis:SubscribeToShard'],
        Resource: { 'Fn::GetAtt': [logicalIdOf(workers.fanOutConsumer!), 'ConsumerARN'] },
      });
      expect(statements).toContainEqual({
        Effect: 'Allow',
        Action: 'kinesis:ListShards',
        Resource: arnOf(fanOut.processor.stream),
      });
      expect(statements.flatMap(actionsOf)).not.toContain('kinesis:RegisterStreamConsumer');
      expect(statements.flatMap(actionsOf)).not.toContain('kinesis:GetRecords');
    });
  });

  describe('the service', () => {
    it('rolls a failed deployment back, keeps every worker up during one, and leaves its size to the cluster manager', () => {
      template.hasResourceProperties('AWS::ECS::Service', {
        LaunchType: 'FARGATE',
        DeploymentConfiguration: Match.objectLike({
          DeploymentCircuitBreaker: { Enable: true, Rollback: true },
          MinimumHealthyPercent: 100,
          MaximumPercent: 200,
        }),
        DesiredCount: Match.absent(),
      });
      template.resourceCountIs('AWS::ECS::Cluster', 1);
      template.hasResourceProperties('AWS::ECS::Cluster', {
        ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
      });
      template.resourceCountIs('AWS::EC2::NatGateway', 0);
      template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT' });
    });

    it('runs in a cluster of yours, creating no cluster or VPC', () => {
      const app = new App(testAppProps());
      const shared = new Stack(app, 'Shared');
      const vpc = new Vpc(shared, 'Vpc', { maxAzs: 2 });
      const cluster = new Cluster(shared, 'Cluster', { vpc });
      const stackOfMine = new Stack(app, 'Mine');
      new CdcProcessor(stackOfMine, 'Processor', { consumer: ShardConsumer.containers({ cluster }) });
      const t = Template.fromStack(stackOfMine);

      t.resourceCountIs('AWS::ECS::Cluster', 0);
      t.resourceCountIs('AWS::EC2::VPC', 0);
      t.resourceCountIs('AWS::ECS::Service', 1);
    });

    it('has no consumer function or event source mapping, and the cluster manager sizes the service', () => {
      const p = stack.processor;
      template.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
      template.resourcePropertiesCountIs(
        'AWS::Lambda::Function',
        { Description: Match.stringLikeRegexp('^cdc-event-processor consumer') },
        0,
      );
      const managerStatements = statementsOfRole(template, logicalIdOf(p.clusterManager.role));
      expect(managerStatements.filter((s) => actionsOf(s).some((a) => a.startsWith('ecs:')))).toEqual([
        {
          Effect: 'Allow',
          Action: ['ecs:DescribeServices', 'ecs:UpdateService'],
          Resource: refOf(p.workers!.service),
        },
      ]);
      expect(managerStatements.flatMap(actionsOf)).not.toContain('lambda:UpdateEventSourceMapping');
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('cluster manager'),
        Environment: {
          Variables: Match.objectLike({
            [ENV.FLEET_CLUSTER]: refOf(p.workers!.cluster),
            [ENV.FLEET_SERVICE]: { 'Fn::GetAtt': [logicalIdOf(p.workers!.service), 'Name'] },
            [ENV.FLEET_MIN_WORKERS]: '2',
            [ENV.FLEET_MAX_WORKERS]: '10',
            [ENV.FLEET_TASK_CPU]: '1024',
          }),
        },
      });
    });

    it("lets an operator's cdcp read the fleet's service, and grants no mapping that does not exist", () => {
      const app = new App(testAppProps());
      const mine = new Stack(app, 'Operated');
      const processor = new CdcProcessor(mine, 'Processor', { consumer: ShardConsumer.containers() });
      const operator = new Role(mine, 'Operator', { assumedBy: new ServicePrincipal('ec2.amazonaws.com') });
      processor.grantOperate(operator);
      const statements = statementsOfRole(Template.fromStack(mine), logicalIdOf(operator));

      expect(statements).toContainEqual({
        Effect: 'Allow',
        Action: 'ecs:DescribeServices',
        Resource: refOf(processor.workers!.service),
      });
      expect(
        statements.flatMap(actionsOf).filter((a) => a.startsWith('lambda:') || a === 'ecs:UpdateService'),
      ).toEqual([]);
    });

    it('records the fleet in the target output cdcp reads, and no consumer function', () => {
      const [output] = Object.values(
        template.findOutputs('*', { Description: Match.stringLikeRegexp(TARGET_OUTPUT.descriptionPrefix) }),
      );
      const json = JSON.stringify(output!.Value);
      expect(json).toContain('\\"fleet\\":{\\"cluster\\":');
      expect(json).toContain('\\"minWorkers\\":2,\\"maxWorkers\\":10,\\"taskCpu\\":1024');
      expect(json).not.toContain('consumerFunction');
    });
  });

  describe('alarms and metrics', () => {
    it('alarms on missing workers, late heartbeats, failovers, CPU and memory, each naming its runbook section', () => {
      const fleet = stack.processor.fleetMonitoring!;
      const descriptions = fleet.alarms.map(
        (a) =>
          (template.toJSON().Resources[logicalIdOf(a)].Properties as { AlarmDescription: string })
            .AlarmDescription,
      );
      const page = readFileSync('docs/operations.md', 'utf8');
      const anchors = new Set(
        [...page.matchAll(/^#+ (.+)$/gm)].map((m) =>
          m[1]!
            .toLowerCase()
            .replace(/[^a-z0-9 -]/g, '')
            .replace(/ /g, '-'),
        ),
      );
      expect(descriptions.map((d) => / Runbook: docs\/operations\.md#([a-z0-9-]+)$/.exec(d)?.[1])).toEqual([
        FLEET_RUNBOOK.workersMissing,
        FLEET_RUNBOOK.heartbeatsLate,
        FLEET_RUNBOOK.takeOvers,
        FLEET_RUNBOOK.cpu,
        FLEET_RUNBOOK.memory,
      ]);
      expect(Object.values(FLEET_RUNBOOK).filter((anchor) => !anchors.has(anchor))).toEqual([]);
      for (const alarm of fleet.alarms)
        expect(template.toJSON().Resources[logicalIdOf(alarm)].Properties).toMatchObject({
          AlarmActions: [refOf(stack.processor.alarmTopic)],
          OKActions: [refOf(stack.processor.alarmTopic)],
        });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'CPUUtilization',
        Namespace: 'AWS/ECS',
        Threshold: 90,
        EvaluationPeriods: 15,
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: METRICS.workerHeartbeatAge,
        Threshold: 120_000,
      });
    });

    it("counts lease hand-offs, failovers, lost leases and errors from the workers' log lines", () => {
      const filters = Object.values(template.findResources('AWS::Logs::MetricFilter')).map((f) => [
        f.Properties.MetricTransformations[0].MetricName,
        f.Properties.FilterPattern,
      ]);
      expect(filters).toEqual([
        [METRICS.leaseHandOffs, '{ $.message = "worker handed-off" }'],
        [METRICS.leaseTakeOvers, '{ ($.message = "worker assigned") && ($.how = "take-over") }'],
        [METRICS.leasesLost, '{ $.message = "worker lost" }'],
        [METRICS.workerErrors, '{ $.level = "ERROR" }'],
      ]);
    });

    it("reads the consumer's lag from the stream in the place of Lambda's IteratorAge", () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'GetRecords.IteratorAgeMilliseconds',
        Namespace: 'AWS/Kinesis',
        Statistic: 'Maximum',
      });
      const dashboard = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
      for (const name of [
        METRICS.liveWorkers,
        METRICS.maxLeasesPerWorker,
        METRICS.leaseTakeOvers,
        'MemoryUtilization',
      ])
        expect(dashboard).toContain(name);
    });
  });

  it('finds nothing unacknowledged for cdk-nag AwsSolutions', () => {
    expect(new AwsSolutionsChecks(stack).validateScope(stack).violations).toEqual([]);
  });
});

describe('ShardConsumer.containers', () => {
  it.each([
    [{ cpu: 300 }, 'consumer.cpu must be a Fargate CPU size: 256, 512, 1024, 2048, 4096; received 300'],
    [
      { cpu: 256, memoryLimitMiB: 1536 },
      "consumer.memoryLimitMiB must be one of Fargate's sizes for cpu 256: 512, 1024, 2048; received 1536",
    ],
    [
      { minWorkers: 3, maxWorkers: 2 },
      'consumer.maxWorkers must be an integer in 3..1000 and at least minWorkers; received 2',
    ],
    [{ reader: 'efo' as never }, "consumer.reader must be 'polling' or 'fan-out'; received \"efo\""],
    [
      { imageBuildArgs: { BASE: 'node:24' } },
      'consumer.imageBuildArgs.BASE must be NODE_IMAGE or RUNTIME_IMAGE with an image reference (the Dockerfile takes no other argument); received "node:24"',
    ],
    [
      { fanOutConsumerName: 'a b' },
      "consumer.fanOutConsumerName must be 1 to 128 letters, digits, '_', '.' or '-' (Kinesis' consumer names); received \"a b\"",
    ],
  ])('refuses %j, naming the value received', (props, message) => {
    expect(() => ShardConsumer.containers(props)).toThrow(CdcProcessorPropsError);
    expect(() => ShardConsumer.containers(props)).toThrow(`CdcProcessor: ${message}`);
  });

  it('puts the assignment strategy in the deployed configuration, and refuses a second one', () => {
    const { template } = synthStack({ consumer: ShardConsumer.containers({ assignment: 'bounded-load' }) });
    const [version] = Object.values(template.findResources('AWS::AppConfig::HostedConfigurationVersion'));
    expect(JSON.parse(version!.Properties.Content as string).leases.assignment).toBe('bounded-load');
    expect(() =>
      synthStack({
        consumer: ShardConsumer.containers({ assignment: 'bounded-load' }),
        config: { leases: { assignment: 'adaptive' } },
      }),
    ).toThrow(/consumer\.assignment differs from config\.leases\.assignment \("adaptive"\)/);
  });
});

describe('Function: createApp, the consumer from context', () => {
  it('synthesizes the container variant with -c consumer=containers, its settings from -c containers', () => {
    const { stack } = createApp({
      app: testAppProps({
        [CONSUMER_CONTEXT_KEY]: 'containers',
        [CONTAINERS_CONTEXT_KEY]:
          '{"minWorkers":3,"maxWorkers":12,"cpuArchitecture":"X86_64","workerStopTimeoutSeconds":40}',
      }),
      nag: false,
    });
    const template = Template.fromStack(stack);

    template.resourceCountIs('AWS::ECS::Service', 1);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [Match.objectLike({ StopTimeout: 50 })],
    });
    expect(stack.processor.workers).toMatchObject({ minWorkers: 3, maxWorkers: 12 });
  });

  it('refuses an unknown consumer, and fleet settings without the fleet', () => {
    const make = (context: Record<string, unknown>) => () =>
      createApp({ app: testAppProps(context), nag: false });
    expect(make({ [CONSUMER_CONTEXT_KEY]: 'ecs' })).toThrow(
      "CdcProcessor: context consumer must be 'lambda' or 'containers'; received \"ecs\"",
    );
    expect(make({ [CONTAINERS_CONTEXT_KEY]: { minWorkers: 2 } })).toThrow(
      'CdcProcessor: context containers applies to the container fleet only; add -c consumer=containers; received {"minWorkers":2}',
    );
    expect(make({ [CONSUMER_CONTEXT_KEY]: 'containers', [CONTAINERS_CONTEXT_KEY]: { workers: 2 } })).toThrow(
      /context containers\.workers is not a setting that context can set; use one of minWorkers, maxWorkers/,
    );
  });
});
