/**
 * Maps items with at most `limit` promises in flight; results keep the input order.
 *
 * @example
 * ```ts
 * const sizes = await mapWithConcurrency(files, 8, (f) => stat(f).then((s) => s.size));
 * ```
 */
async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export { mapWithConcurrency };
