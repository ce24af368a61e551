/**
 * Source identities (docs/architecture.md contract 9): the name of the system a change came from, so that a
 * change is compared only with the positions of its own source. Each is derived from the record alone, the
 * same for every record of that source and every delivery of one record, and documented per format in
 * docs/formats.md ("Sources").
 *
 * - Debezium (envelope and flattened rows): `debezium:<source.name>`, the connector's logical server name
 *   (`topic.prefix`), which Debezium requires to be unique per connector; without one,
 *   `debezium:<connector>` (`debezium:postgresql`).
 * - AWS DMS: `dms`. DMS data records do not name their task (only control records may carry it, in
 *   `partition-key-value`), so every DMS task writing one stream is one source.
 * - DynamoDB via Kinesis: `dynamodb:<awsRegion>/<tableName>` (a DynamoDB Streams record without `awsRegion`:
 *   the region in its `eventSourceARN`), or `dynamodb:<tableName>` without a region:
 *   each replica of a global table is its own source.
 */
import type { JsonObject } from './json-value.js';

/** Source ids are short: a longer logical name is cut, so that the state item's per-source map stays small. */
const MAX_SOURCE_ID_LENGTH = 200;

/**
 * The source of positions written before changes named their source: the one position of such an item
 * belongs to the first source that changes it afterwards (then one source per aggregate was the rule).
 */
const UNNAMED_SOURCE = 'unnamed';

/** The one source every AWS DMS change belongs to. */
const DMS_SOURCE = 'dms';

function bounded(id: string): string {
  return id.length > MAX_SOURCE_ID_LENGTH ? id.slice(0, MAX_SOURCE_ID_LENGTH) : id;
}

/**
 * The source of a Debezium change: its logical server name, else its connector.
 *
 * @example
 * ```ts
 * debeziumSourceId({ name: 'dbserver1', connector: 'postgresql' }, 'postgresql'); // 'debezium:dbserver1'
 * ```
 */
function debeziumSourceId(source: JsonObject, connector: string): string {
  const name = source.name;
  // Documentation examples template the name (`{context}`); such a name is no identity.
  if (typeof name === 'string' && name !== '' && !name.includes('{')) return bounded(`debezium:${name}`);
  return `debezium:${connector}`;
}

/**
 * The source of a DynamoDB change: the region and table whose stream it came from.
 *
 * @example
 * ```ts
 * dynamodbSourceId('us-east-1', 'orders'); // 'dynamodb:us-east-1/orders'
 * ```
 */
function dynamodbSourceId(region: unknown, tableName: string): string {
  return bounded(
    typeof region === 'string' && region !== '' ? `dynamodb:${region}/${tableName}` : `dynamodb:${tableName}`,
  );
}

export { DMS_SOURCE, debeziumSourceId, dynamodbSourceId, MAX_SOURCE_ID_LENGTH, UNNAMED_SOURCE };
