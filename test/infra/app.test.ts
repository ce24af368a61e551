import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { createApp, PROPS_CONTEXT_KEY, STACK_ID } from '../../lib/app.js';
import { CdcProcessor } from '../../lib/cdc-processor.js';
import { CdcProcessorPropsError } from '../../lib/errors.js';
import { synthStack, testAppProps } from './helpers/synth.js';

/** Every acknowledgement recorded in the tree: rule id, reason, and the construct it sits on. */
function acknowledgements(scope: IConstruct): { id: string; reason: string; path: string }[] {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          id,
          reason,
          path: construct.node.path,
        })),
      ),
  );
}

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in the default stack', () => {
    const { stack } = synthStack();
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    expect(report.violations).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('finds nothing unacknowledged with a customer-managed stream key and a given alarm topic', () => {
    const app = new App(testAppProps());
    const stack = new Stack(app, 'Variant');
    const key = new Key(stack, 'StreamKey', { enableKeyRotation: true });
    const alarmTopic = new Topic(stack, 'Alarms', {
      masterKey: new Key(stack, 'TopicKey', { enableKeyRotation: true }),
      enforceSSL: true,
    });
    new CdcProcessor(stack, 'Processor', { streamEncryptionKey: key, alarmTopic, bisectBatchOnError: true });
    expect(new AwsSolutionsChecks(stack).validateScope(stack).violations).toEqual([]);
  });

  it('acknowledges each finding on its own resource, with a reason a reviewer can check', () => {
    const { stack } = synthStack();
    const acks = acknowledgements(stack);
    const resources = Object.keys(synthStack().template.toJSON().Resources);
    const [app, profile] = ['Application', 'ProfileConfigurationProfile'].map((suffix) =>
      resources.find((id) => id.startsWith(`ProcessorConfig${suffix}`)),
    );
    const bucket = resources.find((id) => id.startsWith('ProcessorFailedBatchesBucket'));
    const appconfig =
      'Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:appconfig:<AWS::Region>:<AWS::AccountId>:';
    expect(acks.map(({ id, path }) => ({ id, path }))).toEqual([
      { id: 'Annotation::AwsSolutions-S1', path: 'Test/Processor/FailedBatches/Bucket' },
      {
        id: `Annotation::AwsSolutions-IAM5[Resource::<${bucket}.Arn>/*]`,
        path: 'Test/Processor/Consumer/Role',
      },
      {
        id: `${appconfig}application/<${app}>/environment/*/configuration/<${profile}>]`,
        path: 'Test/Processor/Consumer/Role',
      },
      { id: 'Annotation::AwsSolutions-IAM5[Resource::*]', path: 'Test/Processor/Consumer/Role' },
      {
        id: `${appconfig}application/<${app}>/configurationprofile/<${profile}>/hostedconfigurationversion/*]`,
        path: 'Test/Processor/ClusterManager/Role',
      },
      { id: 'Annotation::AwsSolutions-IAM5[Resource::*]', path: 'Test/Processor/ClusterManager/Role' },
      { id: 'Annotation::AwsSolutions-SNS2', path: 'Test/Processor/AlarmTopic' },
    ]);
    for (const { reason } of acks) expect(reason.length).toBeGreaterThan(120);
    expect(acks[3]!.reason).toContain('xray:PutTraceSegments');
    expect(acks[5]!.reason).toContain('cloudwatch:GetMetricData');
    expect(acks[5]!.reason).toContain('xray:PutTraceSegments');
  });

  it('runs during synthesis: a finding fails `cdk synth`', () => {
    const { app, stack } = createApp({ app: testAppProps() });
    new Queue(stack, 'UnencryptedQueue', { encryption: QueueEncryption.UNENCRYPTED });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS/);
  });

  it('lets the app synthesize when there is no finding', () => {
    const { app } = createApp({ app: testAppProps() });
    const assembly = app.synth();
    expect(assembly.getStackByName(STACK_ID).template.Resources).toBeDefined();
  });
});

describe('Function: createApp', () => {
  it('applies prop overrides from the cdcp context, as an object or as JSON from -c', () => {
    for (const value of [
      { shardCount: 6, bisectBatchOnError: true, consumerTimeoutSeconds: 120 },
      '{"shardCount":6,"bisectBatchOnError":true,"consumerTimeoutSeconds":120}',
    ]) {
      const { stack } = createApp({
        app: testAppProps({ [PROPS_CONTEXT_KEY]: value }),
        nag: false,
      });
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::Kinesis::Stream', { ShardCount: 6 });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BisectBatchOnFunctionError: true });
      // A duration from context: a number in the unit its key names.
      template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 120 });
    }
  });

  it('rejects an unknown prop, a wrong type and bad JSON in the context, naming the value', () => {
    const make = (value: unknown) => () =>
      createApp({ app: testAppProps({ [PROPS_CONTEXT_KEY]: value }), nag: false });
    expect(make({ shards: 4 })).toThrow(CdcProcessorPropsError);
    expect(make({ shards: 4 })).toThrow(
      /context cdcp\.shards is not a prop that context can set; use one of projectionEntry, shardCount/,
    );
    expect(make({ shardCount: '4' })).toThrow(
      'CdcProcessor: context cdcp.shardCount must be a number; received "4"',
    );
    expect(make('{shardCount:4}')).toThrow(
      'CdcProcessor: context cdcp must be a JSON object of props; received "{shardCount:4}"',
    );
  });
});
