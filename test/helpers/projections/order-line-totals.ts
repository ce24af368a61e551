/**
 * Projections with derived aggregates, for tests and benchmarks: an order line keeps its row, and adds the
 * change of its `quantity` to a derived aggregate's `total` and its presence to its `lines` count. The
 * default derives `public.orders#<order_id>`; {@link lineTotalsInto} derives any aggregate of the order id
 * (a few hot buckets make many shards update one aggregate at once). The default export lets worker
 * processes load it as a projection module.
 */
import type { ChangeEvent } from '../../../core/events/change.js';
import type { ProjectedState, Projection, ProjectionResult } from '../../../core/processing/projection.js';

function quantityOf(state: ProjectedState | undefined): number {
  if (state === undefined || state.deleted || state.state === null) return 0;
  return Number(state.state.quantity ?? 0);
}

/** The projection that adds each line's quantity to the aggregate `target(order_id)`. */
function lineTotalsInto(name: string, target: (orderId: string) => string): Projection {
  return {
    name,
    needsPreviousState: true,
    apply: (previous: ProjectedState | undefined, change: ChangeEvent): ProjectionResult => {
      const deleted = change.op === 'delete';
      const row = deleted ? (change.before ?? previous?.state ?? null) : change.after;
      const orderId = row?.order_id;
      const next: ProjectedState = deleted
        ? { deleted: true, state: null }
        : { deleted: false, state: change.after };
      if (orderId === undefined || orderId === null) return next;
      const total = quantityOf(next) - quantityOf(previous);
      const lines = (next.deleted ? 0 : 1) - (previous === undefined || previous.deleted ? 0 : 1);
      return total === 0 && lines === 0
        ? next
        : { ...next, derived: [{ aggregateId: target(String(orderId)), add: { total, lines } }] };
    },
  };
}

const orderLineTotals = lineTotalsInto('order-line-totals', (orderId) => `public.orders#${orderId}`);

/** The same projection, holding the line's and its order's locks while it applies. */
const lockedOrderLineTotals: Projection = {
  ...orderLineTotals,
  name: 'order-line-totals-locked',
  holdLocks: true,
};

export default orderLineTotals;
export { lineTotalsInto, lockedOrderLineTotals, orderLineTotals };
