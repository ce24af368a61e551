/** Base error of the processing module. */
class ProcessingError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ProcessingError';
  }
}

/**
 * A projection could not fold a change. It counts as an attempt; after the configured number of attempts the
 * change is parked with this message and its aggregate quarantined (docs/architecture.md contract 5).
 */
class ProjectionError extends ProcessingError {
  public readonly code: string;

  public constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ProjectionError';
    this.code = code;
  }
}

export { ProcessingError, ProjectionError };
