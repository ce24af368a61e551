/** Base error of the scaling module. */
class ScalingError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ScalingError';
  }
}

/**
 * An action that would break one of Kinesis' resharding rules (or the policy's shard bounds). The planner
 * never produces one; the executor refuses one it is handed; the simulator fails on one.
 *
 * @example
 * ```ts
 * const violations = checkAction(action, view);
 * if (violations.length > 0) throw new ScalingRuleViolationError(action.kind, violations);
 * ```
 */
class ScalingRuleViolationError extends ScalingError {
  public readonly actionKind: string;
  public readonly violations: readonly { readonly rule: string; readonly detail: string }[];

  public constructor(
    actionKind: string,
    violations: readonly { readonly rule: string; readonly detail: string }[],
  ) {
    super(
      `${actionKind} would break ${violations.length === 1 ? 'a rule' : `${violations.length} rules`}: ` +
        violations.map((v) => `${v.rule} (${v.detail})`).join('; '),
    );
    this.name = 'ScalingRuleViolationError';
    this.actionKind = actionKind;
    this.violations = violations;
  }
}

/**
 * An unexpected failure reading the stream, the metrics or the audit log, or calling a control-plane API
 * (not a refused or lost race, which is an outcome). The SDK error is the `cause`.
 */
class ScalingIoError extends ScalingError {
  public readonly operation: string;

  public constructor(operation: string, message: string, options?: ErrorOptions) {
    super(`${operation} failed: ${message}`, options);
    this.name = 'ScalingIoError';
    this.operation = operation;
  }
}

export { ScalingError, ScalingIoError, ScalingRuleViolationError };
