import type { ReasonCode } from './reason-codes.js';

/** Base error of the events module. */
class EventsError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EventsError';
  }
}

/**
 * A record that cannot be turned into a change. It is bad input, not a crash: the consumer parks the record
 * with `code` and goes on (docs/architecture.md contract 6).
 *
 * @example
 * ```ts
 * throw new DecodeError('MISSING_KEY', 'no key columns for table public.orders');
 * ```
 */
class DecodeError extends EventsError {
  public readonly code: ReasonCode;

  public constructor(code: ReasonCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DecodeError';
    this.code = code;
  }
}

export { DecodeError, EventsError };
