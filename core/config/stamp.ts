import type { Config } from './schema.js';

/** The document a publisher stores: the validated config with its version and publication time. */
function stampConfig(config: Config, version: string, publishedAtWallMs: number): Config {
  return { ...config, version, publishedAt: new Date(publishedAtWallMs).toISOString() };
}

/** The numeric part of a published version (`"7"` → 7); 0 for labels publishers did not write. */
function versionNumber(version: string | undefined): number {
  if (version === undefined || !/^\d{1,15}$/.test(version)) return 0;
  return Number(version);
}

export { stampConfig, versionNumber };
