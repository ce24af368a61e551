import { METRICS } from '../constants.js';
import { type Clock, systemClock } from '../coordination/clock.js';
import { messageOf, OptionsError } from '../errors.js';
import { ConfigValidationError } from './errors.js';
import { type Config, defaultConfig } from './schema.js';
import type {
  ConfigListener,
  ConfigRejection,
  ConfigSnapshot,
  ConfigSource,
  RefreshOptions,
} from './source.js';
import { parseConfigText } from './violations.js';

/** The subset of a logger a source uses; Powertools Logger fits. */
interface ConfigSourceLogger {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
}

/** The subset of a metrics client a source uses; Powertools Metrics fits. */
interface ConfigMetricsSink {
  addMetric(name: string, unit: 'Count' | 'Milliseconds', value: number): void;
}

interface BaseConfigSourceOptions {
  /** The configuration in force until the first good fetch (and while none succeeds). @default defaultConfig() */
  readonly fallback?: Config;
  readonly logger?: ConfigSourceLogger;
  /** Receives `ConfigFetchFailures`, `ConfigInvalidKeptLastGood`, `ConfigApplyLatency`, `ConfigVersionAge`. */
  readonly metrics?: ConfigMetricsSink;
  /** Called for every refused fetch, after it is logged and counted. */
  readonly onRejected?: (rejection: ConfigRejection) => void;
  /** @default systemClock */
  readonly clock?: Pick<Clock, 'now' | 'wallNow'>;
}

/** What an adapter fetched: the document's text, as stored. */
interface FetchedText {
  readonly text: string;
}

/**
 * The logic every {@link ConfigSource} shares; adapters only fetch text (Powertools' base-class pattern).
 *
 * - Fetches at most every `minFetchIntervalMs` (also after a failure, so an unreachable store is not
 *   hammered), one fetch at a time.
 * - Validates with the one schema; a valid, different content becomes the configuration in force and
 *   listeners are called; anything else keeps the last good one, logged, counted and kept in `lastRejection`.
 * - The same refused content is logged and counted once, not on every poll; each failed fetch counts, and
 *   is logged when its reason differs from the previous failure's.
 */
abstract class BaseConfigSource implements ConfigSource {
  readonly #origin: string;
  readonly #minFetchIntervalMs: number;
  readonly #logger: ConfigSourceLogger | undefined;
  readonly #metrics: ConfigMetricsSink | undefined;
  readonly #onRejected: ((rejection: ConfigRejection) => void) | undefined;
  protected readonly clock: Pick<Clock, 'now' | 'wallNow'>;
  readonly #listeners = new Set<ConfigListener>();
  #current: ConfigSnapshot;
  #currentText: string | undefined;
  #rejectedText: string | undefined;
  #lastRejection: ConfigRejection | undefined;
  #nextFetchAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<ConfigSnapshot> | undefined;

  protected constructor(origin: string, minFetchIntervalMs: number, options: BaseConfigSourceOptions) {
    if (!Number.isFinite(minFetchIntervalMs) || minFetchIntervalMs < 0)
      throw new OptionsError('minFetchIntervalMs', minFetchIntervalMs, 'must be a duration of 0 ms or more');
    this.#origin = origin;
    this.#minFetchIntervalMs = minFetchIntervalMs;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#onRejected = options.onRejected;
    this.clock = options.clock ?? systemClock;
    const fallback = options.fallback ?? defaultConfig();
    this.#current = this.#snapshot(fallback, 'fallback');
  }

  /** `appconfig:…`, `file:…`: names this source in logs and snapshots. */
  public get origin(): string {
    return this.#origin;
  }

  public current(): ConfigSnapshot {
    return this.#current;
  }

  public get lastRejection(): ConfigRejection | undefined {
    return this.#lastRejection;
  }

