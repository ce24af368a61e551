import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import {
  BaseConfigSource,
  type BaseConfigSourceOptions,
  type FetchedText,
} from '../../core/config/base-source.js';
import { ConfigSourceError } from '../../core/config/errors.js';
import { messageOf, OptionsError } from '../../core/errors.js';

interface FileConfigSourceOptions extends BaseConfigSourceOptions {
  /** The local config store's file (`LocalConfigStore.path`). */
  readonly path: string;
  /**
   * Re-read the file this often whatever the watcher says: `fs.watch` misses events on some file systems
   * (network and container mounts) and across renames. @default 1_000
   */
  readonly pollIntervalMs?: number;
  /** Use `fs.watch` for changes within milliseconds; off, only the poll sees them. @default true */
  readonly watch?: boolean;
}

/**
 * A worker's view of the local config store: the file is watched (`fs.watch` on its folder, because an atomic
 * publish replaces the file by a rename) and polled as a fallback; every change is validated and applied
 * without restart, and a corrupt or invalid file leaves the worker on its last good version.
 *
 * @example
 * ```ts
 * const source = await FileConfigSource.open({ path: store.path, fallback: startupConfig });
 * source.subscribe((next) => console.error(`config version ${next.version}`));
 * const { config } = await source.refresh();
 * ```
 */
class FileConfigSource extends BaseConfigSource {
  readonly #path: string;
  readonly #pollIntervalMs: number;
  readonly #useWatch: boolean;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reading = false;
  #again = false;
  #closed = false;

  public constructor(options: FileConfigSourceOptions) {
    const pollIntervalMs = options.pollIntervalMs ?? 1_000;
    if (!Number.isFinite(pollIntervalMs) || pollIntervalMs < 10)
      throw new OptionsError('pollIntervalMs', pollIntervalMs, 'must be at least 10 ms');
    super(`file:${options.path}`, pollIntervalMs, options);
    this.#path = options.path;
    this.#pollIntervalMs = pollIntervalMs;
    this.#useWatch = options.watch ?? true;
  }

  /** Reads the file once (the last good config is `fallback` until a good one is read) and starts watching. */
  public static async open(options: FileConfigSourceOptions): Promise<FileConfigSource> {
    const source = new FileConfigSource(options);
    await source.refresh({ force: true });
    source.start();
    return source;
  }

  /** Starts the watcher and the poll; idempotent. */
  public start(): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#changed(), this.#pollIntervalMs);
    this.#timer.unref();
    if (!this.#useWatch) return;
    const name = basename(this.#path);
    try {
      this.#watcher = watch(dirname(this.#path), { persistent: false }, (_event, filename) => {
        // Some platforms do not say which file changed; read then.
        if (filename === null || filename === name) this.#changed();
      });
      this.#watcher.on('error', () => {
        // The folder went away or the platform gave up: the poll carries on.
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch {
      // No watch support here (or no folder yet): the poll carries on.
      this.#watcher = undefined;
    }
  }

  public override async close(): Promise<void> {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await super.close();
  }

  protected async fetchText(): Promise<FetchedText> {
    try {
      return { text: await readFile(this.#path, 'utf8') };
    } catch (cause) {
      throw new ConfigSourceError(
        this.origin,
        `cannot read the local config store ${this.#path}: ${messageOf(cause)}; publish one with \`cdcp config set FILE\``,
        { cause },
      );
    }
  }

  /** A change was signalled: read now, and once more if another signal came during the read. */
  #changed(): void {
    if (this.#closed) return;
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = true;
    void (async () => {
      try {
        do {
          this.#again = false;
          await this.refresh({ force: true });
        } while (this.#again && !this.#closed);
      } finally {
        this.#reading = false;
      }
    })();
  }
}

export type { FileConfigSourceOptions };
export { FileConfigSource };
