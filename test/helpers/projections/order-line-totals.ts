/**
 * A projection with derived aggregates, for tests and benchmarks: an order line keeps its row, and adds the
 * change of its amount to its order's `total` and its count to the order's `lines` (derived updates of
 * `public.orders#<order_id>`). Exported as the default too, so worker processes can load it as a module.
 */
import type { ChangeEvent } from '../../../core/events/change.js';
import type { ProjectedState, Projection, ProjectionResult } from '../../../core/processing/projection.js';

const ORDERS = 'public.orders';

function amountOf(state: ProjectedState | undefined): number {
  if (state === undefined || state.deleted || state.state === null) return 0;
  return Number(state.state.amount ?? 0);
}

function applyLine(previous: ProjectedState | undefined, change: ChangeEvent): ProjectionResult {
  const deleted = change.op === 'delete';
  const row = deleted ? (change.before ?? previous?.state ?? null) : change.after;
  const orderId = row?.order_id;
  const next: ProjectedState = deleted
    ? { deleted: true, state: null }
    : { deleted: false, state: change.after };
  if (orderId === undefined || orderId === null) return next;
  const delta = amountOf(next) - amountOf(previous);
  const lines = (next.deleted ? 0 : 1) - (previous === undefined || previous.deleted ? 0 : 1);
  return delta === 0 && lines === 0
    ? next
    : { ...next, derived: [{ aggregateId: `${ORDERS}#${String(orderId)}`, add: { total: delta, lines } }] };
}

const orderLineTotals: Projection = {
  name: 'order-line-totals',
  needsPreviousState: true,
  apply: applyLine,
};

/** The same projection, holding the line's and its order's locks while it applies. */
const lockedOrderLineTotals: Projection = {
  ...orderLineTotals,
  name: 'order-line-totals-locked',
  holdLocks: true,
};

export default orderLineTotals;
export { lockedOrderLineTotals, orderLineTotals };
