import { AppConfigProvider } from '@aws-lambda-powertools/parameters/appconfig';
import type { AppConfigDataClient } from '@aws-sdk/client-appconfigdata';
import { messageOf, OptionsError } from '../errors.js';
import { requireAppConfigIds } from './appconfig-ids.js';
import { BaseConfigSource, type BaseConfigSourceOptions, type FetchedText } from './base-source.js';
import { ConfigSourceError } from './errors.js';

/** AppConfigData refuses a RequiredMinimumPollIntervalInSeconds below 15. */
const MIN_POLL_INTERVAL_SECONDS = 15;

interface AppConfigSourceOptions extends BaseConfigSourceOptions {
  /** The AppConfigData client (injected; the composition root builds it). */
  readonly client: AppConfigDataClient;
  /** Application id or name. */
  readonly applicationId: string;
  /** Environment id or name. */
  readonly environmentId: string;
  /** Configuration profile id or name. */
  readonly profileId: string;
  /**
   * The session's RequiredMinimumPollIntervalInSeconds, and the provider's cache age: AppConfigData answers
   * a poll sooner than the session's interval with an error, so the cache must live at least that long.
   * 15..3600. @default 45
   */
  readonly pollIntervalSeconds?: number;
}

/**
 * Configuration from AWS AppConfig through Powertools parameters (`AppConfigProvider` over AppConfigData).
 * The provider keeps the session token and returns the last configuration it received when a poll brings no
 * change; this source validates what it returns and keeps the last good config on failure.
 *
 * @example
 * ```ts
 * const source = new AppConfigSource({
 *   client: new AppConfigDataClient({}),
 *   applicationId: 'cdcp', environmentId: 'prod', profileId: 'config',
 *   logger, metrics,
 * });
 * const { config, version } = await source.refresh();
 * ```
 */
class AppConfigSource extends BaseConfigSource {
  readonly #provider: AppConfigProvider;
  readonly #profileId: string;
  readonly #pollIntervalSeconds: number;

  public constructor(options: AppConfigSourceOptions) {
    const pollIntervalSeconds = options.pollIntervalSeconds ?? 45;
    if (
      !Number.isInteger(pollIntervalSeconds) ||
      pollIntervalSeconds < MIN_POLL_INTERVAL_SECONDS ||
      pollIntervalSeconds > 3600
    )
      throw new OptionsError(
        'pollIntervalSeconds',
        pollIntervalSeconds,
        `must be an integer from ${MIN_POLL_INTERVAL_SECONDS} (AppConfigData's minimum poll interval) to 3600`,
      );
    requireAppConfigIds(options, ['applicationId', 'environmentId', 'profileId']);
    super(
      `appconfig:${options.applicationId}/${options.environmentId}/${options.profileId}`,
      pollIntervalSeconds * 1000,
      options,
    );
    this.#provider = new AppConfigProvider({
      application: options.applicationId,
      environment: options.environmentId,
      awsSdkV3Client: options.client,
    });
    this.#profileId = options.profileId;
    this.#pollIntervalSeconds = pollIntervalSeconds;
  }

  protected async fetchText(): Promise<FetchedText> {
    let value: unknown;
    try {
      value = await this.#provider.get(this.#profileId, {
        maxAge: this.#pollIntervalSeconds,
        sdkOptions: { RequiredMinimumPollIntervalInSeconds: this.#pollIntervalSeconds },
      });
    } catch (cause) {
      throw new ConfigSourceError(
        this.origin,
        `AppConfigData did not answer for ${this.origin}: ${messageOf(cause)}`,
        { cause },
      );
    }
    if (value === undefined || (value instanceof Uint8Array && value.length === 0))
      throw new ConfigSourceError(
        this.origin,
        `AppConfig returned no configuration for ${this.origin}; deploy one with \`cdcp config set FILE\``,
      );
    return { text: value instanceof Uint8Array ? new TextDecoder().decode(value) : String(value) };
  }
}

export type { AppConfigSourceOptions };
export { AppConfigSource };
