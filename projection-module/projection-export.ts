import type { Projection } from '../core/processing/projection.js';
import { ProjectionModuleError } from './errors.js';

/** The shape of a value, for messages: `an object with keys name, apply`, `a function`, `undefined`. */
function describeExport(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return `an object with keys ${Object.keys(value).join(', ') || '(none)'}`;
  return typeof value === 'function' ? 'a function' : `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * The projection a module exports as its default export, checked: `name` a non-empty string, `apply` a
 * function, `needsPreviousState` a boolean, `resolveConflict` (optional, for the `custom` conflict strategy)
 * a function. Every runtime that loads a projection module (the Lambda bundles,
 * `cdcp`, `npm start`) goes through here, so they accept and refuse the same modules.
 *
 * @example
 * ```ts
 * const projection = projectionFromModule(await import('./projection.mjs'), 'projection.mjs');
 * ```
 */
function projectionFromModule(namespace: Readonly<Record<string, unknown>>, entry: string): Projection {
  if (!Object.hasOwn(namespace, 'default'))
    throw new ProjectionModuleError(
      `the projection module ${entry} has no default export (it exports ${Object.keys(namespace).join(', ') || 'nothing'}); ` +
        'export the projection as default: export default { name, needsPreviousState, apply }',
      { entry },
    );
  const value = namespace.default as Partial<Record<keyof Projection, unknown>> | null | undefined;
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null)
    problems.push(`it is ${describeExport(value)}, not an object`);
  else {
    if (typeof value.name !== 'string' || value.name === '')
      problems.push(`name must be a non-empty string, received ${JSON.stringify(value.name ?? null)}`);
    if (typeof value.apply !== 'function')
      problems.push(
        `apply must be a function (previous, change) => next state, received ${describeExport(value.apply)}`,
      );
    if (value.resolveConflict !== undefined && typeof value.resolveConflict !== 'function')
      problems.push(
        `resolveConflict, when exported, must be a function (input) => 'apply' | 'skip' | { park }, received ${describeExport(value.resolveConflict)}`,
      );
    if (typeof value.needsPreviousState !== 'boolean')
      problems.push(
        `needsPreviousState must be true or false, received ${JSON.stringify(value.needsPreviousState ?? null)}`,
      );
    if (value.holdLocks !== undefined && typeof value.holdLocks !== 'boolean')
      problems.push(`holdLocks must be true, false or absent, received ${JSON.stringify(value.holdLocks)}`);
  }
  if (problems.length > 0)
    throw new ProjectionModuleError(
      `the default export of ${entry} is not a projection: ${problems.join('; ')}`,
      { entry },
    );
  return value as Projection;
}

export { projectionFromModule };
