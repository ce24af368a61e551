/** {@link lockedOrderLineTotals} as a projection module's default export, for worker processes. */
import { lockedOrderLineTotals } from './order-line-totals.js';

export default lockedOrderLineTotals;
