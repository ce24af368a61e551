import { messageOf, OptionsError } from '../errors.js';
import { requireAppConfigIds } from './appconfig-ids.js';
import { BaseConfigSource, type BaseConfigSourceOptions, type FetchedText } from './base-source.js';
import { ConfigSourceError } from './errors.js';

/** The AppConfig agent's default listener (Lambda extension and container agent). */
const DEFAULT_AGENT_URL = 'http://localhost:2772';

interface AppConfigAgentSourceOptions extends BaseConfigSourceOptions {
  readonly applicationId: string;
  readonly environmentId: string;
  readonly profileId: string;
  /** @default 'http://localhost:2772' */
  readonly agentUrl?: string;
  /**
   * Shortest gap between two requests to the agent. The agent polls AppConfig itself
   * (AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS) and answers from memory, so this only bounds local calls.
   * @default 1_000
   */
  readonly minFetchIntervalMs?: number;
  /** Give up on one request after this long. @default 2_000 */
  readonly requestTimeoutMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/**
 * Configuration from the AppConfig agent (the AWS AppConfig Lambda extension) over its local HTTP endpoint:
 * `GET /applications/{app}/environments/{env}/configurations/{profile}`. Cheaper and faster than a session
 * per execution environment when the function has the extension layer.
 *
 * @example
 * ```ts
 * const source = new AppConfigAgentSource({ applicationId: 'cdcp', environmentId: 'prod', profileId: 'config' });
 * const { config } = await source.refresh();
 * ```
 */
class AppConfigAgentSource extends BaseConfigSource {
  readonly #url: string;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  public constructor(options: AppConfigAgentSourceOptions) {
    requireAppConfigIds(options, ['applicationId', 'environmentId', 'profileId']);
    const base = (options.agentUrl ?? DEFAULT_AGENT_URL).replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]+$/.test(base))
      throw new OptionsError(
        'agentUrl',
        options.agentUrl,
        'must be a base URL such as http://localhost:2772',
      );
    const path = [options.applicationId, options.environmentId, options.profileId].map(encodeURIComponent);
    super(`appconfig-agent:${path.join('/')}`, options.minFetchIntervalMs ?? 1_000, options);
    this.#url = `${base}/applications/${path[0]}/environments/${path[1]}/configurations/${path[2]}`;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#timeoutMs = options.requestTimeoutMs ?? 2_000;
  }

  protected async fetchText(): Promise<FetchedText> {
    let response: Response;
    try {
      response = await this.#fetch(this.#url, { signal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (cause) {
      throw new ConfigSourceError(
        this.origin,
        `the AppConfig agent at ${this.#url} did not answer (${messageOf(cause)}); is the extension layer on the function?`,
        { cause },
      );
    }
    const text = await response.text();
    if (!response.ok)
      throw new ConfigSourceError(
        this.origin,
        `the AppConfig agent answered ${response.status} for ${this.#url}: ${text.slice(0, 200)}`,
      );
    return { text };
  }
}

export type { AppConfigAgentSourceOptions };
export { AppConfigAgentSource, DEFAULT_AGENT_URL };
