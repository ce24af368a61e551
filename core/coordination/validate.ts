import { OptionsError } from '../errors.js';

/** A finite number of milliseconds greater than zero (or zero when `allowZero`). */
function durationMs(option: string, value: number, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0))
    throw new OptionsError(
      option,
      value,
      `must be a finite number of milliseconds ${allowZero ? 'of at least 0' : 'above 0'}`,
    );
  return value;
}

/** A positive whole number. */
function positiveInteger(option: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new OptionsError(option, value, 'must be a whole number of at least 1');
  return value;
}

/**
 * A heartbeat period that keeps a lease alive through one lost heartbeat: at most half the lease duration
 * (the DynamoDB Lock Client's rule).
 */
function heartbeatWithinLease(
  heartbeatPeriodMs: number,
  leaseDurationMs: number,
  leaseOption = 'leaseDurationMs',
): void {
  if (heartbeatPeriodMs > leaseDurationMs / 2)
    throw new OptionsError(
      'heartbeatPeriodMs',
      heartbeatPeriodMs,
      `must be at most half of ${leaseOption} (${leaseDurationMs}), so that one lost heartbeat does not lose the lease; ` +
        `lower heartbeatPeriodMs or raise ${leaseOption}`,
    );
}

/** A non-empty identifier (owner, candidate, instance, lock name, role). */
function identifier(option: string, value: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 512)
    throw new OptionsError(option, value, 'must be a non-empty string of at most 512 characters');
  return value;
}

export { durationMs, heartbeatWithinLease, identifier, positiveInteger };
