import type { ReasonCode } from './reason-codes.js';

/** Base error of the events module. */
class EventsError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EventsError';
  }
}

/** Characters of a decode error's message kept; input quoted in it never makes it longer. */
const MAX_MESSAGE_CHARS = 1000;

function bounded(message: string): string {
  if (message.length <= MAX_MESSAGE_CHARS) return message;
  return `${message.slice(0, MAX_MESSAGE_CHARS)}… (message cut at ${MAX_MESSAGE_CHARS} of ${message.length} characters)`;
}

/**
 * A record that cannot be turned into a change. It is bad input, not a crash: the consumer parks the record
 * with `code` and goes on (docs/architecture.md contract 6). The message is cut to 1,000 characters, so input
 * quoted in it (a 200 KB LSN, a 500 KB column name) is never echoed whole.
 *
 * @example
 * ```ts
 * throw new DecodeError('MISSING_KEY', 'no key columns for table public.orders');
 * ```
 */
class DecodeError extends EventsError {
  public readonly code: ReasonCode;

  public constructor(code: ReasonCode, message: string, options?: ErrorOptions) {
    super(bounded(message), options);
    this.name = 'DecodeError';
    this.code = code;
  }
}

export { DecodeError, EventsError };
