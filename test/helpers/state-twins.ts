import { ManualClock } from '../../core/coordination/clock.js';
import type { PayloadSource } from '../../core/processing/apply-aggregate.js';
import {
  FaultInjectingParkedStore,
  FaultInjectingStateStore,
  InMemoryParkedStore,
  InMemoryStateStore,
} from '../../core/state/index.js';

/**
 * The state and parked stores as the processing code sees them in unit tests: in-memory twins behind
 * fault-injecting wrappers (`stateStore`, `parkedStore`), the twins themselves for preparing and inspecting
 * (`stateTwin`, `parkedTwin`), and the manual clock whose wall time stamps writes and parked items.
 */
function stateTwins() {
  const clock = new ManualClock({ wallStartMs: Date.UTC(2026, 0, 1) });
  const now = () => clock.wallNow();
  const stateTwin = new InMemoryStateStore({ now, tombstoneTtlSeconds: 3600 });
  const parkedTwin = new InMemoryParkedStore();
  return {
    clock,
    now,
    stateTwin,
    parkedTwin,
    stateStore: new FaultInjectingStateStore(stateTwin),
    parkedStore: new FaultInjectingParkedStore(parkedTwin),
  };
}

/** Payloads as the batch processor hands them to the applier: the change's after image as record data. */
const afterImagePayloads: PayloadSource = {
  recordOf: (item) => ({
    data: Buffer.from(JSON.stringify(item.change.after)).toString('base64'),
    partitionKey: item.origin.partitionKey,
    sequenceNumber: item.origin.sequenceNumber,
    subSequenceNumber: item.origin.subSequenceNumber,
    shardId: item.origin.shardId,
    approximateArrivalTimestamp: item.origin.approximateArrivalTimestamp,
    eventSourceArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/test',
  }),
};

/**
 * Makes the next `times` state writes lose their condition: just before each, another writer rewrites the
 * aggregate's item unchanged, which moves its revision.
 */
function loseNextWrites(twins: ReturnType<typeof stateTwins>, aggregateId: string, times = 1): void {
  twins.stateStore.inject({
    kind: 'interleave',
    operations: ['write'],
    times,
    before: async () => {
      const item = await twins.stateTwin.get(aggregateId);
      await twins.stateTwin.write(
        aggregateId,
        { lastParkedKey: item?.lastParkedKey },
        { kind: 'revision', expected: item },
      );
    },
  });
}

export { afterImagePayloads, loseNextWrites, stateTwins };
