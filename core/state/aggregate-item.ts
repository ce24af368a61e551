import type { RowImage } from '../events/change.js';
import type { FieldStamps, WriterStamp } from './source-marks.js';

/**
 * Why an aggregate's changes are held back: `POISON`, its first change that kept failing (until an operator
 * replays it), or `DEFERRED`, its table paused or shed (until the table is resumed).
 */
interface Quarantine {
  /** Absent on items written before deferral existed: a poison quarantine. */
  readonly reason?: 'POISON' | 'DEFERRED';
  readonly position: string;
  readonly sequenceNumber: string;
  readonly error: string;
  readonly at: string;
}

/** A failing change that has not yet used up its attempts. */
interface PendingFailure {
  readonly position: string;
  readonly sequenceNumber: string;
  readonly attempts: number;
  readonly error: string;
}

/**
 * One item of the state table: the aggregate's projected state and the high-water position of each source
 * whose changes it recorded (docs/architecture.md contracts 2 and 9). `revision` grows with every write and
 * guards read-modify-write cycles.
 */
interface AggregateItem {
  readonly aggregateId: string;
  readonly table: string | undefined;
  /**
   * Position of the last change recorded, of whichever source; absent only for an aggregate that was
   * quarantined (or failed) before any change applied. Compare a change with `positions`, never with this.
   */
  readonly position: string | undefined;
  /**
   * The high-water position of each source (a change at or below its own source's mark is a duplicate). An
   * item written before changes named their source reads as its one `position` under the source `unnamed`.
   */
  readonly positions: ReadonlyMap<string, string>;
  /** The change that last set the state; undefined on items written before sources were recorded. */
  readonly writer: WriterStamp | undefined;
  /** `field-merge` only: the stamp of each field and of the newest delete. */
  readonly fieldStamps: FieldStamps | undefined;
  readonly deleted: boolean;
  readonly state: RowImage | null;
  readonly revision: number;
  readonly quarantine: Quarantine | undefined;
  /** Sort key of the newest change parked behind the quarantine; replay checks it did not move. */
  readonly lastParkedKey: string | undefined;
  readonly pendingFailure: PendingFailure | undefined;
  /**
   * When the table's time to live may delete the item, in epoch seconds: set on a tombstone that holds
   * nothing back (docs/architecture.md contract 4), absent on everything else.
   */
  readonly ttlEpochSeconds: number | undefined;
  /**
   * Fields other aggregates' projections keep on this one through derived updates (`order.total` from its
   * lines), by field name; absent when there are none.
   */
  readonly derived?: ReadonlyMap<string, DerivedValue>;
  /** The highest lock fence a write of this aggregate carried; absent when none did. */
  readonly fence?: number;
}

/** A derived field as read back: integers beyond 2^53 as bigint. */
type DerivedValue = string | number | bigint | boolean | null;

export type { AggregateItem, DerivedValue, PendingFailure, Quarantine };
