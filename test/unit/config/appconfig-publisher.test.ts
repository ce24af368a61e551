/**
 * AppConfigPublisher. The AppConfig control plane is not available locally (LocalStack has it in a paid
 * tier), so it is mocked with aws-sdk-client-mock: these tests check the requests we send and how we read
 * the answers.
 */
import {
  AppConfigClient,
  ConflictException,
  CreateHostedConfigurationVersionCommand,
  GetHostedConfigurationVersionCommand,
  type GetHostedConfigurationVersionCommandOutput,
  ListDeploymentsCommand,
  ListHostedConfigurationVersionsCommand,
  StartDeploymentCommand,
} from '@aws-sdk/client-appconfig';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AppConfigPublisher, ConfigPublishError, ConfigValidationError } from '../../../core/config/index.js';
import { OptionsError } from '../../../core/errors.js';

const appConfig = mockClient(AppConfigClient);
const PUBLISHED_AT = Date.parse('2026-03-01T12:00:00.000Z');
const decode = (content: unknown) =>
  JSON.parse(typeof content === 'string' ? content : new TextDecoder().decode(content as Uint8Array));
/** The SDK types responses as blob adapters; the publisher reads them as plain bytes. */
const bytes = (text: string) =>
  new TextEncoder().encode(text) as unknown as NonNullable<
    GetHostedConfigurationVersionCommandOutput['Content']
  >;

function publisher() {
  return new AppConfigPublisher({
    client: new AppConfigClient({ region: 'us-east-1' }),
    applicationId: 'app1',
    environmentId: 'env1',
    profileId: 'prof1',
    deploymentStrategyId: 'strat1',
    clock: { wallNow: () => PUBLISHED_AT },
  });
}

beforeEach(() => {
  appConfig.reset();
});

