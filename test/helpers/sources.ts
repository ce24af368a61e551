import type { ChangeEvent, ChangeOp, RowImage } from '../../core/events/change.js';
import { AggregateApplier } from '../../core/processing/apply-aggregate.js';
import type { ConflictPolicy } from '../../core/processing/conflicts.js';
import type { PendingChange } from '../../core/processing/fold.js';
import { mirrorProjection, type Projection } from '../../core/processing/projection.js';
import { afterImagePayloads, stateTwins } from './state-twins.js';

/** The two sources of the cutover and active-active tests: a Debezium server and a DMS task. */
const DEBEZIUM = 'debezium:dbserver1';
const DMS = 'dms';
const AGGREGATE = 'public.orders#1';

/** Each source writes its own position format, as the real decoders do: they never compare. */
function positionOf(source: string, n: number): string {
  return `${source === DMS ? 'tm' : 'pg'}:${String(n).padStart(20, '0')}`;
}

let sequence = 0;

/**
 * The `n`-th change of `source` on `public.orders#1`, committed at `ts`, delivered with a fresh Kinesis
 * sequence number (a redelivery of the same change keeps it: use the returned item again).
 */
function sourced(
  source: string,
  n: number,
  ts: number | null,
  after: RowImage | null,
  op: ChangeOp = after === null ? 'delete' : 'update',
): PendingChange {
  sequence++;
  const change: ChangeEvent = {
    format: source === DMS ? 'dms' : 'debezium',
    table: 'public.orders',
    aggregateId: AGGREGATE,
    op,
    source,
    position: positionOf(source, n),
    before: null,
    after,
    ts,
    txId: null,
  };
  return {
    change,
    origin: {
      shardId: 'shardId-000000000000',
      sequenceNumber: String(sequence).padStart(12, '0'),
      subSequenceNumber: 0,
      partitionKey: AGGREGATE,
      approximateArrivalTimestamp: 1,
    },
  };
}

/**
 * An applier of `public.orders#1` on the in-memory twins under `policy`; `deferral.on` defers its table (as
 * a pause does) while set.
 */
function sourcesSetup(policy: ConflictPolicy, projection: Projection = mirrorProjection) {
  const twins = stateTwins();
  const deferral = { on: false };
  const applier = new AggregateApplier({
    stateStore: twins.stateStore,
    parkedStore: twins.parkedStore,
    projection,
    maxAttempts: 2,
    now: twins.now,
    clock: twins.clock,
    transientAttempts: 1,
    conflictPolicy: () => policy,
    isDeferred: () => deferral.on,
  });
  return {
    ...twins,
    deferral,
    apply: (changes: readonly PendingChange[]) => applier.apply(AGGREGATE, changes, afterImagePayloads),
    item: () => twins.stateTwin.get(AGGREGATE),
    /** The aggregate's parked changes as [reason, source, message]. */
    parked: async () =>
      (await twins.parkedTwin.listAggregate(AGGREGATE)).map((p) => [p.reason, p.change?.source, p.message]),
  };
}

export { AGGREGATE, DEBEZIUM, DMS, positionOf, sourced, sourcesSetup };
