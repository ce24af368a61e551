import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConfigPublishError } from '../../core/config/errors.js';
import type { ConfigPublisher, PublishedConfig, PublishOptions } from '../../core/config/publisher.js';
import type { Config } from '../../core/config/schema.js';
import { stampConfig, versionNumber } from '../../core/config/stamp.js';
import { parseConfigDocument, parseConfigText } from '../../core/config/violations.js';
import { systemClock } from '../../core/coordination/clock.js';
import { messageOf } from '../../core/errors.js';

interface LocalConfigStoreOptions {
  /** The JSON file every local worker watches. */
  readonly path: string;
  /** How long `publish` waits for another publisher's lock. @default 10_000 */
  readonly lockTimeoutMs?: number;
  /** A lock file older than this belongs to a publisher that died; it is broken. @default 30_000 */
  readonly staleLockMs?: number;
  /** @default Date.now */
  readonly wallNow?: () => number;
}

/** One line of the store's history file (`<path>.history.jsonl`). */
interface LocalConfigHistoryEntry {
  readonly version: string;
  readonly publishedAt: string;
  readonly description?: string;
}

/**
 * The local configuration store (AppConfig does not run on a laptop): one JSON file that every local worker
 * watches (`FileConfigSource`), holding the validated config stamped with its version and publication time.
 *
 * - A publish validates first, so an invalid document never reaches the file.
 * - The write is atomic (temporary file in the same folder, then rename): a reader sees the old or the new
 *   document, never half of one.
 * - Versions grow by one per publish, counted from the history file (`<path>.history.jsonl`), so a store whose
 *   document was corrupted by hand still gets a fresh, higher version. Publishers take a lock file
 *   (`<path>.lock`), so two `cdcp config set` at once get two versions.
 *
 * @example
 * ```ts
 * const store = new LocalConfigStore({ path: '.cdcp/config.json' });
 * await store.publish({ tables: { 'public.orders': { paused: true } } });
 * ```
 */
class LocalConfigStore implements ConfigPublisher {
  readonly #path: string;
  readonly #lockTimeoutMs: number;
  readonly #staleLockMs: number;
  readonly #wallNow: () => number;

  public constructor(options: LocalConfigStoreOptions) {
    this.#path = options.path;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
    this.#staleLockMs = options.staleLockMs ?? 30_000;
    this.#wallNow = options.wallNow ?? Date.now;
  }

  public get path(): string {
    return this.#path;
  }

  public get target(): string {
    return `file:${this.#path}`;
  }

  public async publish(document: unknown, options: PublishOptions = {}): Promise<PublishedConfig> {
    const config = parseConfigDocument(document);
    await mkdir(dirname(this.#path), { recursive: true });
    const unlock = await this.#lock();
    try {
      const version = String((await this.#latestVersionNumber()) + 1);
      const publishedAtWallMs = this.#wallNow();
      const stamped = stampConfig(config, version, publishedAtWallMs);
      await this.#writeAtomically(`${JSON.stringify(stamped, null, 2)}\n`);
      const entry: LocalConfigHistoryEntry = {
        version,
        publishedAt: stamped.publishedAt!,
        ...(options.description === undefined ? {} : { description: options.description }),
      };
      await appendFile(this.#historyPath(), `${JSON.stringify(entry)}\n`);
      return { version, publishedAtWallMs, config: stamped, target: this.target };
    } finally {
      await unlock();
    }
  }

  /**
   * The stored config. `undefined` when nothing was published; throws `ConfigValidationError` when the file
   * is corrupt or invalid (workers then stay on their last good version).
   */
  public async current(): Promise<PublishedConfig | undefined> {
    const text = await this.readText();
    if (text === undefined) return undefined;
    const config = parseConfigText(text, `the local config store ${this.#path}`);
    const published = config.publishedAt === undefined ? Number.NaN : Date.parse(config.publishedAt);
    return {
      version: config.version,
      publishedAtWallMs: Number.isNaN(published) ? (await stat(this.#path)).mtimeMs : published,
      config,
      target: this.target,
    };
  }

  /** The file's text; `undefined` when it does not exist. */
  public async readText(): Promise<string | undefined> {
    try {
      return await readFile(this.#path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Every publish so far, oldest first (lines that do not parse are skipped). */
  public async history(): Promise<LocalConfigHistoryEntry[]> {
    let text: string;
    try {
      text = await readFile(this.#historyPath(), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return text.split('\n').flatMap((line) => {
      try {
        const entry = JSON.parse(line) as LocalConfigHistoryEntry;
        return typeof entry.version === 'string' ? [entry] : [];
      } catch {
        return [];
      }
    });
  }

  async #latestVersionNumber(): Promise<number> {
    let latest = 0;
    for (const entry of await this.history()) latest = Math.max(latest, versionNumber(entry.version));
    const text = await this.readText();
    if (text !== undefined)
      try {
        latest = Math.max(latest, versionNumber((JSON.parse(text) as Partial<Config>).version));
      } catch {
        // A corrupt document: the history still counts.
      }
    return latest;
  }

  async #writeAtomically(text: string): Promise<void> {
    // Same folder as the target, so the rename is atomic (one file system).
    const temporary = join(dirname(this.#path), `.${basename(this.#path)}.${randomUUID()}.tmp`);
    try {
      const handle = await open(temporary, 'w');
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, this.#path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw new ConfigPublishError(
        this.target,
        `could not write the local config store ${this.#path}: ${messageOf(error)}; check the folder exists and is writable`,
        { cause: error },
      );
    }
  }

  async #lock(): Promise<() => Promise<void>> {
    const lockPath = `${this.#path}.lock`;
    const deadline = Date.now() + this.#lockTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await writeFile(lockPath, `${process.pid}\n`, { flag: 'wx' });
        return () => rm(lockPath, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      if (await this.#lockIsStale(lockPath)) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new ConfigPublishError(
          this.target,
          `another publisher holds ${lockPath} (waited ${this.#lockTimeoutMs} ms); try again, or remove the file if no \`cdcp config set\` is running`,
        );
      await systemClock.sleep(Math.min(200, 10 * 2 ** Math.min(attempt, 4)));
    }
  }

  async #lockIsStale(lockPath: string): Promise<boolean> {
    try {
      const [info, text] = await Promise.all([stat(lockPath), readFile(lockPath, 'utf8')]);
      if (Date.now() - info.mtimeMs > this.#staleLockMs) return true;
      const pid = Number(text.trim());
      if (!Number.isInteger(pid) || pid <= 0) return false;
      try {
        process.kill(pid, 0);
        return false;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'ESRCH';
      }
    } catch {
      return false;
    }
  }

  #historyPath(): string {
    return `${this.#path}.history.jsonl`;
  }
}

export type { LocalConfigHistoryEntry, LocalConfigStoreOptions };
export { LocalConfigStore };
