import { Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import {
  CONFIG_DEPLOY_ACTIONS,
  CONFIG_PUBLISH_ACTIONS,
  CONFIG_READ_ACTIONS,
  FLEET_SCALE_ACTIONS,
  MAPPING_TUNE_ACTIONS,
  METRIC_READ_ACTIONS,
  STREAM_DESCRIBE_ACTIONS,
  STREAM_RESHARD_ACTIONS,
  TABLE_READ_ACTIONS,
  TABLE_WRITE_ACTIONS,
} from './actions.js';
import type { CdcProcessor } from './cdc-processor.js';
import type { ProcessorConfig } from './processor-config.js';

/** An ARN as cdk-nag prints it in a finding id: intrinsics as `<LogicalId>` / `<AWS::Region>`. */
function nagArn(scope: IConstruct, arn: string): string {
  const parts = Stack.of(scope).resolve(arn) as { 'Fn::Join': [string, unknown[]] };
  return parts['Fn::Join'][1]
    .map((part) => (typeof part === 'string' ? part : `<${(part as { Ref: string }).Ref}>`))
    .join('');
}

/** Item reads and writes on tables (no Scan). */
function grantTableReadWrite(grantee: IGrantable, tables: readonly ITable[]): Grant {
  return Grant.addToPrincipal({
    grantee,
    actions: [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS],
    resourceArns: tables.map((t) => t.tableArn),
  });
}

/** Read the deployed configuration through AppConfigData: this profile in this environment. */
function grantReadConfig(grantee: IGrantable, config: ProcessorConfig): Grant {
  return Grant.addToPrincipal({
    grantee,
    actions: [...CONFIG_READ_ACTIONS],
    resourceArns: [config.configurationArn],
  });
}

/**
 * The consumer's read of its configuration: this profile in the construct's own application, whose one
 * environment it names by name (`ProcessorConfig.environmentName`: naming its id would close a dependency
 * cycle through the rollback alarm, which watches the consumer).
 */
function grantConsumerReadConfig(role: IConstruct & IGrantable, config: ProcessorConfig): Grant {
  const grant = Grant.addToPrincipal({
    grantee: role,
    actions: [...CONFIG_READ_ACTIONS],
    resourceArns: [config.configurationInApplicationArn],
  });
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagArn(role, config.configurationInApplicationArn)}]`,
    reason:
      'The wildcard stands for the environment of an AppConfig application this construct creates with exactly ' +
      'one environment, so it names that environment and this one profile. The id cannot be named: the ' +
      "environment's rollback monitor watches the consumer's errors, so the consumer must not depend on it.",
  });
  return grant;
}

/** Why Lambda's X-Ray actions are granted on "*", for the acknowledgement of the finding on a function's role. */
const XRAY_WILDCARD_REASON =
  'xray:PutTraceSegments and xray:PutTelemetryRecords (added by Lambda active tracing, the tracing prop) ' +
  'support no resource-level permissions, so they can only be granted on "*"; they write trace data only.';

/** Acknowledges the `*` resources of a function's role, each reason naming the actions that need it. */
function acknowledgeWildcardResource(role: IConstruct, reasons: readonly string[]): void {
  if (reasons.length === 0) return;
  Validations.of(role).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: reasons.join(' ') });
}

/** Publish versions of the profile and deploy them to this environment with this strategy. */
function grantPublishConfig(grantee: IGrantable, config: ProcessorConfig): void {
  const profileArn = config.profile.configurationProfileArn;
  Grant.addToPrincipal({
    grantee,
    actions: [...CONFIG_PUBLISH_ACTIONS],
    resourceArns: [profileArn, `${profileArn}/hostedconfigurationversion/*`],
  });
  Grant.addToPrincipal({
    grantee,
    actions: [...CONFIG_DEPLOY_ACTIONS],
    resourceArns: [
      config.environment.environmentArn,
      profileArn,
      config.deploymentStrategy.deploymentStrategyArn,
    ],
  });
}

/**
 * The cluster manager's permissions: the coordination table; the parked changes and state its deferred sweep
 * replays; describing (and, unless Kinesis sizes the stream itself, resharding) the stream; tuning the
 * consumer's mapping, or sizing the worker fleet's service; reading, publishing and deploying the
 * configuration; CloudWatch metrics.
 */
function grantClusterManager(processor: CdcProcessor, reshard: boolean, tracing: boolean): void {
  const role = processor.clusterManager.role;
  const config = processor.config;
  const profileArn = config.profile.configurationProfileArn;
  grantTableReadWrite(role, [processor.coordinationTable]);
  // The leader replays changes deferred by a table that was resumed (or by shedding that was lifted) for
  // aggregates that get no new change, as `cdcp parked replay` does: the sweep scans the parked table.
  processor.grantOperateParked(role);
  Grant.addToPrincipal({
    grantee: role,
    actions: reshard ? [...STREAM_DESCRIBE_ACTIONS, ...STREAM_RESHARD_ACTIONS] : [...STREAM_DESCRIBE_ACTIONS],
    resourceArns: [processor.stream.streamArn],
  });
  if (processor.eventSource !== undefined)
    Grant.addToPrincipal({
      grantee: role,
      actions: [...MAPPING_TUNE_ACTIONS],
      resourceArns: [processor.eventSource.eventSourceMappingArn],
    });
  // A worker fleet is sized through its service's desired count; ECS starts and stops the tasks.
  if (processor.workers !== undefined)
    Grant.addToPrincipal({
      grantee: role,
      actions: [...FLEET_SCALE_ACTIONS],
      resourceArns: [processor.workers.service.serviceArn],
    });
  grantReadConfig(role, config);
  grantPublishConfig(role, config);
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagArn(processor, profileArn)}/hostedconfigurationversion/*]`,
    reason:
      'GetHostedConfigurationVersion (and, for some callers, CreateHostedConfigurationVersion) authorise on ' +
      'the hostedconfigurationversion resource, whose last part is a version number AppConfig allocates at ' +
      'publication, so it cannot be named in advance. The wildcard covers versions of this one profile only.',
  });
  Grant.addToPrincipal({ grantee: role, actions: [...METRIC_READ_ACTIONS], resourceArns: ['*'] });
  acknowledgeWildcardResource(role, [
    'cloudwatch:GetMetricData supports no resource-level permissions (the Service Authorization Reference ' +
      'lists no resource type for it), so it can only be granted on "*"; it reads metrics only. The cluster ' +
      'manager needs it for per-shard load and consumer lag.',
    ...(tracing ? [XRAY_WILDCARD_REASON] : []),
  ]);
}

export {
  acknowledgeWildcardResource,
  grantClusterManager,
  grantConsumerReadConfig,
  grantPublishConfig,
  grantReadConfig,
  grantTableReadWrite,
  XRAY_WILDCARD_REASON,
};
