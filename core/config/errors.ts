import type { ConfigViolation } from './violations.js';

/** Base error of the config module. */
class ConfigError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/**
 * A configuration document was refused: not JSON (`violations` empty, `cause` the parse error), or JSON that
 * breaks the schema (one violation per problem, each with its path, the value received and what was expected).
 */
class ConfigValidationError extends ConfigError {
  public readonly violations: readonly ConfigViolation[];

  public constructor(message: string, violations: readonly ConfigViolation[], options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigValidationError';
    this.violations = violations;
  }
}

/** A config source could not reach its store (AppConfig, the agent, a file); the last good config stays. */
class ConfigSourceError extends ConfigError {
  public readonly source: string;

  public constructor(source: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigSourceError';
    this.source = source;
  }
}

/** A publisher could not publish (store unreachable, a deployment in progress, a concurrent publisher). */
class ConfigPublishError extends ConfigError {
  public readonly target: string;

  public constructor(target: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigPublishError';
    this.target = target;
  }
}

export { ConfigError, ConfigPublishError, ConfigSourceError, ConfigValidationError };
