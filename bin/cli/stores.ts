import type { Config } from '../../core/config/schema.js';
import { ParkedStore } from '../../core/state/parked-store.js';
import { StateStore } from '../../core/state/state-store.js';
import type { Target } from './target.js';

/** The target's state and parked tables, as the operator commands that replay or discard read and write them. */
function storesOf(target: Target, config: Config): { stateStore: StateStore; parkedStore: ParkedStore } {
  return {
    stateStore: new StateStore({
      client: target.dynamodb,
      tableName: target.names.stateTable,
      tombstoneTtlSeconds: config.processing.tombstoneTtlSeconds,
    }),
    parkedStore: new ParkedStore({ client: target.dynamodb, tableName: target.names.parkedTable }),
  };
}

export { storesOf };
