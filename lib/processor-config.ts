import { Duration } from 'aws-cdk-lib';
import {
  Application,
  type CfnEnvironment,
  ConfigurationContent,
  ConfigurationType,
  DeploymentStrategy,
  Environment,
  HostedConfiguration,
  JsonSchemaValidator,
  RolloutStrategy,
} from 'aws-cdk-lib/aws-appconfig';
import type { IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { Config } from '../core/config/schema.js';
import { ALARM_READ_ACTIONS } from './actions.js';
import { appConfigValidatorSchema } from './config-schema.js';

interface ProcessorConfigProps {
  /** The configuration deployed with the stack (already validated). */
  readonly config: Config;
  readonly deploymentDurationMinutes: number;
  readonly finalBakeTimeMinutes: number;
  /** Percent of the targets each step of a deployment adds. */
  readonly growthFactor: number;
}

/**
 * The environment's name. Consumers read their configuration by it (AppConfigData takes an environment's id
 * or name): an id would make the consumer depend on the environment, whose rollback alarm watches the
 * consumer, and CloudFormation refuses the cycle. Names are unique within this construct's own application.
 */
const ENVIRONMENT_NAME = 'processor';

/**
 * AppConfig application, environment, hosted configuration profile and deployment strategy. The profile's
 * validator is the JSON Schema generated from the zod config schema, so AppConfig refuses an invalid
 * configuration at deployment, before any consumer sees it. Deployments are gradual (linear, then a bake
 * time) and roll back by themselves when the alarm given to {@link rollBackOn} fires. The stack deploys
 * `config` as the first version.
 */
class ProcessorConfig extends Construct {
  public readonly application: Application;
  public readonly environment: Environment;
  public readonly profile: HostedConfiguration;
  public readonly deploymentStrategy: DeploymentStrategy;
  /** The role AppConfig assumes to read the rollback alarm's state; undefined until {@link rollBackOn}. */
  public monitorRole: Role | undefined;

  public constructor(scope: Construct, id: string, props: ProcessorConfigProps) {
    super(scope, id);
    this.application = new Application(this, 'Application', {
      description: 'cdc-event-processor configuration',
    });
    this.environment = new Environment(this, 'Environment', {
      application: this.application,
      environmentName: ENVIRONMENT_NAME,
      description: 'The consumers and the cluster manager of this stack',
    });
    this.deploymentStrategy = new DeploymentStrategy(this, 'DeploymentStrategy', {
      description:
        `${props.growthFactor} % of the consumers per step over ${props.deploymentDurationMinutes} min, then ` +
        `${props.finalBakeTimeMinutes} min of bake; rolled back when the configuration alarm fires`,
      rolloutStrategy: RolloutStrategy.linear({
        growthFactor: props.growthFactor,
        deploymentDuration: Duration.minutes(props.deploymentDurationMinutes),
        finalBakeTime: Duration.minutes(props.finalBakeTimeMinutes),
      }),
    });
    this.profile = new HostedConfiguration(this, 'Profile', {
      application: this.application,
      description: 'Processing settings; validated by the JSON Schema of core/config/schema.ts',
      type: ConfigurationType.FREEFORM,
      content: ConfigurationContent.fromInlineJson(JSON.stringify(props.config, null, 2)),
      validators: [JsonSchemaValidator.fromInline(appConfigValidatorSchema())],
      deploymentStrategy: this.deploymentStrategy,
      deployTo: [this.environment],
    });
  }

  /** The name consumers read the configuration by (see {@link ENVIRONMENT_NAME}). */
  public get environmentName(): string {
    return ENVIRONMENT_NAME;
  }

  /** ARN of the configuration as AppConfigData serves it: this profile in this environment. */
  public get configurationArn(): string {
    return `${this.environment.environmentArn}/configuration/${this.profile.configurationProfileId}`;
  }

  /**
   * ARN of this profile's configuration in any environment of this construct's application (it has one):
   * what the consumers are granted, since naming the environment's id would close the dependency cycle
   * described at {@link ENVIRONMENT_NAME}.
   */
  public get configurationInApplicationArn(): string {
    return `${this.application.applicationArn}/environment/*/configuration/${this.profile.configurationProfileId}`;
  }

  /**
   * Makes `alarm` the environment's monitor: a deployment in progress or in its bake time is rolled back when
   * it fires. AppConfig reads its state through a role it assumes, allowed `DescribeAlarms` on that alarm only.
   * Set after the alarms exist (they watch functions created after this construct), on the L1 environment.
   */
  public rollBackOn(alarm: IAlarm): void {
    this.monitorRole = new Role(this, 'MonitorRole', {
      assumedBy: new ServicePrincipal('appconfig.amazonaws.com'),
      description: 'AppConfig reads the configuration alarm of this processor to roll bad deployments back',
    });
    this.monitorRole.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: [...ALARM_READ_ACTIONS],
        resources: [alarm.alarmArn],
      }),
    );
    const cfn = this.environment.node.defaultChild as CfnEnvironment;
    cfn.monitors = [{ alarmArn: alarm.alarmArn, alarmRoleArn: this.monitorRole.roleArn }];
  }
}

export type { ProcessorConfigProps };
export { ProcessorConfig };
