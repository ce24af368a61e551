/**
 * Base error of the state module: an unexpected failure of the state or parked store (not a lost condition,
 * which is a write outcome). The SDK error, when there is one, is the `cause`.
 *
 * @example
 * ```ts
 * try { await store.get(id); }
 * catch (error) { if (error instanceof StateStoreError) logger.error(error.message, { operation: error.operation }); }
 * ```
 */
class StateStoreError extends Error {
  public readonly aggregateId: string | undefined;
  /** The store operation that failed (`get`, `getMany`, `write`, `put`, `listAggregate`, `scanAll`, `delete`). */
  public readonly operation: string | undefined;

  public constructor(
    message: string,
    options: ErrorOptions & { readonly aggregateId?: string; readonly operation?: string } = {},
  ) {
    super(message, options);
    this.name = 'StateStoreError';
    this.aggregateId = options.aggregateId;
    this.operation = options.operation;
  }
}

export { StateStoreError };
