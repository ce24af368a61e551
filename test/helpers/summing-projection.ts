import type { Projection } from '../../core/processing/projection.js';

/**
 * A folding projection for tests of the state it reads: the sum of the changes' `amount`s and how many were
 * applied, so a change applied twice, or lost, shows in the state.
 */
const summingProjection: Projection = {
  name: 'summing',
  needsPreviousState: true,
  apply: (previous, change) => ({
    deleted: false,
    state: {
      sum: Number(previous?.state?.sum ?? 0) + Number(change.after?.amount ?? 0),
      changes: Number(previous?.state?.changes ?? 0) + 1,
    },
  }),
};

export { summingProjection };
