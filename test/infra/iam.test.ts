import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { beforeAll, describe, expect, it } from 'vitest';
import { CdcProcessor } from '../../lib/cdc-processor.js';
import type { CdcProcessorStack } from '../../lib/cdc-processor-stack.js';
import type { CdcProcessorProps } from '../../lib/props.js';
import {
  arnOf,
  logicalIdOf,
  refOf,
  type Statement,
  statementsOfRole,
  synthStack,
  testAppProps,
} from './helpers/synth.js';

const TABLE_READ_WRITE = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

/** `arn:<partition>:<service>:<region>:<account>:<rest…>` as CloudFormation joins it. */
function joinedArn(service: string, ...rest: unknown[]) {
  return {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        `:${service}:`,
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        ...rest,
      ],
    ],
  };
}

/** What Lambda active tracing adds to a function's role: X-Ray writes, which take no resource but `*`. */
const XRAY = {
  Effect: 'Allow',
  Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
  Resource: '*',
};

function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

describe('IAM of the CdcProcessor', () => {
  let stack: CdcProcessorStack;
  let template: Template;
  let profileRef: { Ref: string };
  let configurationArn: unknown;
  /** The consumer's: this profile in the application's one environment, named by name (see ProcessorConfig). */
  let consumerConfigurationArn: unknown;

  beforeAll(() => {
    ({ stack, template } = synthStack());
    const profileId = Object.keys(template.findResources('AWS::AppConfig::ConfigurationProfile'))[0]!;
    profileRef = { Ref: profileId };
    configurationArn = joinedArn(
      'appconfig',
      ':application/',
      refOf(stack.processor.config.application),
      '/environment/',
      refOf(stack.processor.config.environment),
      '/configuration/',
      profileRef,
    );
    consumerConfigurationArn = joinedArn(
      'appconfig',
      ':application/',
      refOf(stack.processor.config.application),
      '/environment/*/configuration/',
      profileRef,
    );
  });

  it('gives the consumer exactly its log group, failed-batches bucket (write only), stream, tables and configuration', () => {
    const p = stack.processor;
    expect(statementsOfRole(template, logicalIdOf(p.consumer!.role))).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: arnOf(p.consumer!.logGroup),
      },
      XRAY,
      {
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [arnOf(p.failedBatches.bucket), '/*']] },
      },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: arnOf(p.failedBatches.bucket) },
      {
        Effect: 'Allow',
        Action: [
          'kinesis:DescribeStreamSummary',
          'kinesis:GetRecords',
          'kinesis:GetShardIterator',
          'kinesis:ListShards',
          'kinesis:SubscribeToShard',
          'kinesis:DescribeStream',
          'kinesis:ListStreams',
          'kinesis:DescribeStreamConsumer',
        ],
        Resource: arnOf(p.stream),
      },
      { Effect: 'Allow', Action: TABLE_READ_WRITE, Resource: [arnOf(p.stateTable), arnOf(p.parkedTable)] },
      {
        Effect: 'Allow',
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: arnOf(p.coordinationTable),
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['INSTANCE'] } },
      },
      {
        Effect: 'Allow',
        Action: ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'],
        Resource: consumerConfigurationArn,
      },
    ]);
  });

  it('gives the cluster manager the coordination table, resharding, this mapping, metrics and this profile', () => {
    const p = stack.processor;
    const mappingId = Object.keys(template.findResources('AWS::Lambda::EventSourceMapping'))[0]!;
    const profileArn = joinedArn(
      'appconfig',
      ':application/',
      refOf(p.config.application),
      '/configurationprofile/',
      profileRef,
    );
    expect(statementsOfRole(template, logicalIdOf(p.clusterManager.role))).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: arnOf(p.clusterManager.logGroup),
      },
      XRAY,
      { Effect: 'Allow', Action: TABLE_READ_WRITE, Resource: arnOf(p.coordinationTable) },
      { Effect: 'Allow', Action: TABLE_READ_WRITE, Resource: arnOf(p.stateTable) },
      // The deferred sweep reads the parked table as `cdcp parked replay` does (grantOperateParked).
      {
        Effect: 'Allow',
        Action: [...TABLE_READ_WRITE.slice(0, 4), 'dynamodb:Scan', ...TABLE_READ_WRITE.slice(4)],
        Resource: arnOf(p.parkedTable),
      },
      {
        Effect: 'Allow',
        Action: [
          'kinesis:ListShards',
          'kinesis:DescribeStreamSummary',
          'kinesis:UpdateShardCount',
          'kinesis:SplitShard',
          'kinesis:MergeShards',
        ],
        Resource: arnOf(p.stream),
      },
      {
        Effect: 'Allow',
        Action: ['lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping'],
        Resource: joinedArn('lambda', ':event-source-mapping:', { Ref: mappingId }),
      },
      {
        Effect: 'Allow',
        Action: ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'],
        Resource: configurationArn,
      },
      {
        Effect: 'Allow',
        Action: [
          'appconfig:CreateHostedConfigurationVersion',
          'appconfig:GetHostedConfigurationVersion',
          'appconfig:ListHostedConfigurationVersions',
        ],
        Resource: [
          profileArn,
          joinedArn(
            'appconfig',
            ':application/',
            refOf(p.config.application),
            '/configurationprofile/',
            profileRef,
            '/hostedconfigurationversion/*',
          ),
        ],
      },
      {
        Effect: 'Allow',
        Action: ['appconfig:StartDeployment', 'appconfig:ListDeployments'],
        Resource: [
          joinedArn(
            'appconfig',
            ':application/',
            refOf(p.config.application),
            '/environment/',
            refOf(p.config.environment),
          ),
          profileArn,
          joinedArn('appconfig', ':deploymentstrategy/', refOf(p.config.deploymentStrategy)),
        ],
      },
      { Effect: 'Allow', Action: 'cloudwatch:GetMetricData', Resource: '*' },
    ]);
  });

  it('grants no wildcard action; wildcards in resources only where AWS leaves no choice', () => {
    const allows = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as Statement[],
    );
    expect(allows.length).toBeGreaterThan(10);
    const wildcards: { actions: string[]; resource: unknown }[] = [];
    for (const statement of allows) {
      expect(statement.Effect).toBe('Allow');
      for (const action of actionsOf(statement)) expect(action).not.toContain('*');
      const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      for (const resource of resources) {
        if (JSON.stringify(resource).includes('*'))
          wildcards.push({ actions: actionsOf(statement), resource });
        // Every other resource is one of this stack's own, by reference.
        else expect(JSON.stringify(resource)).toMatch(/"(Ref|Fn::GetAtt)":/);
      }
    }
    const xray = { actions: XRAY.Action, resource: '*' };
    expect(wildcards).toEqual([
      xray,
      // Lambda names the objects of failed batches itself.
      {
        actions: ['s3:PutObject'],
        resource: { 'Fn::Join': ['', [arnOf(stack.processor.failedBatches.bucket), '/*']] },
      },
      {
        actions: ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'],
        resource: consumerConfigurationArn,
      },
      xray,
      {
        actions: [
          'appconfig:CreateHostedConfigurationVersion',
          'appconfig:GetHostedConfigurationVersion',
          'appconfig:ListHostedConfigurationVersions',
        ],
        resource: joinedArn(
          'appconfig',
          ':application/',
          refOf(stack.processor.config.application),
          '/configurationprofile/',
          profileRef,
          '/hostedconfigurationversion/*',
        ),
      },
      { actions: ['cloudwatch:GetMetricData'], resource: '*' },
    ]);
  });

  it("lets AppConfig read the configuration alarm's state, and nothing else", () => {
    const config = stack.processor.config;
    const role = template.toJSON().Resources[logicalIdOf(config.monitorRole!)];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'appconfig.amazonaws.com' } },
    ]);
    expect(statementsOfRole(template, logicalIdOf(config.monitorRole!))).toEqual([
      {
        Effect: 'Allow',
        Action: 'cloudwatch:DescribeAlarms',
        Resource: arnOf(stack.processor.monitoring.configRollbackAlarm),
      },
    ]);
  });

  it('attaches no managed policy to any role', () => {
    for (const role of Object.values(template.findResources('AWS::IAM::Role')))
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });
});

