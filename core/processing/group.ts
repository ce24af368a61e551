import type { PendingChange } from './fold.js';

/**
 * Groups changes by aggregate id, keeping each aggregate's changes in batch (source) order and the
 * aggregates in order of first appearance.
 *
 * @example
 * ```ts
 * for (const [aggregateId, changes] of groupByAggregate(pending)) { ... }
 * ```
 */
function groupByAggregate(changes: readonly PendingChange[]): Map<string, PendingChange[]> {
  const groups = new Map<string, PendingChange[]>();
  for (const item of changes) {
    const group = groups.get(item.change.aggregateId);
    if (group === undefined) groups.set(item.change.aggregateId, [item]);
    else group.push(item);
  }
  return groups;
}

export { groupByAggregate };
