/**
 * Which {@link ConfigSource} a function reads, decided from its environment (composition-root code: the only
 * place that reads these variables).
 */

import { AppConfigDataClient } from '@aws-sdk/client-appconfigdata';
import { AppConfigAgentSource } from '../../core/config/appconfig-agent-source.js';
import { AppConfigSource } from '../../core/config/appconfig-source.js';
import type { ConfigMetricsSink, ConfigSourceLogger } from '../../core/config/base-source.js';
import { defaultConfig } from '../../core/config/schema.js';
import type { ConfigSource } from '../../core/config/source.js';
import { StaticConfigSource } from '../../core/config/static-source.js';
import { parseConfigText } from '../../core/config/violations.js';
import { ENV } from '../../core/constants.js';

interface ConfigSourceFromEnvOptions {
  readonly logger?: ConfigSourceLogger;
  readonly metrics?: ConfigMetricsSink;
  /** @default a client with the function's region and credentials */
  readonly appConfigData?: AppConfigDataClient;
}

/**
 * - `CDCP_APPCONFIG_{APPLICATION,ENVIRONMENT,PROFILE}_ID` set and `CDCP_APPCONFIG_AGENT_URL` set: the AppConfig
 *   agent (Lambda extension) at that URL.
 * - The ids set, no agent: AppConfigData through Powertools, polling every `CDCP_APPCONFIG_POLL_INTERVAL_SECONDS`
 *   (default 45).
 * - No ids: a fixed config.
 *
 * `CDCP_CONFIG_JSON` (or the schema defaults) is the config in force until AppConfig first answers, so a cold
 * start during an AppConfig outage runs with the stack's configuration instead of failing.
 */
function configSourceFromEnv(env: NodeJS.ProcessEnv, options: ConfigSourceFromEnvOptions = {}): ConfigSource {
  const inline = env[ENV.CONFIG_JSON];
  const fallback =
    inline === undefined || inline === '' ? defaultConfig() : parseConfigText(inline, `${ENV.CONFIG_JSON}`);
  const applicationId = env[ENV.APPCONFIG_APPLICATION_ID];
  const environmentId = env[ENV.APPCONFIG_ENVIRONMENT_ID];
  const profileId = env[ENV.APPCONFIG_PROFILE_ID];
  if (!applicationId || !environmentId || !profileId)
    return new StaticConfigSource(fallback, { origin: inline ? ENV.CONFIG_JSON : 'defaults' });
  const common = { applicationId, environmentId, profileId, fallback, ...options };
  const agentUrl = env[ENV.APPCONFIG_AGENT_URL];
  if (agentUrl) return new AppConfigAgentSource({ ...common, agentUrl });
  const poll = env[ENV.APPCONFIG_POLL_INTERVAL_SECONDS];
  return new AppConfigSource({
    ...common,
    client: options.appConfigData ?? new AppConfigDataClient({}),
    pollIntervalSeconds: poll ? Number(poll) : undefined,
  });
}

export type { ConfigSourceFromEnvOptions };
export { configSourceFromEnv };
