import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { COORDINATION_TABLE, ENV, PARKED_TABLE, STATE_TABLE } from '../../core/constants.js';
import type { CdcProcessorStack } from '../../lib/cdc-processor-stack.js';
import { arnOf, logicalIdOf, refOf, synthStack } from './helpers/synth.js';

describe('Construct: CdcProcessor (defaults)', () => {
  let stack: CdcProcessorStack;
  let template: Template;

  beforeAll(() => {
    ({ stack, template } = synthStack());
  });

  describe('Resource: Kinesis stream', () => {
    it('is provisioned, with its shard count, retention, AWS-managed encryption and shard-level metrics', () => {
      template.resourceCountIs('AWS::Kinesis::Stream', 1);
      template.hasResource('AWS::Kinesis::Stream', {
        Properties: {
          StreamModeDetails: { StreamMode: 'PROVISIONED' },
          ShardCount: 2,
          RetentionPeriodHours: 24,
          StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
          DesiredShardLevelMetrics: [
            'IncomingRecords',
            'IncomingBytes',
            'IteratorAgeMilliseconds',
            'WriteProvisionedThroughputExceeded',
          ],
        },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });
  });

  describe('Resource: DynamoDB tables', () => {
    const common = {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
    };

    it('declares exactly the three tables', () => {
      template.resourceCountIs('AWS::DynamoDB::Table', 3);
    });

    it('state: partition key, TTL, on-demand, PITR, encryption, retained and deletion-protected', () => {
      expect(template.toJSON().Resources[logicalIdOf(stack.processor.stateTable)]).toEqual({
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          ...common,
          KeySchema: [{ AttributeName: STATE_TABLE.partitionKey, KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: STATE_TABLE.partitionKey, AttributeType: 'S' }],
          TimeToLiveSpecification: { AttributeName: STATE_TABLE.attributes.ttl, Enabled: true },
        },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });

    it.each([
      ['parked', () => stack.processor.parkedTable, PARKED_TABLE],
      ['coordination', () => stack.processor.coordinationTable, COORDINATION_TABLE],
    ] as const)(
      '%s: pk/sk, TTL, on-demand, PITR, encryption, retained and deletion-protected',
      (_, table, keys) => {
        expect(template.toJSON().Resources[logicalIdOf(table())]).toEqual({
          Type: 'AWS::DynamoDB::Table',
          Properties: {
            ...common,
            KeySchema: [
              { AttributeName: keys.partitionKey, KeyType: 'HASH' },
              { AttributeName: keys.sortKey, KeyType: 'RANGE' },
            ],
            AttributeDefinitions: [
              { AttributeName: keys.partitionKey, AttributeType: 'S' },
              { AttributeName: keys.sortKey, AttributeType: 'S' },
            ],
            TimeToLiveSpecification: { AttributeName: keys.ttl, Enabled: true },
          },
          DeletionPolicy: 'Retain',
          UpdateReplacePolicy: 'Retain',
        });
      },
    );
  });

  describe('Resource: consumer function', () => {
    it('runs Node.js 24 on arm64 with the table, stream and AppConfig names in its environment', () => {
      const { processor } = stack;
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 1024,
        Timeout: 60,
        Role: arnOf(processor.consumer!.role),
        LoggingConfig: { LogGroup: refOf(processor.consumer!.logGroup) },
        Environment: {
          Variables: {
            NODE_OPTIONS: '--enable-source-maps',
            [ENV.STATE_TABLE]: refOf(processor.stateTable),
            [ENV.PARKED_TABLE]: refOf(processor.parkedTable),
            [ENV.COORDINATION_TABLE]: refOf(processor.coordinationTable),
            [ENV.STREAM_NAME]: refOf(processor.stream),
            [ENV.APPCONFIG_APPLICATION_ID]: refOf(processor.config.application),
            // By name: the environment's rollback alarm watches this function (see ProcessorConfig).
            [ENV.APPCONFIG_ENVIRONMENT_ID]: processor.config.environmentName,
            [ENV.APPCONFIG_PROFILE_ID]: {
              Ref: Match.stringLikeRegexp('^ProcessorConfigProfileConfigurationProfile'),
            },
          },
        },
      });
    });

    it('has a role without managed policies (no AWSLambdaBasicExecutionRole)', () => {
      const role = template.toJSON().Resources[logicalIdOf(stack.processor.consumer!.role)];
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ]);
    });

    it('logs to its own log group, kept one month', () => {
      expect(template.toJSON().Resources[logicalIdOf(stack.processor.consumer!.logGroup)].Properties).toEqual(
        {
          RetentionInDays: 30,
        },
      );
    });
  });

  describe('Resource: event source mapping', () => {
    it('reads the stream with the batch, window, parallelization, retry, age and failure settings', () => {
      template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: arnOf(stack.processor.stream),
        FunctionName: refOf(stack.processor.consumer!.function),
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 0,
        ParallelizationFactor: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRetryAttempts: 10,
        MaximumRecordAgeInSeconds: -1,
        BisectBatchOnFunctionError: false,
        DestinationConfig: { OnFailure: { Destination: arnOf(stack.processor.failedBatches.bucket) } },
        MetricsConfig: { Metrics: ['EventCount'] },
      });
    });
  });

  describe('Resource: failed-batches bucket (the on-failure destination)', () => {
    it('is encrypted, private, TLS only, expires batches after 14 days and is kept when the stack goes', () => {
      const { bucket } = stack.processor.failedBatches;
      const resource = template.toJSON().Resources[logicalIdOf(bucket)];
      expect(resource).toEqual({
        Type: 'AWS::S3::Bucket',
        Properties: {
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
            ],
          },
          LifecycleConfiguration: { Rules: [{ ExpirationInDays: 14, Status: 'Enabled' }] },
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
        },
        UpdateReplacePolicy: 'Retain',
        DeletionPolicy: 'Retain',
      });
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: refOf(bucket),
        PolicyDocument: {
          Statement: [
            {
              Effect: 'Deny',
              Action: 's3:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Resource: [arnOf(bucket), { 'Fn::Join': ['', [arnOf(bucket), '/*']] }],
            },
          ],
        },
      });
    });
  });

  describe('Resource: cluster manager', () => {
    it('runs Node.js 24 on arm64 with the coordination, state and parked tables, stream, mapping and AppConfig ids', () => {
      const { processor } = stack;
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        Timeout: 50,
        Role: arnOf(processor.clusterManager.role),
        Environment: {
          Variables: {
            NODE_OPTIONS: '--enable-source-maps',
            [ENV.COORDINATION_TABLE]: refOf(processor.coordinationTable),
            [ENV.STATE_TABLE]: refOf(processor.stateTable),
            [ENV.PARKED_TABLE]: refOf(processor.parkedTable),
            [ENV.STREAM_NAME]: refOf(processor.stream),
            [ENV.EVENT_SOURCE_MAPPING_ID]: { Ref: Match.stringLikeRegexp('KinesisEventSource') },
            [ENV.APPCONFIG_APPLICATION_ID]: refOf(processor.config.application),
            [ENV.APPCONFIG_ENVIRONMENT_ID]: refOf(processor.config.environment),
            [ENV.APPCONFIG_PROFILE_ID]: {
              Ref: Match.stringLikeRegexp('^ProcessorConfigProfileConfigurationProfile'),
            },
            [ENV.APPCONFIG_DEPLOYMENT_STRATEGY_ID]: refOf(processor.config.deploymentStrategy),
          },
        },
      });
    });

    it('runs on an EventBridge schedule every minute, without retries, and EventBridge may invoke it', () => {
      const fn = stack.processor.clusterManager.function;
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [
          {
            Arn: arnOf(fn),
            Id: 'Target0',
            RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
          },
        ],
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: arnOf(fn),
        Principal: 'events.amazonaws.com',
        SourceArn: arnOf(stack.processor.clusterManagerSchedule),
      });
    });
  });

  describe('Resource: AppConfig', () => {
    it('declares an application, an environment, a hosted freeform profile and its first deployment', () => {
      for (const type of [
        'AWS::AppConfig::Application',
        'AWS::AppConfig::Environment',
        'AWS::AppConfig::ConfigurationProfile',
        'AWS::AppConfig::HostedConfigurationVersion',
        'AWS::AppConfig::DeploymentStrategy',
        'AWS::AppConfig::Deployment',
      ])
        template.resourceCountIs(type, 1);
      template.hasResourceProperties('AWS::AppConfig::ConfigurationProfile', {
        ApplicationId: refOf(stack.processor.config.application),
        LocationUri: 'hosted',
        Type: 'AWS.Freeform',
        Validators: [{ Type: 'JSON_SCHEMA', Content: Match.stringLikeRegexp('draft-04') }],
      });
      template.hasResourceProperties('AWS::AppConfig::HostedConfigurationVersion', {
        ContentType: 'application/json',
      });
    });

    it('deploys its first version with the stack, through the gradual strategy', () => {
      template.hasResourceProperties('AWS::AppConfig::Deployment', {
        ApplicationId: refOf(stack.processor.config.application),
        EnvironmentId: refOf(stack.processor.config.environment),
        DeploymentStrategyId: refOf(stack.processor.config.deploymentStrategy),
        ConfigurationProfileId: {
          Ref: Match.stringLikeRegexp('^ProcessorConfigProfileConfigurationProfile'),
        },
      });
    });
  });
});

describe('Construct: CdcProcessor (props)', () => {
  it('passes every stream, mapping, queue and schedule prop through to the template', () => {
    const { template } = synthStack({
      shardCount: 4,
      streamRetention: Duration.hours(48),
      shardLevelMetrics: false,
      batchSize: 500,
      maxBatchingWindow: Duration.seconds(2),
      parallelizationFactor: 4,
      retryAttempts: -1,
      maxRecordAge: Duration.hours(1),
      bisectBatchOnError: true,
      startingPosition: 'LATEST',
      failedBatchesRetention: Duration.days(30),
      consumerMemorySizeMiB: 2048,
      consumerTimeout: Duration.minutes(2),
      clusterManagerSchedule: Duration.minutes(5),
      clusterManagerTimeout: Duration.minutes(2),
    });
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      ShardCount: 4,
      RetentionPeriodHours: 48,
      DesiredShardLevelMetrics: Match.absent(),
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 2,
      ParallelizationFactor: 4,
      MaximumRetryAttempts: -1,
      MaximumRecordAgeInSeconds: 3600,
      BisectBatchOnFunctionError: true,
      StartingPosition: 'LATEST',
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [{ ExpirationInDays: 30, Status: 'Enabled' }] },
    });
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 2048, Timeout: 120 });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [
        Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 300 } }),
      ],
    });
    // The missing-leader alarm waits for two missed runs of the slower schedule.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ClusterManagerHeartbeat',
      Period: 600,
    });
  });

  it('destroys data and lifts deletion protection only when told to', () => {
    const { template } = synthStack({ removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false });
    for (const table of Object.values(template.findResources('AWS::DynamoDB::Table'))) {
      expect(table.DeletionPolicy).toBe('Delete');
      expect(table.Properties.DeletionProtectionEnabled).toBe(false);
    }
    template.hasResource('AWS::Kinesis::Stream', { DeletionPolicy: 'Delete' });
  });
});

describe('Stack: CdcProcessorStack', () => {
  it('outputs what producers, operators and cdcp need after a deploy', () => {
    const { stack, template } = synthStack();
    const p = stack.processor;
    const outputs = template.toJSON().Outputs as Record<string, { Description: string; Value: unknown }>;
    const targetKey = logicalIdOf(p.targetOutput);
    expect(outputs[targetKey]?.Description).toMatch(/^cdcp target: /);
    const targetValue = JSON.stringify(outputs[targetKey]?.Value);
    for (const ref of [p.stream, p.stateTable, p.parkedTable, p.coordinationTable, p.consumer!.function])
      expect(targetValue).toContain(JSON.stringify(refOf(ref)));
    expect(targetValue).toContain('\\"fingerprint\\":\\"builtin\\"');
    delete outputs[targetKey];
    expect(outputs).toEqual({
      StreamName: { Description: expect.any(String), Value: refOf(p.stream) },
      StreamArn: { Description: expect.any(String), Value: arnOf(p.stream) },
      StateTableName: { Description: expect.any(String), Value: refOf(p.stateTable) },
      ParkedTableName: { Description: expect.any(String), Value: refOf(p.parkedTable) },
      CoordinationTableName: { Description: expect.any(String), Value: refOf(p.coordinationTable) },
      FailedBatchesBucketName: { Description: expect.any(String), Value: refOf(p.failedBatches.bucket) },
      AlarmTopicArn: { Description: expect.any(String), Value: refOf(p.alarmTopic) },
      DashboardName: { Description: expect.any(String), Value: refOf(p.monitoring.dashboard!) },
    });
  });
});
