import { Duration } from 'aws-cdk-lib';
import { describeReceived, OptionsError } from '../core/errors.js';

/** A value as a person reads it in a message: `Duration.seconds(90)` as `Duration 1 minute 30 seconds`, else as core/ shows it. */
function describeValue(value: unknown): string {
  if (value instanceof Duration) return `Duration ${value.toHumanString()}`;
  const path = (value as { node?: { path?: unknown } } | null | undefined)?.node?.path;
  if (typeof path === 'string') return `the construct ${path}`;
  return describeReceived(value);
}

/**
 * A prop of the CdcProcessor construct that CloudFormation or the runtime would reject or misuse: the options
 * error of core/ (`option` is the prop, `received` its value), its message naming the construct and showing
 * a `Duration` as a person reads it.
 */
class CdcProcessorPropsError extends OptionsError {
  public constructor(prop: string, value: unknown, problem: string) {
    super(prop, value, problem);
    this.name = 'CdcProcessorPropsError';
    this.message = `CdcProcessor: ${prop} ${problem}; received ${describeValue(value)}`;
  }
}

export { CdcProcessorPropsError };
