import type { Config } from './schema.js';

/**
 * Whether a table's changes are deferred now: the table is paused, or shedding is active and the table's
 * priority is one shedding defers (docs/architecture.md §8). Deferred changes are parked in order per aggregate and
 * replayed in order once this turns false.
 *
 * @example
 * ```ts
 * isTableDeferred(config, 'public.audit_log'); // true while that table is paused
 * ```
 */
function isTableDeferred(config: Config, table: string): boolean {
  const settings = Object.hasOwn(config.tables, table) ? config.tables[table] : undefined;
  if (settings?.paused === true) return true;
  if (!config.shedding.active) return false;
  const priority = settings?.priority ?? 'normal';
  return priority !== 'high' && (config.shedding.deferPriorities as readonly string[]).includes(priority);
}

export { isTableDeferred };
