import { StateStoreError, UnstorableError } from './errors.js';
import type { ParkedStorePort } from './parked-store-port.js';
import type { StateStorePort } from './state-store-port.js';

type StateOperation = keyof StateStorePort;
type ParkedOperation = keyof ParkedStorePort;

/**
 * - `throttle`: the request is refused before it is applied (as after the SDK's retries ran out).
 * - `timeout`: the request is never applied and the caller gets a timeout.
 * - `lost-response`: the request **is** applied, then the caller gets a timeout, as when a connection drops
 *   after DynamoDB wrote the item. The caller cannot tell this from `timeout`.
 * - `interleave`: `before` runs just before the request goes through, as a concurrent writer's request
 *   would (how a test makes a write lose its condition).
 * - `refuse`: the request is refused for good, as DynamoDB refuses an item with a `ValidationException`
 *   (an `UnstorableError`, which the DynamoDB stores throw for one).
 */
type StoreFaultKind = 'throttle' | 'timeout' | 'lost-response' | 'interleave' | 'refuse';

interface FaultScope<Operation extends string> {
  /** Operations it applies to. @default every operation */
  readonly operations?: readonly Operation[];
  /** How many requests it hits before it is used up. @default 1 */
  readonly times?: number;
}

type StoreFaultRule<Operation extends string> = FaultScope<Operation> &
  (
    | { readonly kind: Exclude<StoreFaultKind, 'interleave'> }
    | {
        readonly kind: 'interleave';
        /** The other request, run first. */
        readonly before: () => Promise<void>;
      }
  );

interface InjectedStoreFault<Operation extends string> {
  readonly operation: Operation;
  readonly kind: StoreFaultKind;
}

const SIMULATED: Record<
  Exclude<StoreFaultKind, 'interleave' | 'refuse'>,
  { readonly name: string; readonly message: string }
> = {
  throttle: { name: 'ProvisionedThroughputExceededException', message: 'simulated throttling' },
  timeout: { name: 'TimeoutError', message: 'simulated timeout: the request was not applied' },
  'lost-response': { name: 'TimeoutError', message: 'simulated lost response: the request was applied' },
};

/** The rules of one wrapped store and the faults they injected. */
class FaultPlan<Operation extends string> {
  #rules: { rule: StoreFaultRule<Operation>; remaining: number }[] = [];
  readonly injected: InjectedStoreFault<Operation>[] = [];

  public inject(rule: StoreFaultRule<Operation>): void {
    this.#rules.push({ rule, remaining: rule.times ?? 1 });
  }

  public clear(): void {
    this.#rules = [];
  }

  public async call<T>(operation: Operation, send: () => Promise<T>): Promise<T> {
    const rule = this.#match(operation);
    if (rule === undefined) return send();
    this.injected.push({ operation, kind: rule.kind });
    if (rule.kind === 'interleave') {
      await rule.before();
      return send();
    }
    if (rule.kind === 'refuse')
      throw new UnstorableError(
        `${operation} refused: simulated ValidationException: Item size has exceeded the maximum allowed size`,
        {
          path: 'item',
          limit: "DynamoDB's item rules",
          operation,
          cause: Object.assign(new Error('Item size has exceeded the maximum allowed size'), {
            name: 'ValidationException',
          }),
        },
      );
    if (rule.kind === 'lost-response') await send();
    const simulated = Object.assign(new Error(SIMULATED[rule.kind].message), {
      name: SIMULATED[rule.kind].name,
    });
    throw new StateStoreError(`${operation} failed: ${simulated.message}`, { cause: simulated, operation });
  }

  #match(operation: Operation): StoreFaultRule<Operation> | undefined {
    for (const entry of this.#rules) {
      if (entry.remaining <= 0) continue;
      if (entry.rule.operations !== undefined && !entry.rule.operations.includes(operation)) continue;
      entry.remaining -= 1;
      return entry.rule;
    }
    return undefined;
  }
}

/**
 * Wraps a state store and fails or interleaves chosen requests. Faults surface as the same
 * {@link StateStoreError} the DynamoDB store throws, so the code under test cannot tell them from real ones.
 *
 * @example
 * ```ts
 * const stateStore = new FaultInjectingStateStore(new InMemoryStateStore());
 * stateStore.inject({ kind: 'throttle', operations: ['getMany'] });
 * ```
 */
class FaultInjectingStateStore implements StateStorePort {
  readonly #store: StateStorePort;
  readonly #plan = new FaultPlan<StateOperation>();

  public constructor(store: StateStorePort) {
    this.#store = store;
  }

  /** Adds a rule; rules are tried in the order they were added. */
  public inject(rule: StoreFaultRule<StateOperation>): void {
    this.#plan.inject(rule);
  }

  /** Removes every rule. */
  public clear(): void {
    this.#plan.clear();
  }

  /** Every fault injected so far, in order. */
  public get injected(): readonly InjectedStoreFault<StateOperation>[] {
    return this.#plan.injected;
  }

  public get: StateStorePort['get'] = (...a) => this.#plan.call('get', () => this.#store.get(...a));
  public getMany: StateStorePort['getMany'] = (...a) =>
    this.#plan.call('getMany', () => this.#store.getMany(...a));
  public write: StateStorePort['write'] = (...a) => this.#plan.call('write', () => this.#store.write(...a));
  public transact: StateStorePort['transact'] = (...a) =>
    this.#plan.call('transact', () => this.#store.transact(...a));
}

/**
 * Wraps a parked store and fails or interleaves chosen requests, as {@link FaultInjectingStateStore} does.
 *
 * @example
 * ```ts
 * const parkedStore = new FaultInjectingParkedStore(new InMemoryParkedStore());
 * parkedStore.inject({ kind: 'timeout', operations: ['put'] });
 * ```
 */
class FaultInjectingParkedStore implements ParkedStorePort {
  readonly #store: ParkedStorePort;
  readonly #plan = new FaultPlan<ParkedOperation>();

  public constructor(store: ParkedStorePort) {
    this.#store = store;
  }

  /** Adds a rule; rules are tried in the order they were added. */
  public inject(rule: StoreFaultRule<ParkedOperation>): void {
    this.#plan.inject(rule);
  }

  /** Removes every rule. */
  public clear(): void {
    this.#plan.clear();
  }

  /** Every fault injected so far, in order. */
  public get injected(): readonly InjectedStoreFault<ParkedOperation>[] {
    return this.#plan.injected;
  }

  public put: ParkedStorePort['put'] = (...a) => this.#plan.call('put', () => this.#store.put(...a));
  public relabel: ParkedStorePort['relabel'] = (...a) =>
    this.#plan.call('relabel', () => this.#store.relabel(...a));
  public listAggregate: ParkedStorePort['listAggregate'] = (...a) =>
    this.#plan.call('listAggregate', () => this.#store.listAggregate(...a));
  public scanAll: ParkedStorePort['scanAll'] = (...a) =>
    this.#plan.call('scanAll', () => this.#store.scanAll(...a));
  public delete: ParkedStorePort['delete'] = (...a) =>
    this.#plan.call('delete', () => this.#store.delete(...a));
}

export type { InjectedStoreFault, ParkedOperation, StateOperation, StoreFaultKind, StoreFaultRule };
export { FaultInjectingParkedStore, FaultInjectingStateStore };