  public refresh(options: RefreshOptions = {}): Promise<ConfigSnapshot> {
    if (this.#inflight !== undefined) return this.#inflight;
    if (options.force !== true && this.clock.now() < this.#nextFetchAt) {
      this.#reportAge();
      return Promise.resolve(this.#current);
    }
    this.#inflight = this.#fetchAndApply().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  public subscribe(listener: ConfigListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  public async close(): Promise<void> {
    this.#listeners.clear();
  }

  /** Fetches the stored document's text; throws when the store cannot be read (counted as unreachable). */
  protected abstract fetchText(): Promise<FetchedText>;

  async #fetchAndApply(): Promise<ConfigSnapshot> {
    let fetched: FetchedText;
    try {
      fetched = await this.fetchText();
    } catch (error) {
      this.#nextFetchAt = this.clock.now() + this.#minFetchIntervalMs;
      this.#reject('unreachable', messageOf(error), [], undefined);
      this.#reportAge();
      return this.#current;
    }
    this.#nextFetchAt = this.clock.now() + this.#minFetchIntervalMs;
    this.#apply(fetched.text);
    this.#reportAge();
    return this.#current;
  }

  #apply(text: string): void {
    if (text === this.#currentText) {
      this.#lastRejection = undefined;
      this.#rejectedText = undefined;
      return;
    }
    if (text === this.#rejectedText) return;
    let config: Config;
    try {
      config = parseConfigText(text, `the configuration from ${this.#origin}`);
    } catch (error) {
      const validation = error instanceof ConfigValidationError ? error : undefined;
      const kind = validation !== undefined && validation.violations.length > 0 ? 'invalid' : 'corrupt';
      this.#reject(kind, messageOf(error), validation?.violations ?? [], text);
      return;
    }
    const previous = this.#current;
    this.#current = this.#snapshot(config, this.#origin);
    this.#currentText = text;
    this.#rejectedText = undefined;
    this.#lastRejection = undefined;
    const latency =
      this.#current.publishedAtWallMs === undefined
        ? undefined
        : Math.max(0, this.#current.appliedAtWallMs - this.#current.publishedAtWallMs);
    if (latency !== undefined) this.#metrics?.addMetric(METRICS.configApplyLatency, 'Milliseconds', latency);
    this.#logger?.info('configuration applied', {
      version: this.#current.version,
      previousVersion: previous.version,
      origin: this.#origin,
      publishedToAppliedMs: latency,
    });
    for (const listener of this.#listeners) {
      try {
        listener(this.#current, previous);
      } catch (error) {
        this.#logger?.warn('a configuration listener failed', { error, version: this.#current.version });
      }
    }
  }

  #reject(
    kind: ConfigRejection['kind'],
    message: string,
    violations: ConfigRejection['violations'],
    text: string | undefined,
  ): void {
    const rejection: ConfigRejection = {
      kind,
      message,
      violations,
      keptVersion: this.#current.version,
      atWallMs: this.clock.wallNow(),
    };
    // A store that stays unreachable fails every poll: count each failure, but log only a new reason.
    const repeated =
      kind === 'unreachable' &&
      this.#lastRejection?.kind === 'unreachable' &&
      this.#lastRejection.message === message;
    this.#lastRejection = rejection;
    if (text !== undefined) this.#rejectedText = text;
    this.#metrics?.addMetric(
      kind === 'unreachable' ? METRICS.configFetchFailures : METRICS.configInvalid,
      'Count',
      1,
    );
    if (!repeated)
      this.#logger?.warn(
        `configuration ${kind === 'unreachable' ? 'fetch failed' : 'refused'}; keeping version ${rejection.keptVersion}`,
        {
          kind,
          reason: message,
          origin: this.#origin,
          violations: violations.map((v) => v.message),
        },
      );
    try {
      this.#onRejected?.(rejection);
    } catch (error) {
      this.#logger?.warn('onRejected failed', { error });
    }
  }

  #reportAge(): void {
    const published = this.#current.publishedAtWallMs;
    if (published !== undefined && this.#metrics !== undefined)
      this.#metrics.addMetric(
        METRICS.configVersionAge,
        'Milliseconds',
        Math.max(0, this.clock.wallNow() - published),
      );
  }

  #snapshot(config: Config, origin: string): ConfigSnapshot {
    const published = config.publishedAt === undefined ? Number.NaN : Date.parse(config.publishedAt);
    return {
      config,
      version: config.version,
      origin,
      appliedAtWallMs: this.clock.wallNow(),
      publishedAtWallMs: Number.isNaN(published) ? undefined : published,
    };
  }
}

export type { BaseConfigSourceOptions, ConfigMetricsSink, ConfigSourceLogger, FetchedText };
export { BaseConfigSource };
