import { isTransient } from '../coordination/dynamodb-store.js';

/**
 * Base error of the state module: an unexpected failure of the state or parked store (not a lost condition,
 * which is a write outcome). The SDK error, when there is one, is the `cause`.
 *
 * @example
 * ```ts
 * try { await store.get(id); }
 * catch (error) { if (error instanceof StateStoreError) logger.error(error.message, { operation: error.operation }); }
 * ```
 */
class StateStoreError extends Error {
  public readonly aggregateId: string | undefined;
  /** The store operation that failed (`get`, `getMany`, `write`, `put`, `relabel`, `listAggregate`, `scanAll`, `delete`). */
  public readonly operation: string | undefined;

  public constructor(
    message: string,
    options: ErrorOptions & { readonly aggregateId?: string; readonly operation?: string } = {},
  ) {
    super(message, options);
    this.name = 'StateStoreError';
    this.aggregateId = options.aggregateId;
    this.operation = options.operation;
  }
}

/**
 * DynamoDB refuses the item for good, whatever the retries: it is over the 400 KB item limit by DynamoDB's own
 * accounting, holds an empty or too long attribute name, nests deeper than 32 levels, or holds a value
 * DynamoDB cannot store. Found before writing, or from the engine's `ValidationException` (the `cause`). The
 * consumer parks the change at once with the reason `UNSTORABLE` (docs/architecture.md contract 6).
 *
 * @example
 * ```ts
 * throw new UnstorableError('state.d: nests 32 levels, more than 31', { path: 'state.d', limit: '32 levels' });
 * ```
 */
class UnstorableError extends StateStoreError {
  /** Where in the item the problem is (`state.items[3]`), or `item` for the item as a whole. */
  public readonly path: string;
  /** The DynamoDB limit it breaks, in words (`400 KB per item`). */
  public readonly limit: string;

  public constructor(
    message: string,
    options: ErrorOptions & {
      readonly path: string;
      readonly limit: string;
      readonly aggregateId?: string;
      readonly operation?: string;
    },
  ) {
    super(message, options);
    this.name = 'UnstorableError';
    this.path = options.path;
    this.limit = options.limit;
  }
}

/**
 * True for a store failure that may pass if the request is sent again (throttling, timeouts, dropped
 * connections, 5xx): the consumer retries it with backoff, then fails the batch to be redelivered. Never true
 * for an {@link UnstorableError}.
 *
 * @example
 * ```ts
 * if (isTransientStoreError(error)) await clock.sleep(backoffDelayMs(attempt, { baseMs: 50, maxMs: 1_000 }));
 * ```
 */
function isTransientStoreError(error: unknown): boolean {
  return error instanceof StateStoreError && !(error instanceof UnstorableError) && isTransient(error.cause);
}

/**
 * A change's derived updates cannot be written, whatever the retries: they are malformed, or with the change's
 * own write they need more than one DynamoDB transaction holds (`DERIVED_INVALID`); or their transaction kept
 * losing to concurrent ones through every bounded retry (`DERIVED_CONFLICT`). The consumer parks the change
 * with `reason` and quarantines its aggregate behind it.
 *
 * @example
 * ```ts
 * throw new DerivedUpdateError('public.lines#1 derives 120 aggregates, more than 99', 'DERIVED_INVALID');
 * ```
 */
class DerivedUpdateError extends Error {
  public readonly reason: 'DERIVED_INVALID' | 'DERIVED_CONFLICT';

  public constructor(
    message: string,
    reason: 'DERIVED_INVALID' | 'DERIVED_CONFLICT',
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DerivedUpdateError';
    this.reason = reason;
  }
}

export { DerivedUpdateError, isTransientStoreError, StateStoreError, UnstorableError };
