import { Duration } from 'aws-cdk-lib';

/** A value as a person reads it in a message: `Duration.seconds(90)` as `Duration 1 minute 30 seconds`, else JSON. */
function describeValue(value: unknown): string {
  if (value instanceof Duration) return `Duration ${value.toHumanString()}`;
  if (value === undefined) return 'undefined';
  const path = (value as { node?: { path?: unknown } } | null)?.node?.path;
  if (typeof path === 'string') return `the construct ${path}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A prop of the CdcProcessor construct that CloudFormation or the runtime would reject or misuse. */
class CdcProcessorPropsError extends Error {
  public override readonly name = 'CdcProcessorPropsError';
  /** The prop that was rejected. */
  public readonly prop: string;
  /** The value received. */
  public readonly value: unknown;

  public constructor(prop: string, value: unknown, problem: string) {
    super(`CdcProcessor: ${prop} ${problem}; received ${describeValue(value)}`);
    this.prop = prop;
    this.value = value;
  }
}

export { CdcProcessorPropsError };
