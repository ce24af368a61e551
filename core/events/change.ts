/** The operations a change can carry. `read` is a snapshot read (Debezium `op: r`, DMS `load`). */
export type ChangeOp = 'create' | 'update' | 'delete' | 'read';

/** A row image: column name to value. Values are JSON values (decimals as exact strings). */
export type RowImage = Record<string, unknown>;

/**
 * One normalised change event, whatever format it arrived in.
 *
 * `position` is a fixed-width, lexicographically sortable string that grows with source commit order for one
 * aggregate within its `source` (docs/architecture.md contracts 3 and 9); the state table's condition
 * expressions compare it as a string.
 */
interface ChangeEvent {
  /** Decoder that produced it, for example `debezium`. */
  readonly format: string;
  /** `<schema-or-db>.<table>`. */
  readonly table: string;
  /** `<schema-or-db>.<table>#<key values joined by '|'>`. */
  readonly aggregateId: string;
  readonly op: ChangeOp;
  /**
   * The system the change came from (`debezium:dbserver1`, `dms`, `dynamodb:us-east-1/orders`; see
   * `source-id.ts`): `position` compares only with positions of the same source (docs/architecture.md
   * contract 9).
   */
  readonly source: string;
  readonly position: string;
  readonly before: RowImage | null;
  readonly after: RowImage | null;
  /** Source commit time in epoch milliseconds, when the format carries one. */
  readonly ts: number | null;
  /** Source transaction id, when the format carries one. */
  readonly txId: string | null;
  /**
   * True for a delete the source made itself because the item's time to live passed (DynamoDB TTL,
   * `userIdentity.type = Service`); absent otherwise.
   */
  readonly ttlDelete?: boolean;
}

/** Where a change came from in the stream: enough to report a batch item failure or park it. */
interface RecordOrigin {
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** KPL sub-record index; 0 for a plain record. */
  readonly subSequenceNumber: number;
  readonly partitionKey: string;
  /** Epoch milliseconds (Lambda events carry seconds; the consumer converts). */
  readonly approximateArrivalTimestamp: number;
}

export type { ChangeEvent, RecordOrigin };
