import type { ChangeEvent, RecordOrigin } from '../../core/events/change.js';
import { postgresPosition } from '../../core/events/position.js';
import type { PendingChange } from '../../core/processing/fold.js';
import type { ProjectedState } from '../../core/processing/projection.js';
import type { AggregateItem } from '../../core/state/aggregate-item.js';

/** A Postgres-style change of `public.orders#<id>` at LSN `lsn`. */
function orderChange(
  id: number,
  lsn: number,
  op: ChangeEvent['op'] = 'update',
  after: Record<string, unknown> | null = op === 'delete' ? null : { id, status: `s${lsn}` },
): ChangeEvent {
  return {
    format: 'debezium',
    table: 'public.orders',
    aggregateId: `public.orders#${id}`,
    op,
    source: 'debezium:dbserver1',
    position: postgresPosition(lsn, lsn - 1),
    before: op === 'create' ? null : { id },
    after,
    ts: 1_700_000_000_000 + lsn,
    txId: String(lsn),
  };
}

/** A change of order line `public.order_lines#<line>` (of order `order`, for `quantity`) at LSN `lsn`, pending. */
function lineChange(
  line: number,
  lsn: number,
  order: number,
  quantity: number | string,
  op: ChangeEvent['op'] = 'update',
): PendingChange {
  const change: ChangeEvent = {
    format: 'debezium',
    table: 'public.order_lines',
    aggregateId: `public.order_lines#${line}`,
    op,
    source: 'debezium:dbserver1',
    position: postgresPosition(lsn, lsn - 1),
    before: op === 'create' ? null : { id: line, order_id: order },
    after: op === 'delete' ? null : { id: line, order_id: order, quantity },
    ts: 1_700_000_000_000 + lsn,
    txId: String(lsn),
  };
  return pending(change, String(lsn));
}

function origin(sequenceNumber: string, partitionKey = 'k'): RecordOrigin {
  return {
    shardId: 'shardId-000000000000',
    sequenceNumber,
    subSequenceNumber: 0,
    partitionKey,
    approximateArrivalTimestamp: 1,
  };
}

function pending(change: ChangeEvent, sequenceNumber: string): PendingChange {
  return { change, origin: origin(sequenceNumber, change.aggregateId) };
}

/** The Debezium Postgres envelope the change decodes from. */
function debeziumEnvelope(change: ChangeEvent, lsn: number): Record<string, unknown> {
  const [schema, table] = change.table.split('.');
  return {
    before: change.before,
    after: change.after,
    source: {
      version: '2.7.3.Final',
      connector: 'postgresql',
      name: 'dbserver1',
      ts_ms: change.ts,
      snapshot: 'false',
      db: 'inventory',
      sequence: JSON.stringify([String(lsn - 1), String(lsn)]),
      schema,
      table,
      txId: lsn,
      lsn,
    },
    op: { create: 'c', update: 'u', delete: 'd', read: 'r' }[change.op],
    ts_ms: change.ts,
  };
}

/**
 * A stored item of `public.orders#1` at `position`, as an item written before sources reads (its one
 * position under the unnamed source, taken by the first source that comes), or with the given `positions`.
 */
function storedItem(
  position: string,
  state: ProjectedState,
  positions: ReadonlyMap<string, string> = new Map([['unnamed', position]]),
): AggregateItem {
  return {
    aggregateId: 'public.orders#1',
    table: 'public.orders',
    position,
    positions,
    writer: undefined,
    fieldStamps: undefined,
    deleted: state.deleted,
    state: state.state,
    revision: 1,
    quarantine: undefined,
    lastParkedKey: undefined,
    pendingFailure: undefined,
    ttlEpochSeconds: undefined,
  };
}

export { debeziumEnvelope, lineChange, orderChange, origin, pending, storedItem };
