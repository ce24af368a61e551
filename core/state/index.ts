export type { AggregateItem, PendingFailure, Quarantine } from './aggregate-item.js';
export { StateStoreError } from './errors.js';
export {
  AGGREGATE_PREFIX,
  BAD_INPUT_PREFIX,
  badInputKeys,
  changeKeys,
  type ParkedItem,
  type ParkedRecord,
  recordParkedItem,
} from './parked-item.js';
export { ParkedStore, type ParkedStoreOptions } from './parked-store.js';
export {
  type StateMutation,
  StateStore,
  type StateStoreOptions,
  type StateValue,
  type WriteGuard,
  type WriteOutcome,
} from './state-store.js';
