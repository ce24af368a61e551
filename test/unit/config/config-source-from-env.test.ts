import { AppConfigDataClient } from '@aws-sdk/client-appconfigdata';
import { describe, expect, it } from 'vitest';
import {
  AppConfigAgentSource,
  AppConfigSource,
  ConfigValidationError,
  StaticConfigSource,
} from '../../../core/config/index.js';
import { ENV } from '../../../core/constants.js';
import { configSourceFromEnv } from '../../../functions/consumer/config-source.js';

const APPCONFIG = {
  [ENV.APPCONFIG_APPLICATION_ID]: 'app1',
  [ENV.APPCONFIG_ENVIRONMENT_ID]: 'env1',
  [ENV.APPCONFIG_PROFILE_ID]: 'prof1',
};

describe('Function: configSourceFromEnv', () => {
  it('is a fixed config from CDCP_CONFIG_JSON without AppConfig ids', async () => {
    const source = configSourceFromEnv({ [ENV.CONFIG_JSON]: '{"processing":{"maxAttempts":7}}' });

    expect(source).toBeInstanceOf(StaticConfigSource);
    expect((await source.refresh()).config.processing.maxAttempts).toBe(7);
    expect(source.current().origin).toBe(ENV.CONFIG_JSON);
  });

  it('is the schema defaults with nothing set', () => {
    const source = configSourceFromEnv({});

    expect(source.current().config.processing.maxAttempts).toBe(3);
    expect(source.current().origin).toBe('defaults');
  });

  it('reads AppConfigData when the ids are set, with CDCP_CONFIG_JSON as the config until it answers', () => {
    const source = configSourceFromEnv(
      { ...APPCONFIG, [ENV.CONFIG_JSON]: '{"version":"stack"}' },
      { appConfigData: new AppConfigDataClient({ region: 'us-east-1' }) },
    );

    expect(source).toBeInstanceOf(AppConfigSource);
    expect(source.current().version).toBe('stack');
    expect(source.current().origin).toBe('fallback');
  });

  it('reads the agent when its URL is set', () => {
    const source = configSourceFromEnv({ ...APPCONFIG, [ENV.APPCONFIG_AGENT_URL]: 'http://localhost:2772' });

    expect(source).toBeInstanceOf(AppConfigAgentSource);
  });

  it('refuses an invalid CDCP_CONFIG_JSON at start, naming the variable', () => {
    expect(() => configSourceFromEnv({ [ENV.CONFIG_JSON]: '{"processing":{"maxAttempts":0}}' })).toThrow(
      ConfigValidationError,
    );
    expect(() => configSourceFromEnv({ [ENV.CONFIG_JSON]: '{"processing":{"maxAttempts":0}}' })).toThrow(
      /^CDCP_CONFIG_JSON has 1 problem:\n {2}- processing\.maxAttempts: received 0/,
    );
  });

  it('refuses a poll interval AppConfigData would refuse', () => {
    expect(() =>
      configSourceFromEnv(
        { ...APPCONFIG, [ENV.APPCONFIG_POLL_INTERVAL_SECONDS]: '5' },
        { appConfigData: new AppConfigDataClient({ region: 'us-east-1' }) },
      ),
    ).toThrow(/pollIntervalSeconds must be an integer from 15/);
  });
});
