/** Base error of the producer. */
class ProducerError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ProducerError';
  }
}

/** Records Kinesis refused for a reason retrying cannot fix (for example a record over 1 MiB). */
class RecordsRejectedError extends ProducerError {
  public readonly partitionKeys: readonly string[];

  public constructor(message: string, partitionKeys: readonly string[], options?: ErrorOptions) {
    super(message, options);
    this.name = 'RecordsRejectedError';
    this.partitionKeys = partitionKeys;
  }
}

export { ProducerError, RecordsRejectedError };
