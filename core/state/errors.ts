/** Base error of the state module: an unexpected failure of the state or parked store. */
class StateStoreError extends Error {
  public readonly aggregateId: string | undefined;

  public constructor(message: string, options: ErrorOptions & { aggregateId?: string } = {}) {
    super(message, options);
    this.name = 'StateStoreError';
    this.aggregateId = options.aggregateId;
  }
}

export { StateStoreError };
