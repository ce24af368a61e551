/**
 * Order lines summed into five hot buckets (`public.order_buckets#<order_id mod 5>`): every shard's lines
 * update the same few aggregates at once. A projection module (default export) for worker processes.
 */
import { lineTotalsInto } from './order-line-totals.js';

/** The bucket aggregate an order's lines add to. */
function bucketOf(orderId: string | number): string {
  return `public.order_buckets#${Number(orderId) % 5}`;
}

export default lineTotalsInto('line-buckets', bucketOf);
export { bucketOf };
