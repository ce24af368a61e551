import type { ConfigPublisher, PublishedConfig } from '../config/publisher.js';
import { type Config, defaultConfig } from '../config/schema.js';

/** Reads and sets the shedding mode the consumers follow. */
interface SheddingControl {
  isActive(): Promise<boolean>;
  /** Publishes the change; returns the published version, or `undefined` when it was already so. */
  set(active: boolean, reason: string): Promise<string | undefined>;
}

/**
 * {@link SheddingControl} through the configuration publisher (AppConfig in AWS, the watched file locally):
 * it reads the newest published document, flips `shedding.active`, and publishes it as a new version, which
 * the publisher validates with the one schema first. Nothing is published when shedding is already as asked.
 *
 * @example
 * ```ts
 * const shedding = new ConfigSheddingControl({ publisher });
 * await shedding.set(true, 'iterator age 6 min, UpdateShardCount quota used');
 * ```
 */
class ConfigSheddingControl implements SheddingControl {
  readonly #publisher: ConfigPublisher;
  readonly #initial: () => Config;

  public constructor(options: {
    readonly publisher: ConfigPublisher;
    /** The configuration to start from when nothing was published yet. @default defaultConfig */
    readonly initial?: () => Config;
  }) {
    this.#publisher = options.publisher;
    this.#initial = options.initial ?? defaultConfig;
  }

  public async isActive(): Promise<boolean> {
    return (await this.#current()).shedding.active;
  }

  public async set(active: boolean, reason: string): Promise<string | undefined> {
    const config = await this.#current();
    if (config.shedding.active === active) return undefined;
    const published: PublishedConfig = await this.#publisher.publish(
      { ...config, shedding: { ...config.shedding, active } },
      { description: `cluster manager: shedding ${active ? 'on' : 'off'}: ${reason}`.slice(0, 1024) },
    );
    return published.version;
  }

  async #current(): Promise<Config> {
    return (await this.#publisher.current())?.config ?? this.#initial();
  }
}

export type { SheddingControl };
export { ConfigSheddingControl };
