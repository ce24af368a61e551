import { Duration } from 'aws-cdk-lib';
import {
  Application,
  ConfigurationContent,
  ConfigurationType,
  DeploymentStrategy,
  Environment,
  HostedConfiguration,
  JsonSchemaValidator,
  RolloutStrategy,
} from 'aws-cdk-lib/aws-appconfig';
import { Construct } from 'constructs';
import type { Config } from '../core/config/schema.js';
import { appConfigValidatorSchema } from './config-schema.js';

interface ProcessorConfigProps {
  /** The configuration deployed with the stack (already validated). */
  readonly config: Config;
  readonly deploymentDurationMinutes: number;
  readonly finalBakeTimeMinutes: number;
}

/**
 * AppConfig application, environment, hosted configuration profile and deployment strategy. The profile's
 * validator is the JSON Schema generated from the zod config schema, so AppConfig refuses an invalid
 * configuration at deployment, before any consumer sees it. The stack deploys `config` as the first version.
 */
class ProcessorConfig extends Construct {
  public readonly application: Application;
  public readonly environment: Environment;
  public readonly profile: HostedConfiguration;
  public readonly deploymentStrategy: DeploymentStrategy;

  public constructor(scope: Construct, id: string, props: ProcessorConfigProps) {
    super(scope, id);
    this.application = new Application(this, 'Application', {
      description: 'cdc-event-processor configuration',
    });
    this.environment = new Environment(this, 'Environment', {
      application: this.application,
      description: 'The consumers and the cluster manager of this stack',
    });
    this.deploymentStrategy = new DeploymentStrategy(this, 'DeploymentStrategy', {
      description: 'All consumers at once (each polls for it), then a bake time',
      rolloutStrategy: RolloutStrategy.linear({
        growthFactor: 100,
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

  /** ARN of the configuration as AppConfigData serves it: this profile in this environment. */
  public get configurationArn(): string {
    return `${this.environment.environmentArn}/configuration/${this.profile.configurationProfileId}`;
  }
}

export type { ProcessorConfigProps };
export { ProcessorConfig };
