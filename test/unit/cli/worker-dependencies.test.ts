/**
 * What `cdcp worker` builds from its settings. AppConfig does not run locally, so AppConfigData is mocked with
 * aws-sdk-client-mock: these tests check that the worker reads it through the Lambda consumer's source.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  AppConfigDataClient,
  GetLatestConfigurationCommand,
  type GetLatestConfigurationCommandOutput,
  StartConfigurationSessionCommand,
} from '@aws-sdk/client-appconfigdata';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { openConfigSource, projectionOf } from '../../../bin/worker/dependencies.js';
import { parseWorkerSettings } from '../../../bin/worker/settings.js';
import { AppConfigSource, parseConfig } from '../../../core/config/index.js';
import { ENV } from '../../../core/constants.js';

const appConfigData = mockClient(AppConfigDataClient);
type Bytes = NonNullable<GetLatestConfigurationCommandOutput['Configuration']>;
const encode = (document: unknown) => new TextEncoder().encode(JSON.stringify(document)) as unknown as Bytes;
const logger = new Logger({ logLevel: 'SILENT' });
const folder = mkdtempSync(join(tmpdir(), 'cdcp-worker-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const TASK_ENV = {
  [ENV.STREAM_NAME]: 'orders',
  [ENV.STATE_TABLE]: 'state',
  [ENV.PARKED_TABLE]: 'parked',
  [ENV.COORDINATION_TABLE]: 'coordination',
  [ENV.AWS_REGION]: 'us-east-1',
  [ENV.CONFIG_JSON]: JSON.stringify({ version: 'stack', processing: { maxAttempts: 5 } }),
};

describe('Function: openConfigSource', () => {
  it('reads AppConfig through the Lambda consumer’s source (last-known-good included): the stack’s config until it answers, then the deployed version', async () => {
    const env = {
      ...TASK_ENV,
      [ENV.APPCONFIG_APPLICATION_ID]: 'cdcp',
      [ENV.APPCONFIG_ENVIRONMENT_ID]: 'prod',
      [ENV.APPCONFIG_PROFILE_ID]: 'config',
    };
    appConfigData.reset();
    appConfigData.on(StartConfigurationSessionCommand).resolves({ InitialConfigurationToken: 'token-0' });
    appConfigData.on(GetLatestConfigurationCommand).resolves({
      Configuration: encode(parseConfig({ version: '7', leases: { assignment: 'adaptive' } })),
      NextPollConfigurationToken: 'token-1',
      ContentType: 'application/json',
    });

    const source = await openConfigSource(parseWorkerSettings([], env), env, logger);
    const before = source.current();
    const deployed = await source.refresh({ force: true });
    await source.close();

    expect(source).toBeInstanceOf(AppConfigSource);
    expect(before).toMatchObject({ version: 'stack' });
    expect(before.config.processing.maxAttempts).toBe(5);
    expect(deployed.version).toBe('7');
    expect(deployed.config.leases.assignment).toBe('adaptive');
    expect(appConfigData.commandCalls(StartConfigurationSessionCommand)[0]!.args[0].input).toMatchObject({
      ApplicationIdentifier: 'cdcp',
      EnvironmentIdentifier: 'prod',
      ConfigurationProfileIdentifier: 'config',
    });
  });

  it('watches a local config store when one is given, on CDCP_CONFIG_JSON until the file can be read', async () => {
    const path = join(folder, 'config.json');
    const env = { ...TASK_ENV, [ENV.CONFIG_FILE]: path };

    const source = await openConfigSource(parseWorkerSettings([], env), env, logger);
    const before = source.current();
    writeFileSync(path, JSON.stringify(parseConfig({ version: 'file-2' })));
    const after = await source.refresh({ force: true });
    await source.close();

    expect(before.version).toBe('stack');
    expect(after.version).toBe('file-2');
  });
});

describe('Function: projectionOf', () => {
  it('takes a module’s default export, and the mirror projection when none is given', async () => {
    const counting = fileURLToPath(
      new URL('../../../localstack/run/counting-projection.ts', import.meta.url),
    );

    expect((await projectionOf(counting))?.name).toBe('mirror-counting');
    expect(await projectionOf(undefined)).toBeUndefined();
  });

  it('says what is wrong with a module that is missing or exports no projection', async () => {
    const constants = fileURLToPath(new URL('../../../core/constants.ts', import.meta.url));

    await expect(projectionOf('./no/such/projection.ts')).rejects.toThrow(
      'the projection module "./no/such/projection.ts" cannot be loaded (',
    );
    await expect(projectionOf(constants)).rejects.toThrow(
      `the projection module ${JSON.stringify(constants)} has no default export with a name and an apply function; received exports`,
    );
  });
});
