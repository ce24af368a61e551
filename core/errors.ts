/**
 * An option that would make an object unsafe or meaningless, rejected when the object is built. Every module
 * of core/ throws this one error for its options, so a caller catches one class and reads one shape: the
 * message says what is wrong with which option, the value received and what to do.
 *
 * @example
 * ```ts
 * throw new OptionsError('heartbeatPeriodMs', 15_000, 'must be at most half of leaseDurationMs (20000)');
 * // heartbeatPeriodMs must be at most half of leaseDurationMs (20000); received 15000
 * ```
 */
class OptionsError extends Error {
  /** The option that was rejected. */
  public readonly option: string;
  /** The value received. */
  public readonly received: unknown;

  /** `requirement` completes the sentence "`option` ..." and says what a good value is. */
  public constructor(option: string, received: unknown, requirement: string, options?: ErrorOptions) {
    super(`${option} ${requirement}; received ${describeReceived(received)}`, options);
    this.name = 'OptionsError';
    this.option = option;
    this.received = received;
  }
}

/** A value as a person reads it: JSON where JSON is exact, else its own spelling (`NaN`, `12n`, `undefined`). */
function describeReceived(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' || value === undefined) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The message of anything thrown: an `Error`'s message, else the thrown value as text. */
function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export { describeReceived, messageOf, OptionsError };
