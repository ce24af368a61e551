/**
 * A projection module as a team writes one (plain JavaScript, default export): it counts the changes applied to
 * each aggregate and keeps the latest `status`, so a test can tell its state from the mirror projection's and see
 * a change applied twice.
 */
import { defineProjection } from 'cdc-event-processor';
import { nextCount } from './count.mjs';

export default defineProjection({
  name: 'change-count',
  needsPreviousState: true,
  apply: (previous, change) =>
    change.op === 'delete'
      ? { deleted: true, state: null }
      : {
          deleted: false,
          state: { changes: nextCount(previous), status: change.after?.status ?? null },
        },
});
