import type { Config } from '../config/schema.js';
import type { ConflictPolicy, ConflictStrategyName } from './conflicts.js';
import { ProcessingError } from './errors.js';
import type { Projection } from './projection.js';

/**
 * The conflict policy of every table, from the configuration (`conflicts.*`, `tables.<table>.conflictStrategy`
 * and `sourcePriority`) and the projection (its `resolveConflict`, for `custom`). Checked at once, so that a
 * configuration the projection cannot run fails where the consumer is built, naming the table and the fix:
 * `custom` needs the projection to export `resolveConflict`; `field-merge` needs a projection that maps one
 * change alone (`needsPreviousState: false`), since each change's fields must not depend on the order.
 *
 * @example
 * ```ts
 * const policyOf = conflictPolicies(config, projection);
 * policyOf('public.orders'); // { strategy: 'single-source' }
 * ```
 */
function conflictPolicies(
  config: Pick<Config, 'conflicts' | 'tables'>,
  projection: Projection,
): (table: string) => ConflictPolicy {
  const policyOf = (settings: Config['tables'][string] | undefined, where: string): ConflictPolicy => {
    const configured = settings?.conflictStrategy ?? config.conflicts.strategy;
    const strategy: ConflictStrategyName = configured === 'source-position' ? 'single-source' : configured;
    if (strategy === 'custom' && typeof projection.resolveConflict !== 'function')
      throw new ProcessingError(
        `${where} uses conflict strategy custom, but projection ${projection.name} exports no resolveConflict function; export resolveConflict(input) from the projection or choose another strategy`,
      );
    if (strategy === 'field-merge' && projection.needsPreviousState)
      throw new ProcessingError(
        `${where} uses conflict strategy field-merge, but projection ${projection.name} reads the previous state (needsPreviousState: true), so its fields would depend on delivery order; use last-writer-wins or source-priority, or a projection that maps one change alone`,
      );
    return {
      strategy,
      sourcePriority: settings?.sourcePriority ?? config.conflicts.sourcePriority ?? [],
      ...(strategy === 'custom' ? { resolve: (input) => projection.resolveConflict!(input) } : {}),
    };
  };
  const fallback = policyOf(undefined, 'conflicts.strategy');
  const byTable = new Map(
    Object.entries(config.tables).map(([table, settings]) => [
      table,
      policyOf(settings, `tables["${table}"]`),
    ]),
  );
  return (table) => byTable.get(table) ?? fallback;
}

export { conflictPolicies };
