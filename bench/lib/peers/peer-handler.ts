import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import {
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context } from 'aws-lambda';

/** Top-level attribute in which the counting write counts the changes applied since the item was created. */
const PEER_APPLIED_FIELD = '__appliedChanges';
/** The state table's key attribute (the same name as ours, so both tables read alike). */
const PEER_KEY = 'aggregateId';

/** A record as lifion-kinesis hands it over (JSON data parsed). */
interface PeerRecord {
  readonly partitionKey: string;
  readonly sequenceNumber: string;
  readonly data: unknown;
}

/**
 * How the peer applies a change:
 * - `put`: what its users write, a PutItem of the new row (a DeleteItem for a delete) per record;
 * - `counting`: the same, as an UpdateItem that also counts the changes applied (`ADD`), so a change that
 *   took effect twice shows (same one request per record).
 */
type PeerWrite = 'put' | 'counting';

interface PeerHandlerOptions {
  readonly client: DynamoDBClient;
  readonly stateTable: string;
  readonly write: PeerWrite;
  /** Wrap each record in Powertools idempotency on this table (keyed on the record data). */
  readonly idempotencyTable?: string;
  /**
   * How long an idempotency record stays INPROGRESS before a redelivery may take it over: outside Lambda
   * there is no remaining time to bound it, so the handler gives one (Powertools would otherwise block the
   * change for the whole record expiry, an hour, after a crash mid-record). @default 15_000
   */
  readonly inProgressMs?: number;
}

interface DebeziumEnvelope {
  readonly op?: string;
  readonly after?: Record<string, unknown> | null;
}

function envelopeOf(record: PeerRecord): DebeziumEnvelope {
  if (typeof record.data !== 'object' || record.data === null)
    throw new TypeError(
      `record ${record.sequenceNumber} carries no JSON object (received ${typeof record.data}); the peer benchmark publishes Debezium envelopes only`,
    );
  return record.data as DebeziumEnvelope;
}

/** The straightforward per-record write: the new row, or its deletion. */
function plainWrite(options: PeerHandlerOptions): (record: PeerRecord) => Promise<void> {
  const { client, stateTable } = options;
  return async (record) => {
    const { op, after } = envelopeOf(record);
    const key = { [PEER_KEY]: record.partitionKey };
    if (op === 'd' || after === null || after === undefined) {
      await client.send(new DeleteItemCommand({ TableName: stateTable, Key: marshall(key) }));
      return;
    }
    if (options.write === 'put') {
      await client.send(
        new PutItemCommand({
          TableName: stateTable,
          Item: marshall({ ...key, state: after }, { removeUndefinedValues: true }),
        }),
      );
      return;
    }
    await client.send(
      new UpdateItemCommand({
        TableName: stateTable,
        Key: marshall(key),
        UpdateExpression: 'SET #s = :s ADD #n :one',
        ExpressionAttributeNames: { '#s': 'state', '#n': PEER_APPLIED_FIELD },
        ExpressionAttributeValues: marshall({ ':s': after, ':one': 1 }, { removeUndefinedValues: true }),
      }),
    );
  };
}

/**
 * The peer's record handler: the write its users make, optionally wrapped in Powertools idempotency (what
 * they must add for effects that tolerate no duplicate).
 */
function peerRecordHandler(options: PeerHandlerOptions): (record: PeerRecord) => Promise<void> {
  const write = plainWrite(options);
  if (options.idempotencyTable === undefined) return write;
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'data' });
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.idempotencyTable,
    awsSdkV3Client: options.client,
  });
  const idempotent = makeIdempotent(write, { persistenceStore, config });
  const inProgressMs = options.inProgressMs ?? 15_000;
  const context = { getRemainingTimeInMillis: () => inProgressMs } as Context;
  return async (record) => {
    config.registerLambdaContext(context);
    await idempotent(record);
  };
}

export type { PeerHandlerOptions, PeerRecord, PeerWrite };
export { PEER_APPLIED_FIELD, PEER_KEY, peerRecordHandler };
