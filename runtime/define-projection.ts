import type { Projection } from '../core/processing/projection.js';
import { projectionFromModule } from '../projection-module/projection-export.js';

/**
 * Types and checks a projection where it is written: a module's `export default defineProjection({...})`
 * fails at import, with what is wrong, rather than at the first change.
 *
 * @example
 * ```ts
 * export default defineProjection({
 *   name: 'order-totals',
 *   needsPreviousState: true,
 *   apply: (previous, change) => ({ deleted: false, state: { total: change.after?.total ?? null } }),
 * });
 * ```
 */
function defineProjection<P extends Projection>(projection: P): P {
  return projectionFromModule({ default: projection }, `the projection "${String(projection?.name)}"`) as P;
}

export { defineProjection };
