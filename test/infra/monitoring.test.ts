import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRICS } from '../../core/constants.js';
import { CdcProcessor } from '../../lib/cdc-processor.js';
import type { CdcProcessorStack } from '../../lib/cdc-processor-stack.js';
import { WIDGETS } from '../../lib/dashboard.js';
import { logicalIdOf, refOf, synthStack, testAppProps } from './helpers/synth.js';

interface Widget {
  readonly type: string;
  readonly properties: {
    title?: string;
    metrics?: unknown[][];
    markdown?: string;
    query?: string;
    alarms?: string[];
  };
}

/** The dashboard's widgets, with `{ Ref: X }` / `Fn::GetAtt` parts of the body replaced by `<X>`. */
function dashboardWidgets(template: Template): Widget[] {
  const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]!;
  const [, parts] = dashboard.Properties.DashboardBody['Fn::Join'] as [string, unknown[]];
  const body = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const p = part as { Ref?: string; 'Fn::GetAtt'?: string[] };
      return `<${p.Ref ?? p['Fn::GetAtt']!.join('.')}>`;
    })
    .join('');
  return (JSON.parse(body) as { widgets: Widget[] }).widgets;
}

describe('Construct: Monitoring', () => {
  let stack: CdcProcessorStack;
  let template: Template;

  beforeAll(() => {
    ({ stack, template } = synthStack());
  });

  describe('Alarms', () => {
    it('declares an alarm for every failure mode, each notifying the created topic on ALARM and OK', () => {
      const topic = refOf(stack.processor.alarmTopic);
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
      expect(alarms).toHaveLength(16);
      expect(Object.keys(stack.processor.monitoring.alarms)).toHaveLength(16);
      for (const alarm of alarms) {
        expect(alarm.Properties.AlarmActions).toEqual([topic]);
        expect(alarm.Properties.OKActions).toEqual([topic]);
        expect(alarm.Properties.AlarmDescription.length).toBeGreaterThan(60);
      }
    });

    it('iterator age: the consumer IteratorAge maximum above 60 s for 5 minutes', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'IteratorAge',
        Dimensions: [{ Name: 'FunctionName', Value: refOf(stack.processor.consumer!.function) }],
        Statistic: 'Maximum',
        Period: 60,
        Threshold: 60_000,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 5,
        DatapointsToAlarm: 5,
        TreatMissingData: 'notBreaching',
      });
    });

    it('consumer errors: invocation errors in 3 of 5 minutes', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: refOf(stack.processor.consumer!.function) }],
        Statistic: 'Sum',
        Period: 60,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 5,
        DatapointsToAlarm: 3,
      });
    });

    it('parked growth: changes parked for review within 5 minutes, leaving out deferred ones', () => {
      const metric = (id: string, name: string) =>
        Match.objectLike({
          Id: id,
          MetricStat: {
            Metric: {
              Namespace: METRICS.namespace,
              MetricName: name,
              Dimensions: [{ Name: 'service', Value: METRICS.service }],
            },
            Period: 300,
            Stat: 'Sum',
          },
          ReturnData: false,
        });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'parked - FILL(deferred, 0)', ReturnData: true }),
          metric('parked', METRICS.changesParked),
          metric('deferred', METRICS.changesDeferred),
        ]),
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
      });
    });

    it('missing cluster manager heartbeat: no leader run in 5 minutes, and no data counts as missing', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: METRICS.namespace,
        MetricName: METRICS.clusterManagerHeartbeat,
        Dimensions: [{ Name: 'service', Value: METRICS.clusterManagerService }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'breaching',
      });
    });

    it('failed batches: records the mapping gave up on, kept or not, naming the commands', () => {
      const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a) =>
        String(a.Properties.AlarmDescription).includes('failed-batches bucket'),
      );

      expect(alarm?.Properties).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
      expect(alarm?.Properties.AlarmDescription).toContain('`cdcp failures list --stack <stack>`');
      expect(alarm?.Properties.AlarmDescription).toContain('`cdcp failures redrive --stack <stack>`');
      const metrics = alarm?.Properties.Metrics as {
        Id: string;
        MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions: unknown[] } };
      }[];
      expect(metrics.find((m) => m.Id === 'delivered')?.MetricStat?.Metric).toEqual({
        Namespace: 'AWS/Lambda',
        MetricName: 'OnFailureDestinationDeliveredEventCount',
        Dimensions: [
          {
            Name: 'EventSourceMappingUUID',
            Value: { Ref: expect.stringMatching(/^ProcessorConsumer.*KinesisEventSource/) },
          },
        ],
      });
      expect(metrics.find((m) => m.Id === 'undelivered')?.MetricStat?.Metric.MetricName).toBe(
        'DestinationDeliveryFailures',
      );
    });

    it.each([
      ['consumer throttles', 'AWS/Lambda', 'Throttles', 'consumer', 'Sum', 60, 5],
      ['cluster manager errors', 'AWS/Lambda', 'Errors', 'clusterManager', 'Sum', 60, 5],
      [
        'stream write throttles',
        'AWS/Kinesis',
        'WriteProvisionedThroughputExceeded',
        'stream',
        'Sum',
        300,
        3,
      ],
    ] as const)('%s: %s %s', (_, namespace, metricName, of, statistic, period, evaluationPeriods) => {
      const p = stack.processor;
      const dimension = {
        consumer: { Name: 'FunctionName', Value: refOf(p.consumer!.function) },
        clusterManager: { Name: 'FunctionName', Value: refOf(p.clusterManager.function) },
        stream: { Name: 'StreamName', Value: refOf(p.stream) },
      }[of];
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: namespace,
        MetricName: metricName,
        Dimensions: [dimension],
        Statistic: statistic,
        Period: period,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: evaluationPeriods,
        TreatMissingData: 'notBreaching',
      });
    });

    it.each([
      ['stale configuration', METRICS.instancesOnStaleConfig, 'cdc-cluster-manager', 'Maximum', 60, 20, 1],
      ['shedding active', METRICS.sheddingActive, 'cdc-cluster-manager', 'Maximum', 60, 1, 1],
      [
        'standing quarantined aggregates',
        METRICS.quarantinedAggregates,
        'cdc-cluster-manager',
        'Maximum',
        900,
        4,
        1,
      ],
      ['heartbeat failures', METRICS.instanceHeartbeatFailures, 'cdc-consumer', 'Sum', 300, 2, 3],
    ] as const)(
      '%s: %s from the shared metric names',
      (_, name, service, statistic, period, evaluationPeriods, threshold) => {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: METRICS.namespace,
          MetricName: name,
          Dimensions: [{ Name: 'service', Value: service }],
          Statistic: statistic,
          Period: period,
          Threshold: threshold,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          EvaluationPeriods: evaluationPeriods,
          TreatMissingData: 'notBreaching',
        });
      },
    );

    it('source-to-applied latency: the p99 over all tables above 5 minutes, for 5 minutes', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: METRICS.namespace,
        MetricName: METRICS.sourceToAppliedLatency,
        Dimensions: [{ Name: 'service', Value: METRICS.service }],
        ExtendedStatistic: 'p99',
        Period: 60,
        Threshold: 300_000,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 5,
      });
    });

    it('DynamoDB throttles: read plus write throttle events of each table, in 3 of 5 minutes', () => {
      const p = stack.processor;
      for (const table of [p.stateTable, p.parkedTable, p.coordinationTable])
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Metrics: Match.arrayWith([
            Match.objectLike({ Expression: 'FILL(reads, 0) + FILL(writes, 0)' }),
            Match.objectLike({
              Id: 'reads',
              MetricStat: Match.objectLike({
                Metric: {
                  Namespace: 'AWS/DynamoDB',
                  MetricName: 'ReadThrottleEvents',
                  Dimensions: [{ Name: 'TableName', Value: refOf(table) }],
                },
              }),
            }),
            Match.objectLike({
              Id: 'writes',
              MetricStat: Match.objectLike({
                Metric: Match.objectLike({ MetricName: 'WriteThrottleEvents' }),
              }),
            }),
          ]),
          EvaluationPeriods: 5,
          DatapointsToAlarm: 3,
        });
    });

    it('thresholds follow the props', () => {
      const { template: custom } = synthStack({
        iteratorAgeAlarmThreshold: Duration.minutes(5),
        consumerErrorsAlarmThreshold: 10,
        parkedAlarmThreshold: 50,
        clusterManagerHeartbeatAlarmPeriod: Duration.minutes(15),
        sourceLatencyAlarmThreshold: Duration.seconds(90),
        configDeploymentDuration: Duration.minutes(20),
        configFinalBakeTime: Duration.minutes(10),
      });
      custom.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'IteratorAge',
        Threshold: 300_000,
      });
      custom.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Threshold: 10 });
      custom.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([Match.objectLike({ Expression: 'parked - FILL(deferred, 0)' })]),
        Threshold: 50,
      });
      custom.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: METRICS.clusterManagerHeartbeat,
        Period: 900,
      });
      custom.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: METRICS.sourceToAppliedLatency,
        Threshold: 90_000,
      });
      // Instances may lag a version for a deployment and its bake: the alarm waits 10 minutes longer.
      custom.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: METRICS.instancesOnStaleConfig,
        EvaluationPeriods: 40,
      });
    });

    it('notifies a given topic instead of creating one', () => {
      const app = new App(testAppProps());
      const stack = new Stack(app, 'GivenTopic');
      const alarmTopic = new Topic(stack, 'OnCall');
      new CdcProcessor(stack, 'Processor', { alarmTopic });
      const given = Template.fromStack(stack);
      given.resourceCountIs('AWS::SNS::Topic', 1);
      for (const alarm of Object.values(given.findResources('AWS::CloudWatch::Alarm')))
        expect(alarm.Properties.AlarmActions).toEqual([refOf(alarmTopic)]);
    });
  });

  describe('Resource: alarm topic', () => {
    it('accepts publishing over TLS only', () => {
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [refOf(stack.processor.alarmTopic)],
        PolicyDocument: {
          Statement: [
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sns:Publish',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ],
        },
      });
    });
  });

  describe('Dashboard', () => {
    let widgets: Widget[];
    const titles = () => widgets.map((w) => w.properties.title);
    const metricsOf = (title: string) =>
      JSON.stringify(widgets.find((w) => w.properties.title === title)?.properties.metrics);

    beforeAll(() => {
      widgets = dashboardWidgets(template);
    });

    it('has the widgets of the architecture observability section', () => {
      expect(titles()).toEqual([
        undefined,
        WIDGETS.alarms,
        WIDGETS.throughput,
        WIDGETS.iteratorAge,
        WIDGETS.latency,
        WIDGETS.latencyPerTable,
        WIDGETS.errors,
        WIDGETS.parked,
        WIDGETS.tables,
        WIDGETS.stateCache,
        WIDGETS.instances,
        WIDGETS.locks,
        WIDGETS.leader,
        WIDGETS.config,
        WIDGETS.actions,
        WIDGETS.decisions,
      ]);
    });

    it("graphs the owner cache's hit ratio from its hits and misses, beside what it cost", () => {
      const cache = metricsOf(WIDGETS.stateCache);
      for (const name of [
        METRICS.stateCacheHits,
        METRICS.stateCacheMisses,
        METRICS.stateCacheConditionalMisses,
        METRICS.stateCacheWarmupReads,
      ])
        expect(cache).toContain(`"${METRICS.namespace}","${name}","service","${METRICS.service}"`);
      expect(cache).toContain('hits / (hits + misses)');
    });

    it('shows the state of every alarm, the configuration alarm included', () => {
      const alarms = widgets.find((w) => w.properties.title === WIDGETS.alarms)!.properties.alarms!;
      expect(alarms).toHaveLength(17);
      expect(alarms).toContain(`<${logicalIdOf(stack.processor.monitoring.configRollbackAlarm)}.Arn>`);
    });

    it('graphs source-to-applied and arrival-to-applied latency at p50, p99 and max, and per table', () => {
      const all = metricsOf(WIDGETS.latency);
      for (const name of [METRICS.sourceToAppliedLatency, METRICS.arrivalToAppliedLatency])
        for (const stat of ['p50', 'p99', 'Maximum'])
          expect(all).toMatch(
            new RegExp(
              `"${METRICS.namespace}","${name}","service","${METRICS.service}",\\{[^}]*"stat":"${stat}"`,
            ),
          );
      const perTable = metricsOf(WIDGETS.latencyPerTable);
      for (const stat of ['p50', 'p99', 'Maximum'])
        expect(perTable).toContain(
          `SEARCH('{${METRICS.namespace},Table,service} MetricName=\\"${METRICS.sourceToAppliedLatency}\\" service=\\"${METRICS.service}\\"', '${stat}', 60)`,
        );
      expect(perTable).toContain(`\${PROP('Dim.Table')} p99`);
    });

    it('graphs the throttle events of the three tables', () => {
      const tables = metricsOf(WIDGETS.tables);
      const p = stack.processor;
      for (const table of [p.stateTable, p.parkedTable, p.coordinationTable])
        for (const name of ['ReadThrottleEvents', 'WriteThrottleEvents'])
          expect(tables).toContain(`"AWS/DynamoDB","${name}","TableName","<${logicalIdOf(table)}>"`);
    });

    it('graphs throughput in (stream) and out (consumer metrics)', () => {
      const metrics = metricsOf('Throughput: records in and changes out (per minute)');
      expect(metrics).toContain('"AWS/Kinesis","IncomingRecords","StreamName"');
      for (const name of [
        METRICS.recordsReceived,
        METRICS.changesApplied,
        METRICS.duplicatesSkipped,
        METRICS.stateWrites,
      ])
        expect(metrics).toContain(`"${METRICS.namespace}","${name}","service","${METRICS.service}"`);
    });

    it('graphs iterator age: the consumer maximum, the stream, and per shard', () => {
      const metrics = metricsOf('Iterator age (ms)');
      expect(metrics).toContain(
        `"AWS/Lambda","IteratorAge","FunctionName","<${logicalIdOf(stack.processor.consumer!.function)}>"`,
      );
      expect(metrics).toContain('"AWS/Kinesis","GetRecords.IteratorAgeMilliseconds"');
      expect(metrics).toContain(
        `SEARCH('{AWS/Kinesis,ShardId,StreamName} MetricName=\\"IteratorAgeMilliseconds\\" StreamName=\\"<${logicalIdOf(stack.processor.stream)}>\\"', 'Maximum', 60)`,
      );
    });

    it('graphs errors and throttles, parked and quarantined counts', () => {
      const errors = metricsOf('Errors and throttles');
      for (const name of [
        '"Errors"',
        '"Throttles"',
        '"PutRecords.ThrottledRecords"',
        '"ReadProvisionedThroughputExceeded"',
        `"${METRICS.aggregateFailures}"`,
      ])
        expect(errors).toContain(name);
      const parked = metricsOf('Parked and quarantined');
      for (const name of [
        METRICS.changesParked,
        METRICS.badInput,
        METRICS.aggregatesQuarantined,
        METRICS.deferredReplayed,
        METRICS.deferredRemaining,
        METRICS.changesDeferred,
        METRICS.quarantinedAggregates,
        'OnFailureDestinationDeliveredEventCount',
        'DestinationDeliveryFailures',
      ])
        expect(parked).toContain(`"${name}"`);
      expect(parked).toContain('parked - FILL(deferred, 0)');
      expect(metricsOf(WIDGETS.errors)).toContain('"WriteProvisionedThroughputExceeded"');
    });

    it('shows live instances, lock contention, leader term and config convergence from the shared metric names', () => {
      expect(metricsOf('Live instances')).toContain(
        `"${METRICS.liveInstances}","service","${METRICS.clusterManagerService}"`,
      );
      expect(metricsOf('Live instances')).toContain(
        `"${METRICS.instanceHeartbeatFailures}","service","${METRICS.service}"`,
      );
      expect(metricsOf('Lock contention')).toContain(
        `"${METRICS.lockContention}","service","${METRICS.service}"`,
      );
      expect(metricsOf('Lock contention')).toContain(
        `"${METRICS.lockWaitTime}","service","${METRICS.service}"`,
      );
      expect(metricsOf('Leader term and heartbeat')).toContain(`"${METRICS.leaderTerm}"`);
      expect(metricsOf('Leader term and heartbeat')).toContain(`"${METRICS.clusterManagerHeartbeat}"`);
      const convergence = metricsOf('Config version convergence');
      for (const name of [
        METRICS.instancesOnStaleConfig,
        METRICS.configFetchFailures,
        METRICS.configInvalid,
        METRICS.configApplyLatency,
      ])
        expect(convergence).toContain(`"${name}"`);
      expect(metricsOf(WIDGETS.actions)).toContain(`"${METRICS.scalingActions}"`);
      expect(metricsOf(WIDGETS.actions)).toContain(`"${METRICS.sheddingActive}"`);
    });

    it("queries the cluster manager's log group for its last decisions", () => {
      const query = widgets.find((w) => w.properties.title === 'Cluster manager: last decisions')!.properties
        .query;
      expect(query).toContain(`SOURCE '<${logicalIdOf(stack.processor.clusterManager.logGroup)}>'`);
      expect(query).toContain('sort @timestamp desc');
    });

    it('leaves out the per-shard search without shard-level metrics', () => {
      const { template: plain } = synthStack({ shardLevelMetrics: false });
      const metrics = JSON.stringify(
        dashboardWidgets(plain).find((w) => w.properties.title === 'Iterator age (ms)')!.properties.metrics,
      );
      expect(metrics).not.toContain('SEARCH');
    });
  });
});
