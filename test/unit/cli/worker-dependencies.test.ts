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
import { openConfigSource, workerProjection } from '../../../bin/worker/dependencies.js';
import { parseWorkerSettings } from '../../../bin/worker/settings.js';
import { AppConfigSource, parseConfig } from '../../../core/config/index.js';
import { ENV } from '../../../core/constants.js';
import { MIRROR_IDENTITY } from '../../../projection-module/identity.js';
import { loadProjectionModule } from '../../../projection-module/load.js';

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

describe('Function: workerProjection', () => {
  const counting = fileURLToPath(new URL('../../../localstack/run/counting-projection.ts', import.meta.url));

  it("loads a module through the package's projection loader, with its name and fingerprint; the mirror when none is given", async () => {
    const loaded = await workerProjection(counting, {});
    const mirror = await workerProjection(undefined, {});

    expect(loaded.projection?.name).toBe('mirror-counting');
    expect(loaded.identity).toEqual({
      name: 'mirror-counting',
      fingerprint: (await loadProjectionModule(counting)).identity.fingerprint,
      entry: counting,
    });
    expect(mirror).toEqual({ projection: undefined, identity: MIRROR_IDENTITY });
  });

  it('says what is wrong with a module that is missing or exports no projection, and where it was given', async () => {
    const constants = fileURLToPath(new URL('../../../core/constants.ts', import.meta.url));

    await expect(workerProjection('./no/such/projection.ts', {})).rejects.toThrow(
      /^cannot build the projection module \.\/no\/such\/projection\.ts: .*; check the path given in --projection or CDCP_WORKER_PROJECTION_MODULE$/,
    );
    await expect(workerProjection(constants, {})).rejects.toThrow(
      `the projection module ${constants} has no default export (it exports `,
    );
  });

  it("refuses to start with another projection than the fleet's (CDCP_PROJECTION), as a replay refuses it", async () => {
    const { identity } = await workerProjection(counting, {});
    const mirrorFleet = { [ENV.PROJECTION]: JSON.stringify(MIRROR_IDENTITY) };

    await expect(
      workerProjection(counting, { [ENV.PROJECTION]: JSON.stringify(identity) }),
    ).resolves.toMatchObject({
      identity,
    });
    await expect(workerProjection(counting, mirrorFleet)).rejects.toThrow(
      `this worker runs projection "mirror-counting" (fingerprint ${identity.fingerprint}, from ${counting}), but CDCP_PROJECTION says the fleet runs the built-in mirror projection; give every worker the same projection module`,
    );
    await expect(workerProjection(undefined, { [ENV.PROJECTION]: 'mirror' })).rejects.toThrow(
      'CDCP_PROJECTION must be a projection identity {"name","fingerprint","entry"}; received "mirror". Set it as the stack does, or unset it',
    );
  });

  it('uses the projection built into the image, and refuses a module that would replace it', async () => {
    const builtIn = await loadProjectionModule(counting);

    await expect(workerProjection(undefined, {}, builtIn)).resolves.toBe(builtIn);
    await expect(workerProjection('other.ts', {}, builtIn)).rejects.toThrow(
      /^this worker was built with projection "mirror-counting" .*, which CDCP_WORKER_PROJECTION_MODULE or --projection cannot replace \(received "other.ts"\); unset it, or set projectionEntry on the construct and deploy$/,
    );
  });
});
