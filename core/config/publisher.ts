import type { Config } from './schema.js';

/** One published configuration version. */
interface PublishedConfig {
  /** The version stamped into the document (`config.version`). */
  readonly version: string;
  /** Wall clock of the publisher when it published (`config.publishedAt`). */
  readonly publishedAtWallMs: number;
  readonly config: Config;
  /** Where it went, for example `appconfig:app/env/profile` or `file:/path`. */
  readonly target: string;
  /** AppConfig only: the deployment that carries it to the instances. */
  readonly deployment?: {
    readonly deploymentNumber: number;
    readonly state: string;
    readonly percentageComplete: number | undefined;
    readonly completedAtWallMs: number | undefined;
  };
}

interface PublishOptions {
  /** Stored with the version (AppConfig description; the local store's history). */
  readonly description?: string;
}

/**
 * Publishes configuration versions: `cdcp config set` and the cluster manager (shedding on and off) use the
 * same publisher. Every implementation validates the whole document with the one schema **before** anything
 * is written, so a bad change never reaches an instance, then stamps the next `version` and `publishedAt`.
 *
 * @example
 * ```ts
 * const published = await publisher.publish({ ...current.config, shedding: { ...current.config.shedding, active: true } });
 * logger.info('shedding on', { version: published.version });
 * ```
 */
interface ConfigPublisher {
  /**
   * Validates `document` (throws `ConfigValidationError` listing every violation), stamps the next version and
   * the publication time, and publishes it. Throws `ConfigPublishError` when the store refuses.
   */
  publish(document: unknown, options?: PublishOptions): Promise<PublishedConfig>;
  /** The newest published version, or `undefined` when nothing was published yet. */
  current(): Promise<PublishedConfig | undefined>;
}

export type { ConfigPublisher, PublishedConfig, PublishOptions };
