/**
 * Why a record or change was parked instead of applied. Each code is documented in docs/formats.md; operators
 * filter `cdcp parked list` by them.
 */
export const REASON = {
  /** The record's data is not valid UTF-8 JSON. */
  NOT_JSON: 'NOT_JSON',
  /** The JSON parsed but no registered decoder recognises its shape. */
  UNKNOWN_FORMAT: 'UNKNOWN_FORMAT',
  /** A decoder recognised the shape but a required field has the wrong type or is missing. */
  INVALID_ENVELOPE: 'INVALID_ENVELOPE',
  /** No key columns could be found for the change: no record key, no configured columns, no `id` column. */
  MISSING_KEY: 'MISSING_KEY',
  /** The change's aggregate id is longer than 1,024 bytes (its key values are too long to key an item). */
  KEY_TOO_LONG: 'KEY_TOO_LONG',
  /** The record is larger than the configured maximum. */
  TOO_LARGE: 'TOO_LARGE',
  /**
   * The record nests objects and arrays deeper than any storable change needs (128 levels), or a row image
   * nests deeper than DynamoDB can store as one attribute (31 levels: 32 counting the item).
   */
  TOO_DEEP: 'TOO_DEEP',
  /**
   * A decimal whose scale or exponent is beyond ±100,000, or whose unscaled value is over 64 KiB: far
   * beyond any database's decimal type, and expanding it would take memory a consumer does not have.
   */
  DECIMAL_OUT_OF_RANGE: 'DECIMAL_OUT_OF_RANGE',
  /** The change has no usable source position. */
  MISSING_POSITION: 'MISSING_POSITION',
  /** A Debezium truncate event (`op: t`): never applied silently; an operator decides. */
  TRUNCATE: 'TRUNCATE',
  /** A Debezium logical-decoding message (`op: m`): not a row change. */
  LOGICAL_MESSAGE: 'LOGICAL_MESSAGE',
  /**
   * The record does not say which table it belongs to: a DMS message without `metadata.table-name`, or an
   * unwrapped Debezium row (ExtractNewRecordState) without `__table` (add `add.fields=table,db` or `schema`).
   */
  MISSING_TABLE: 'MISSING_TABLE',
  /**
   * A KPL aggregated record (it starts with the KPL magic bytes) whose MD5 trailer does not match its body, or
   * whose protobuf body is truncated or malformed. The whole Kinesis record is parked; the KCL would instead
   * hand it on as one opaque record, which our decoders could not read either.
   */
  KPL_CORRUPT: 'KPL_CORRUPT',
  /** A record of a Lambda or Kinesis Analytics event whose `data` is not valid base64. */
  NOT_BASE64: 'NOT_BASE64',
  /** The projection threw while folding the change (after the configured attempts). */
  POISON: 'POISON',
  /**
   * DynamoDB would refuse the state the change leads to, whatever the retries: an item over 400 KB by
   * DynamoDB's own accounting, an empty or too long attribute name, more than 32 levels of nesting. Parked at
   * once with the attribute path and the limit; the aggregate is quarantined behind it, as for `POISON`.
   */
  UNSTORABLE: 'UNSTORABLE',
  /** Parked behind an earlier poison change of the same aggregate, to keep its order. */
  QUARANTINED: 'QUARANTINED',
  /**
   * Deferred while the table is paused or shed (low priority under overload); replayed in order when the
   * table is resumed or shedding is lifted. Later changes of the aggregate are deferred behind it.
   */
  DEFERRED: 'DEFERRED',
  /**
   * A change of a second source of an aggregate whose table's conflict strategy refuses it (`single-source`,
   * a source missing from `sourcePriority`, or a custom resolver that parks it). The aggregate goes on with
   * its own source; `cdcp parked replay` applies the change once the table's strategy accepts it.
   */
  CONFLICTING_SOURCE: 'CONFLICTING_SOURCE',
  /**
   * The change's derived updates cannot be written with it: with its source write they take more than the
   * 100 items of one DynamoDB transaction, or they are malformed (a field both set to text and added to, a
   * fraction added, an update of the change's own aggregate). Parked at once; the aggregate is quarantined
   * behind it, as for `POISON`.
   */
  DERIVED_INVALID: 'DERIVED_INVALID',
  /**
   * The transaction of the change and its derived updates kept conflicting with concurrent transactions on the
   * same items (`TransactionConflict`) through every bounded retry. Parked; replaying it applies it once.
   */
  DERIVED_CONFLICT: 'DERIVED_CONFLICT',
  /** The local event source mapping gave up on a record older than the maximum record age. */
  RECORD_TOO_OLD: 'RECORD_TOO_OLD',
  /** The local event source mapping ran out of retry attempts for the record. */
  RETRIES_EXHAUSTED: 'RETRIES_EXHAUSTED',
} as const;

export type ReasonCode = (typeof REASON)[keyof typeof REASON];
