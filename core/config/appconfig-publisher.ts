import {
  type AppConfigClient,
  BadRequestException,
  ConflictException,
  CreateHostedConfigurationVersionCommand,
  type DeploymentSummary,
  GetHostedConfigurationVersionCommand,
  ListDeploymentsCommand,
  ListHostedConfigurationVersionsCommand,
  StartDeploymentCommand,
} from '@aws-sdk/client-appconfig';
import { type Clock, systemClock } from '../coordination/clock.js';
import { OptionsError } from '../errors.js';
import { requireAppConfigIds } from './appconfig-ids.js';
import { ConfigPublishError } from './errors.js';
import type { ConfigPublisher, PublishedConfig, PublishOptions } from './publisher.js';
import { stampConfig } from './stamp.js';
import { parseConfigDocument, parseConfigText } from './violations.js';

/** Deployments that no longer carry their version to instances. */
const UNDONE_STATES = new Set(['ROLLED_BACK', 'REVERTED']);

interface AppConfigPublisherOptions {
  /** The AppConfig control-plane client (injected). */
  readonly client: AppConfigClient;
  readonly applicationId: string;
  readonly environmentId: string;
  readonly profileId: string;
  /** The strategy every deployment uses (the stack's: linear over its duration, with its bake time). */
  readonly deploymentStrategyId: string;
  /** Attempts when another publisher created a version at the same moment. @default 3 */
  readonly maxAttempts?: number;
  /** @default systemClock */
  readonly clock?: Pick<Clock, 'wallNow'>;
}

/**
 * Publishes to AWS AppConfig: a new hosted configuration version (content = the validated, stamped config;
 * label `v<N>`) and a deployment of it with the configured strategy, so AppConfig's validator, gradual
 * rollout and rollback on alarm apply. The document's `version` is the hosted version number it becomes:
 * `LatestVersionNumber` makes the create fail if another publisher got there first, and it is retried.
 *
 * @example
 * ```ts
 * const publisher = new AppConfigPublisher({ client: new AppConfigClient({}), applicationId, environmentId,
 *   profileId, deploymentStrategyId });
 * const { version, deployment } = await publisher.publish(JSON.parse(readFileSync('config.json', 'utf8')));
 * ```
 */
class AppConfigPublisher implements ConfigPublisher {
  readonly #options: AppConfigPublisherOptions;
  readonly #clock: Pick<Clock, 'wallNow'>;
  readonly #maxAttempts: number;
  readonly #target: string;

  public constructor(options: AppConfigPublisherOptions) {
    requireAppConfigIds(options, ['applicationId', 'environmentId', 'profileId', 'deploymentStrategyId']);
    const maxAttempts = options.maxAttempts ?? 3;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
      throw new OptionsError('maxAttempts', maxAttempts, 'must be an integer of at least 1');
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#maxAttempts = maxAttempts;
    this.#target = `appconfig:${options.applicationId}/${options.environmentId}/${options.profileId}`;
  }

