export type { AggregateItem, DerivedValue, PendingFailure, Quarantine } from './aggregate-item.js';
export { boundedText, MAX_STORED_MESSAGE_BYTES } from './bounded-text.js';
export {
  type DerivedField,
  type DerivedUpdate,
  type DerivedWrite,
  derivedWrites,
  MAX_TRANSACTION_ITEMS,
  mergeDerived,
} from './derived-update.js';
export { DerivedUpdateError, isTransientStoreError, StateStoreError, UnstorableError } from './errors.js';
export {
  FaultInjectingParkedStore,
  FaultInjectingStateStore,
  type InjectedStoreFault,
  type ParkedOperation,
  type StateOperation,
  type StoreFaultKind,
  type StoreFaultRule,
} from './fault-injecting-stores.js';
export { InMemoryParkedStore } from './in-memory-parked-store.js';
export { InMemoryStateStore, type InMemoryStateStoreOptions } from './in-memory-state-store.js';
export {
  attributeSize,
  canonicalNumber,
  itemSize,
  MAX_ITEM_BYTES,
  numberProblem,
  numberSize,
} from './item-size.js';
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
export type { ParkedLabel, ParkedStorePort } from './parked-store-port.js';
export { compareStamps, type FieldStamps, type WriterStamp } from './source-marks.js';
export { checkStorable, MAX_VALUE_ITEM_BYTES } from './state-item.js';
export { StateStore, type StateStoreOptions } from './state-store.js';
export {
  marksOfValue,
  type StateMutation,
  type StateStorePort,
  type StateValue,
  type TransactOptions,
  type TransactOutcome,
  type WriteGuard,
  type WriteOutcome,
} from './state-store-port.js';
