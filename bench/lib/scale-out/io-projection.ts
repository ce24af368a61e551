/**
 * An I/O-bound projection for `npm run bench -- scale-out`, loaded by `cdcp worker` as a projection module: the
 * mirror, plus a wait of `SCALE_OUT_IO_DELAY_MS` (default 20) for each aggregate of each batch, as a projection
 * that calls another service once per aggregate would. A projection's `apply` is synchronous, so such a call can
 * only block the worker's thread (as a synchronous client such as `synckit` does: a worker thread makes the call,
 * the main thread waits on `Atomics.wait`); here `Atomics.wait` alone stands in for it, using no CPU.
 */
import { mirrorProjection, type Projection } from '../../../core/processing/projection.js';

const delayMs = Number(process.env.SCALE_OUT_IO_DELAY_MS ?? 20);
const cell = new Int32Array(new SharedArrayBuffer(4));

const ioBoundProjection: Projection = {
  name: `io-bound-${delayMs}ms`,
  needsPreviousState: false,
  apply: (previous, change) => {
    // A blind projection's fold starts an aggregate without a previous state: its first change in the batch.
    if (previous === undefined) Atomics.wait(cell, 0, 0, delayMs);
    return mirrorProjection.apply(previous, change);
  },
};

export default ioBoundProjection;