  public async publish(document: unknown, options: PublishOptions = {}): Promise<PublishedConfig> {
    const config = parseConfigDocument(document);
    const { client, applicationId, profileId } = this.#options;
    for (let attempt = 1; ; attempt++) {
      const latest = await this.#latestVersionNumber();
      const next = latest + 1;
      const publishedAtWallMs = this.#clock.wallNow();
      const stamped = stampConfig(config, String(next), publishedAtWallMs);
      let created: number | undefined;
      try {
        const response = await client.send(
          new CreateHostedConfigurationVersionCommand({
            ApplicationId: applicationId,
            ConfigurationProfileId: profileId,
            Content: new TextEncoder().encode(JSON.stringify(stamped)),
            ContentType: 'application/json',
            // Refused if someone created a version since we listed: our stamped number would be wrong.
            LatestVersionNumber: latest === 0 ? undefined : latest,
            VersionLabel: `v${next}`,
            Description: options.description,
          }),
        );
        created = response.VersionNumber;
      } catch (error) {
        if (error instanceof ConflictException && attempt < this.#maxAttempts) continue;
        throw this.#publishError('could not create the configuration version', error);
      }
      const versionNumber = created ?? next;
      const deployment = await this.#deploy(versionNumber, options.description);
      return {
        version: stamped.version,
        publishedAtWallMs,
        config: stamped,
        target: this.#target,
        deployment: {
          deploymentNumber: deployment.DeploymentNumber ?? 0,
          state: deployment.State ?? 'DEPLOYING',
          percentageComplete: deployment.PercentageComplete,
          completedAtWallMs: deployment.CompletedAt?.getTime(),
        },
      };
    }
  }

  public async current(): Promise<PublishedConfig | undefined> {
    const { client, applicationId, environmentId, profileId } = this.#options;
    let deployment: DeploymentSummary | undefined;
    try {
      let nextToken: string | undefined;
      do {
        // Newest deployment first (the API lists in descending deployment number order).
        const page = await client.send(
          new ListDeploymentsCommand({
            ApplicationId: applicationId,
            EnvironmentId: environmentId,
            NextToken: nextToken,
          }),
        );
        deployment = page.Items?.find(
          (d) => d.ConfigurationProfileId === profileId && !UNDONE_STATES.has(d.State ?? ''),
        );
        nextToken = deployment === undefined ? page.NextToken : undefined;
      } while (nextToken !== undefined);
    } catch (error) {
      throw this.#publishError('could not list the deployments', error);
    }
    if (deployment?.ConfigurationVersion === undefined) return undefined;
    let content: Uint8Array | undefined;
    try {
      content = (
        await client.send(
          new GetHostedConfigurationVersionCommand({
            ApplicationId: applicationId,
            ConfigurationProfileId: profileId,
            VersionNumber: Number(deployment.ConfigurationVersion),
          }),
        )
      ).Content;
    } catch (error) {
      throw this.#publishError(
        `could not read configuration version ${deployment.ConfigurationVersion}`,
        error,
      );
    }
    const config = parseConfigText(
      new TextDecoder().decode(content ?? new Uint8Array()),
      `hosted configuration version ${deployment.ConfigurationVersion} of ${this.#target}`,
    );
    const publishedAt = config.publishedAt === undefined ? Number.NaN : Date.parse(config.publishedAt);
    return {
      version: config.version,
      publishedAtWallMs: Number.isNaN(publishedAt) ? (deployment.StartedAt?.getTime() ?? 0) : publishedAt,
      config,
      target: this.#target,
      deployment: {
        deploymentNumber: deployment.DeploymentNumber ?? 0,
        state: deployment.State ?? 'UNKNOWN',
        percentageComplete: deployment.PercentageComplete,
        completedAtWallMs: deployment.CompletedAt?.getTime(),
      },
    };
  }

  async #latestVersionNumber(): Promise<number> {
    const { client, applicationId, profileId } = this.#options;
    let latest = 0;
    let nextToken: string | undefined;
    try {
      // The API promises no order, so read every page.
      do {
        const page = await client.send(
          new ListHostedConfigurationVersionsCommand({
            ApplicationId: applicationId,
            ConfigurationProfileId: profileId,
            NextToken: nextToken,
          }),
        );
        for (const item of page.Items ?? []) latest = Math.max(latest, item.VersionNumber ?? 0);
        nextToken = page.NextToken;
      } while (nextToken !== undefined);
    } catch (error) {
      throw this.#publishError('could not list the hosted configuration versions', error);
    }
    return latest;
  }

  async #deploy(versionNumber: number, description: string | undefined) {
    const { client, applicationId, environmentId, profileId, deploymentStrategyId } = this.#options;
    try {
      return await client.send(
        new StartDeploymentCommand({
          ApplicationId: applicationId,
          EnvironmentId: environmentId,
          ConfigurationProfileId: profileId,
          ConfigurationVersion: String(versionNumber),
          DeploymentStrategyId: deploymentStrategyId,
          Description: description,
        }),
      );
    } catch (error) {
      if (error instanceof ConflictException)
        throw new ConfigPublishError(
          this.#target,
          `configuration version ${versionNumber} was created but not deployed: another deployment is in ` +
            `progress on environment ${environmentId} (${error.message}). Wait for it to finish ` +
            '(`cdcp config status`) and run `cdcp config set` again.',
          { cause: error },
        );
      throw this.#publishError(
        `created configuration version ${versionNumber} but could not deploy it`,
        error,
      );
    }
  }

  #publishError(what: string, error: unknown): ConfigPublishError {
    const message = (error as Error)?.message ?? String(error);
    const hint =
      error instanceof BadRequestException
        ? ' AppConfig refused the request; if its validator names a setting, fix it and run `cdcp config validate FILE`.'
        : ' Check the AppConfig ids (CDCP_APPCONFIG_*), the credentials and the region.';
    return new ConfigPublishError(this.#target, `${this.#target}: ${what}: ${message}.${hint}`, {
      cause: error,
    });
  }
}

export type { AppConfigPublisherOptions };
export { AppConfigPublisher };
