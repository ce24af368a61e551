import type { Clock } from '../coordination/clock.js';
import { systemClock } from '../coordination/clock.js';
import type { Config } from './schema.js';
import type { ConfigListener, ConfigSnapshot, ConfigSource } from './source.js';

/**
 * A configuration that never changes: an inline `CDCP_CONFIG_JSON`, a test, a function deployed without
 * AppConfig. It satisfies {@link ConfigSource} so that the consumer has one code path.
 *
 * @example
 * ```ts
 * const source = new StaticConfigSource(parseConfig({ processing: { maxAttempts: 5 } }));
 * ```
 */
class StaticConfigSource implements ConfigSource {
  readonly #snapshot: ConfigSnapshot;

  public constructor(
    config: Config,
    options: { readonly origin?: string; readonly clock?: Pick<Clock, 'wallNow'> } = {},
  ) {
    const published = config.publishedAt === undefined ? Number.NaN : Date.parse(config.publishedAt);
    this.#snapshot = {
      config,
      version: config.version,
      origin: options.origin ?? 'static',
      appliedAtWallMs: (options.clock ?? systemClock).wallNow(),
      publishedAtWallMs: Number.isNaN(published) ? undefined : published,
    };
  }

  public readonly lastRejection = undefined;

  public current(): ConfigSnapshot {
    return this.#snapshot;
  }

  public async refresh(): Promise<ConfigSnapshot> {
    return this.#snapshot;
  }

  public subscribe(_listener: ConfigListener): () => void {
    return () => {};
  }

  public async close(): Promise<void> {}
}

export { StaticConfigSource };
