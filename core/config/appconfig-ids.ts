import { OptionsError } from '../errors.js';

/** The AppConfig ids (or names) a source reads, or a publisher deploys to. */
type AppConfigIdName = 'applicationId' | 'environmentId' | 'profileId' | 'deploymentStrategyId';

/**
 * Rejects a missing or blank AppConfig id, naming the option: AppConfig would answer a blank one with a
 * "resource not found" that does not say which of the three ids is wrong.
 *
 * @example
 * ```ts
 * requireAppConfigIds(options, ['applicationId', 'environmentId', 'profileId']);
 * ```
 */
function requireAppConfigIds(
  options: Readonly<Partial<Record<AppConfigIdName, unknown>>>,
  names: readonly AppConfigIdName[],
): void {
  for (const name of names) {
    const value = options[name];
    if (typeof value !== 'string' || value.trim() === '')
      throw new OptionsError(
        name,
        value,
        'must name the AppConfig resource (its id, or its name for a source)',
      );
  }
}

export { type AppConfigIdName, requireAppConfigIds };