describe('Grants of the CdcProcessor', () => {
  function processorWithGrantee(props: CdcProcessorProps = {}) {
    const app = new App(testAppProps());
    const stack = new Stack(app, 'Grants');
    const processor = new CdcProcessor(stack, 'Processor', props);
    const grantee = new Role(stack, 'Grantee', { assumedBy: new ServicePrincipal('dms.amazonaws.com') });
    return {
      stack,
      processor,
      grantee,
      statements: () => statementsOfRole(Template.fromStack(stack), logicalIdOf(grantee)),
    };
  }
  const PUBLISH = [
    'kinesis:PutRecord',
    'kinesis:PutRecords',
    'kinesis:ListShards',
    'kinesis:DescribeStreamSummary',
  ];

  it('grantPublish: put records on this stream (no key permission for the AWS-managed key)', () => {
    const { processor, grantee, statements } = processorWithGrantee();
    processor.grantPublish(grantee);
    expect(statements()).toEqual([{ Effect: 'Allow', Action: PUBLISH, Resource: arnOf(processor.stream) }]);
  });

  it('grantPublish: and kms:GenerateDataKey on a customer-managed stream key', () => {
    const app = new App(testAppProps());
    const stack = new Stack(app, 'Keyed');
    const key = new Key(stack, 'StreamKey', { enableKeyRotation: true });
    const processor = new CdcProcessor(stack, 'Processor', { streamEncryptionKey: key });
    const grantee = new Role(stack, 'Grantee', { assumedBy: new ServicePrincipal('dms.amazonaws.com') });
    processor.grantPublish(grantee);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamEncryption: { EncryptionType: 'KMS', KeyId: arnOf(key) },
    });
    expect(statementsOfRole(template, logicalIdOf(grantee))).toEqual([
      { Effect: 'Allow', Action: PUBLISH, Resource: arnOf(processor.stream) },
      { Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: arnOf(key) },
    ]);
    // The consumer decrypts through the event source's stream grant.
    expect(statementsOfRole(template, logicalIdOf(processor.consumer!.role))).toContainEqual({
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: arnOf(key),
    });
  });

  it('grantReadState: point reads and queries of the state table only', () => {
    const { processor, grantee, statements } = processorWithGrantee();
    processor.grantReadState(grantee);
    expect(statements()).toEqual([
      {
        Effect: 'Allow',
        Action: [
          'dynamodb:GetItem',
          'dynamodb:BatchGetItem',
          'dynamodb:Query',
          'dynamodb:ConditionCheckItem',
        ],
        Resource: arnOf(processor.stateTable),
      },
    ]);
  });

  it('grantOperateParked: scan and rewrite parked changes, read and write state', () => {
    const { processor, grantee, statements } = processorWithGrantee();
    processor.grantOperateParked(grantee);
    expect(statements()).toEqual([
      { Effect: 'Allow', Action: TABLE_READ_WRITE, Resource: arnOf(processor.stateTable) },
      {
        Effect: 'Allow',
        Action: [...TABLE_READ_WRITE.slice(0, 4), 'dynamodb:Scan', ...TABLE_READ_WRITE.slice(4)],
        Resource: arnOf(processor.parkedTable),
      },
    ]);
  });
});
