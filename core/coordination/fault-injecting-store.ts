import { type Clock, systemClock } from './clock.js';
import { CoordinationStoreError } from './errors.js';
import type { CoordinationStore } from './store.js';

type StoreOperation = keyof CoordinationStore;

/**
 * - `throttle`: the request is refused before it is applied (as after the SDK's retries ran out).
 * - `timeout`: the request is never applied and the caller gets a timeout.
 * - `lost-response`: the request **is** applied, then the caller gets a timeout, as when a connection drops
 *   after DynamoDB wrote the item. The caller cannot tell this from `timeout`.
 * - `latency`: the request goes through after `delayMs`.
 */
type FaultKind = 'throttle' | 'timeout' | 'lost-response' | 'latency';

interface FaultRule {
  readonly kind: FaultKind;
  /** Operations it applies to. @default every operation */
  readonly operations?: readonly StoreOperation[];
  /** How many requests it hits before it is used up. @default 1 */
  readonly times?: number;
  /** Chance (0..1) that a matching request is hit. @default 1 */
  readonly probability?: number;
  /** Extra latency before the request goes through (on the injected clock). @default 0 */
  readonly delayMs?: number;
}

interface InjectedFault {
  readonly operation: StoreOperation;
  readonly kind: FaultKind;
}

const SIMULATED_ERRORS: Record<
  Exclude<FaultKind, 'latency'>,
  { readonly name: string; readonly message: string }
> = {
  throttle: { name: 'ProvisionedThroughputExceededException', message: 'simulated throttling' },
  timeout: { name: 'TimeoutError', message: 'simulated timeout: the request was not applied' },
  'lost-response': { name: 'TimeoutError', message: 'simulated lost response: the request was applied' },
};

/**
 * Wraps a real or in-memory store and fails chosen requests: throttling, timeouts, and responses lost after a
 * successful write. Faults surface as the same retryable {@link CoordinationStoreError} the DynamoDB store
 * throws, so the code under test cannot tell them from real ones.
 *
 * @example
 * ```ts
 * const store = new FaultInjectingStore({ store: new InMemoryCoordinationStore() });
 * store.inject({ kind: 'lost-response', operations: ['grantLease'] });
 * ```
 */
class FaultInjectingStore implements CoordinationStore {
  readonly #store: CoordinationStore;
  readonly #clock: Clock;
  readonly #random: () => number;
  #rules: { rule: FaultRule; remaining: number }[] = [];
  readonly #injected: InjectedFault[] = [];

  public constructor(options: {
    readonly store: CoordinationStore;
    readonly clock?: Clock;
    /** Source of randomness for `probability`. @default Math.random */
    readonly random?: () => number;
  }) {
    this.#store = options.store;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
  }

  /** Adds a rule; rules are tried in the order they were added. */
  public inject(rule: FaultRule): void {
    this.#rules.push({ rule, remaining: rule.times ?? 1 });
  }

  /** Removes every rule. */
  public clear(): void {
    this.#rules = [];
  }

  /** Every fault injected so far, in order. */
  public get injected(): readonly InjectedFault[] {
    return this.#injected;
  }

  public getLease: CoordinationStore['getLease'] = (...a) =>
    this.#call('getLease', () => this.#store.getLease(...a));
  public listLeases: CoordinationStore['listLeases'] = (...a) =>
    this.#call('listLeases', () => this.#store.listLeases(...a));
  public createLease: CoordinationStore['createLease'] = (...a) =>
    this.#call('createLease', () => this.#store.createLease(...a));
  public grantLease: CoordinationStore['grantLease'] = (...a) =>
    this.#call('grantLease', () => this.#store.grantLease(...a));
  public renewLease: CoordinationStore['renewLease'] = (...a) =>
    this.#call('renewLease', () => this.#store.renewLease(...a));
  public releaseLease: CoordinationStore['releaseLease'] = (...a) =>
    this.#call('releaseLease', () => this.#store.releaseLease(...a));
  public handOffLease: CoordinationStore['handOffLease'] = (...a) =>
    this.#call('handOffLease', () => this.#store.handOffLease(...a));
  public requestHandOff: CoordinationStore['requestHandOff'] = (...a) =>
    this.#call('requestHandOff', () => this.#store.requestHandOff(...a));
  public acceptHandOff: CoordinationStore['acceptHandOff'] = (...a) =>
    this.#call('acceptHandOff', () => this.#store.acceptHandOff(...a));
  public setSuccessor: CoordinationStore['setSuccessor'] = (...a) =>
    this.#call('setSuccessor', () => this.#store.setSuccessor(...a));
  public beatMember: CoordinationStore['beatMember'] = (...a) =>
    this.#call('beatMember', () => this.#store.beatMember(...a));
  public readMemberships: CoordinationStore['readMemberships'] = (...a) =>
    this.#call('readMemberships', () => this.#store.readMemberships(...a));
  public removeMember: CoordinationStore['removeMember'] = (...a) =>
    this.#call('removeMember', () => this.#store.removeMember(...a));
  public mailMembers: CoordinationStore['mailMembers'] = (...a) =>
    this.#call('mailMembers', () => this.#store.mailMembers(...a));
  public getInstance: CoordinationStore['getInstance'] = (...a) =>
    this.#call('getInstance', () => this.#store.getInstance(...a));
  public listInstances: CoordinationStore['listInstances'] = (...a) =>
    this.#call('listInstances', () => this.#store.listInstances(...a));
  public registerInstance: CoordinationStore['registerInstance'] = (...a) =>
    this.#call('registerInstance', () => this.#store.registerInstance(...a));
  public heartbeatInstance: CoordinationStore['heartbeatInstance'] = (...a) =>
    this.#call('heartbeatInstance', () => this.#store.heartbeatInstance(...a));
  public deregisterInstance: CoordinationStore['deregisterInstance'] = (...a) =>
    this.#call('deregisterInstance', () => this.#store.deregisterInstance(...a));
  public removeInstance: CoordinationStore['removeInstance'] = (...a) =>
    this.#call('removeInstance', () => this.#store.removeInstance(...a));

  async #call<T>(operation: StoreOperation, send: () => Promise<T>): Promise<T> {
    const rule = this.#match(operation);
    if (rule === undefined) return send();
    if ((rule.delayMs ?? 0) > 0) await this.#clock.sleep(rule.delayMs ?? 0);
    this.#injected.push({ operation, kind: rule.kind });
    if (rule.kind === 'latency') return send();
    if (rule.kind === 'lost-response') await send();
    const simulated = Object.assign(new Error(SIMULATED_ERRORS[rule.kind].message), {
      name: SIMULATED_ERRORS[rule.kind].name,
    });
    throw new CoordinationStoreError(
      `${operation} failed: ${simulated.message}`,
      { operation, key: '(injected)', retryable: true },
      { cause: simulated },
    );
  }

  #match(operation: StoreOperation): FaultRule | undefined {
    for (const entry of this.#rules) {
      if (entry.remaining <= 0) continue;
      if (entry.rule.operations !== undefined && !entry.rule.operations.includes(operation)) continue;
      if (this.#random() >= (entry.rule.probability ?? 1)) continue;
      entry.remaining -= 1;
      return entry.rule;
    }
    return undefined;
  }
}

export type { FaultKind, FaultRule, InjectedFault, StoreOperation };
export { FaultInjectingStore };
