import { join } from 'node:path';
import type { BaseConfigSourceOptions } from '../../core/config/base-source.js';
import type { PublishedConfig } from '../../core/config/publisher.js';
import type { ConfigInput } from '../../core/config/schema.js';
import { ENV } from '../../core/constants.js';
import { FileConfigSource } from './file-config-source.js';
import { LocalConfigStore } from './local-config-store.js';

/** `CDCP_CONFIG_FILE`, else `.cdcp/config.json` in the working folder (beside the runtime file). */
function localConfigPath(cwd = process.cwd()): string {
  return process.env[ENV.CONFIG_FILE] || join(cwd, '.cdcp', 'config.json');
}

interface LocalConfig {
  readonly store: LocalConfigStore;
  /** The run's own view of the store; each worker process opens its own `FileConfigSource` on `store.path`. */
  readonly source: FileConfigSource;
  /** The version the run started with. */
  readonly published: PublishedConfig;
  close(): Promise<void>;
}

/**
 * What a local run does at start: publishes its starting configuration as the store's next version (so every
 * worker starts on the same, newest version, and a restarted run does not inherit a stale one silently) and
 * opens a watched source on it. Write `store.path` into the runtime file as `configFile`, so that
 * `cdcp config set` finds the store.
 *
 * @example
 * ```ts
 * const local = await startLocalConfig({ initial: config, source: { logger } });
 * const handler = createConfigFollowingHandler({ ...deps, configSource: local.source });
 * writeRuntimeFile({ ...info, configFile: local.store.path });
 * ```
 */
async function startLocalConfig(options: {
  readonly initial: ConfigInput;
  /** @default localConfigPath() */
  readonly path?: string;
  readonly description?: string;
  readonly source?: Omit<BaseConfigSourceOptions, 'fallback'> & { readonly pollIntervalMs?: number };
}): Promise<LocalConfig> {
  const store = new LocalConfigStore({ path: options.path ?? localConfigPath() });
  const published = await store.publish(options.initial, { description: options.description ?? 'npm start' });
  const source = await FileConfigSource.open({
    ...options.source,
    path: store.path,
    fallback: published.config,
  });
  return { store, source, published, close: () => source.close() };
}

export type { LocalConfig };
export { localConfigPath, startLocalConfig };
