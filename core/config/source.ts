import type { Config } from './schema.js';
import type { ConfigViolation } from './violations.js';

/** The configuration an instance runs, and where and when it got it. */
interface ConfigSnapshot {
  readonly config: Config;
  /** `config.version`: what the instance reports in its heartbeat. */
  readonly version: string;
  /** Which source produced it, for example `appconfig:app/env/profile`, `file:/path`, `fallback`. */
  readonly origin: string;
  /** This instance's wall clock when it took this version (for convergence reports). */
  readonly appliedAtWallMs: number;
  /** `config.publishedAt` in epoch milliseconds, when the publisher stamped it. */
  readonly publishedAtWallMs: number | undefined;
}

/**
 * Why a fetched configuration was not taken; the instance stays on `keptVersion`.
 * - `unreachable`: the store did not answer (network, permissions, nothing deployed, file missing).
 * - `corrupt`: the content is not JSON (a torn or hand-broken file, a wrong content type).
 * - `invalid`: JSON that breaks the schema; `violations` lists every problem.
 */
interface ConfigRejection {
  readonly kind: 'unreachable' | 'corrupt' | 'invalid';
  readonly message: string;
  readonly violations: readonly ConfigViolation[];
  readonly keptVersion: string;
  readonly atWallMs: number;
}

type ConfigListener = (next: ConfigSnapshot, previous: ConfigSnapshot) => void;

interface RefreshOptions {
  /** Fetch now even if the source's interval has not passed (the file watcher does this). @default false */
  readonly force?: boolean;
}

/**
 * Where an instance gets its configuration, and follows it without restart (docs/architecture.md §10).
 *
 * Every implementation validates with the one schema and keeps the **last known good** configuration when a
 * fetch fails or the content is invalid: it logs why, counts it in a metric, and records it in
 * {@link lastRejection}. Nothing a source does throws into the caller.
 *
 * @example
 * ```ts
 * const source: ConfigSource = new AppConfigSource({ client, applicationId, environmentId, profileId });
 * const { config } = await source.refresh(); // at the start of each invocation; cheap when not due
 * source.subscribe((next, previous) => logger.info('config changed', { from: previous.version, to: next.version }));
 * ```
 */
interface ConfigSource {
  /** The configuration in force (the last good one); never throws. */
  current(): ConfigSnapshot;
  /**
   * Fetches if the source's interval has passed (or `force`), applies a valid change, and resolves to the
   * configuration in force. Concurrent calls share one fetch. Never rejects.
   */
  refresh(options?: RefreshOptions): Promise<ConfigSnapshot>;
  /** Calls `listener` after every change of version or content; returns the unsubscribe function. */
  subscribe(listener: ConfigListener): () => void;
  /** The last refused fetch, if the source is not on the newest content it saw; `undefined` when healthy. */
  readonly lastRejection: ConfigRejection | undefined;
  /** Stops watchers and timers; `current()` keeps answering. */
  close(): Promise<void>;
}

export type { ConfigListener, ConfigRejection, ConfigSnapshot, ConfigSource, RefreshOptions };