describe('Class: AppConfigPublisher', () => {
  describe('Method: constructor', () => {
    it('refuses a missing deployment strategy', () => {
      expect(
        () =>
          new AppConfigPublisher({
            client: new AppConfigClient({ region: 'us-east-1' }),
            applicationId: 'a',
            environmentId: 'e',
            profileId: 'p',
            deploymentStrategyId: '',
          }),
      ).toThrow(OptionsError);
    });
  });

  describe('Method: publish', () => {
    it('creates the next hosted version, stamped, and deploys it with the configured strategy', async () => {
      appConfig
        .on(ListHostedConfigurationVersionsCommand)
        .resolvesOnce({ Items: [{ VersionNumber: 3 }, { VersionNumber: 7 }], NextToken: 'page-2' })
        .resolvesOnce({ Items: [{ VersionNumber: 5 }] });
      appConfig.on(CreateHostedConfigurationVersionCommand).resolves({ VersionNumber: 8 });
      appConfig
        .on(StartDeploymentCommand)
        .resolves({ DeploymentNumber: 12, State: 'DEPLOYING', PercentageComplete: 0 });

      const published = await publisher().publish(
        { tables: { 'public.orders': { paused: true } } },
        { description: 'pause orders' },
      );

      const create = appConfig.commandCalls(CreateHostedConfigurationVersionCommand)[0]!.args[0].input;
      expect(create).toMatchObject({
        ApplicationId: 'app1',
        ConfigurationProfileId: 'prof1',
        ContentType: 'application/json',
        LatestVersionNumber: 7,
        VersionLabel: 'v8',
        Description: 'pause orders',
      });
      const content = decode(create.Content);
      expect(content.version).toBe('8');
      expect(content.publishedAt).toBe('2026-03-01T12:00:00.000Z');
      expect(content.tables['public.orders']).toEqual({ paused: true, priority: 'normal' });
      expect(content.processing.maxAttempts).toBe(3);
      expect(appConfig.commandCalls(StartDeploymentCommand)[0]!.args[0].input).toEqual({
        ApplicationId: 'app1',
        EnvironmentId: 'env1',
        ConfigurationProfileId: 'prof1',
        ConfigurationVersion: '8',
        DeploymentStrategyId: 'strat1',
        Description: 'pause orders',
      });
      expect(published).toMatchObject({
        version: '8',
        publishedAtWallMs: PUBLISHED_AT,
        target: 'appconfig:app1/env1/prof1',
        deployment: { deploymentNumber: 12, state: 'DEPLOYING', percentageComplete: 0 },
      });
    });

    it('refuses an invalid document before calling AppConfig', async () => {
      await expect(publisher().publish({ processing: { maxAttempts: 0 } })).rejects.toThrow(
        ConfigValidationError,
      );
      await expect(publisher().publish({ processing: { maxAttempts: 0 } })).rejects.toThrow(
        /processing\.maxAttempts: received 0, expected an integer from 1 to 1000/,
      );

      expect(appConfig.calls()).toHaveLength(0);
    });

    it('starts at version 1 without a locking token when the profile has no version yet', async () => {
      appConfig.on(ListHostedConfigurationVersionsCommand).resolves({ Items: [] });
      appConfig.on(CreateHostedConfigurationVersionCommand).resolves({ VersionNumber: 1 });
      appConfig.on(StartDeploymentCommand).resolves({ DeploymentNumber: 1, State: 'DEPLOYING' });

      await publisher().publish({});

      const create = appConfig.commandCalls(CreateHostedConfigurationVersionCommand)[0]!.args[0].input;
      expect(create.LatestVersionNumber).toBeUndefined();
      expect(decode(create.Content).version).toBe('1');
    });

    it('lists again and re-stamps when another publisher created a version first', async () => {
      appConfig
        .on(ListHostedConfigurationVersionsCommand)
        .resolvesOnce({ Items: [{ VersionNumber: 4 }] })
        .resolvesOnce({ Items: [{ VersionNumber: 4 }, { VersionNumber: 5 }] });
      appConfig
        .on(CreateHostedConfigurationVersionCommand)
        .rejectsOnce(new ConflictException({ message: 'version mismatch', $metadata: {} }))
        .resolves({ VersionNumber: 6 });
      appConfig.on(StartDeploymentCommand).resolves({ DeploymentNumber: 3, State: 'DEPLOYING' });

      const published = await publisher().publish({});

      const creates = appConfig.commandCalls(CreateHostedConfigurationVersionCommand);
      expect(creates.map((c) => c.args[0].input.LatestVersionNumber)).toEqual([4, 5]);
      expect(creates.map((c) => decode(c.args[0].input.Content).version)).toEqual(['5', '6']);
      expect(published.version).toBe('6');
    });

    it('says the version was created but not deployed when another deployment is in progress', async () => {
      appConfig.on(ListHostedConfigurationVersionsCommand).resolves({ Items: [{ VersionNumber: 1 }] });
      appConfig.on(CreateHostedConfigurationVersionCommand).resolves({ VersionNumber: 2 });
      appConfig
        .on(StartDeploymentCommand)
        .rejects(new ConflictException({ message: 'deployment 4 is in progress', $metadata: {} }));

      const error = await publisher()
        .publish({})
        .catch((e: unknown) => e as ConfigPublishError);

      expect(error).toBeInstanceOf(ConfigPublishError);
      expect((error as ConfigPublishError).message).toBe(
        'configuration version 2 was created but not deployed: another deployment is in progress on environment ' +
          'env1 (deployment 4 is in progress). Wait for it to finish (`cdcp config status`) and run `cdcp config set` again.',
      );
    });
  });

  describe('Method: current', () => {
    it('reads the newest deployment of the profile that was not rolled back', async () => {
      appConfig.on(ListDeploymentsCommand).resolves({
        Items: [
          {
            DeploymentNumber: 9,
            ConfigurationProfileId: 'other',
            ConfigurationVersion: '1',
            State: 'COMPLETE',
          },
          {
            DeploymentNumber: 8,
            ConfigurationProfileId: 'prof1',
            ConfigurationVersion: '6',
            State: 'ROLLED_BACK',
          },
          {
            DeploymentNumber: 7,
            ConfigurationProfileId: 'prof1',
            ConfigurationVersion: '5',
            State: 'COMPLETE',
            PercentageComplete: 100,
            StartedAt: new Date('2026-03-01T10:00:00Z'),
            CompletedAt: new Date('2026-03-01T10:05:00Z'),
          },
        ],
      });
      appConfig.on(GetHostedConfigurationVersionCommand).resolves({
        Content: bytes(
          JSON.stringify({
            version: '5',
            publishedAt: '2026-03-01T09:59:58.000Z',
            shedding: { active: true },
          }),
        ),
      });

      const current = await publisher().current();

      expect(appConfig.commandCalls(GetHostedConfigurationVersionCommand)[0]!.args[0].input).toEqual({
        ApplicationId: 'app1',
        ConfigurationProfileId: 'prof1',
        VersionNumber: 5,
      });
      expect(current).toMatchObject({
        version: '5',
        publishedAtWallMs: Date.parse('2026-03-01T09:59:58.000Z'),
        target: 'appconfig:app1/env1/prof1',
        deployment: {
          deploymentNumber: 7,
          state: 'COMPLETE',
          percentageComplete: 100,
          completedAtWallMs: Date.parse('2026-03-01T10:05:00Z'),
        },
      });
      expect(current?.config.shedding.active).toBe(true);
    });

    it('is undefined when the profile was never deployed', async () => {
      appConfig.on(ListDeploymentsCommand).resolves({ Items: [] });

      expect(await publisher().current()).toBeUndefined();
    });
  });
});
