/** How many items may be in flight at once: by count, and optionally by a weight such as bytes. */
interface ConcurrencyLimit<T> {
  /** Items in flight at most. */
  readonly limit: number;
  /** Total weight in flight at most; one item is always let in, however heavy. @default no bound */
  readonly budget?: number;
  /** The weight of an item (for example its bytes). @default 0 */
  readonly weight?: (item: T) => number;
}

/**
 * Maps items with at most `limit` promises in flight (and, given a budget, at most `budget` total weight in
 * flight); items start in input order and results keep it.
 *
 * @example
 * ```ts
 * const sizes = await mapWithConcurrency(files, 8, (f) => stat(f).then((s) => s.size));
 * const out = await mapWithConcurrency(groups, { limit: 32, budget: 4 << 20, weight: (g) => g.bytes }, apply);
 * ```
 */
function mapWithConcurrency<T, R>(
  items: readonly T[],
  bound: number | ConcurrencyLimit<T>,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const {
    limit,
    budget = Number.POSITIVE_INFINITY,
    weight,
  } = typeof bound === 'number' ? { limit: bound } : bound;
  const results = new Array<R>(items.length);
  if (items.length === 0) return Promise.resolve(results);
  return new Promise<R[]>((resolve, reject) => {
    let next = 0;
    let running = 0;
    let inFlight = 0;
    let failed = false;
    // Head of line: the next item waits until it fits rather than being overtaken, so items start in order.
    const pump = () => {
      while (!failed && next < items.length && running < limit) {
        const index = next;
        const w = weight?.(items[index]!) ?? 0;
        if (running > 0 && inFlight + w > budget) return;
        next++;
        running++;
        inFlight += w;
        let started: Promise<R>;
        try {
          started = fn(items[index]!, index);
        } catch (error) {
          started = Promise.reject(error);
        }
        started.then(
          (result) => {
            results[index] = result;
            running--;
            inFlight -= w;
            if (next === items.length && running === 0) resolve(results);
            else pump();
          },
          (error: unknown) => {
            failed = true;
            reject(error);
          },
        );
      }
    };
    pump();
  });
}

export type { ConcurrencyLimit };
export { mapWithConcurrency };
