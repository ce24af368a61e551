import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { COORDINATION_TABLE } from '../constants.js';
import { isTransient } from '../coordination/dynamodb-store.js';
import { CoordinationStoreError } from '../coordination/errors.js';
import { handOffKeysKey, keyString } from '../coordination/keys.js';
import { messageOf } from '../errors.js';

/**
 * The aggregates a worker had cached for a shard when it let the shard go, most recently used first: what the
 * shard's next owner reads to warm its own cache. One item per shard, written by the owner letting go just
 * before its lease moves, read by the next owner once it holds the lease.
 */
interface HandOffKeys {
  /** Records the ids (most recently used first), cut to {@link MAX_HAND_OFF_KEY_BYTES}. */
  publish(shardId: string, aggregateIds: readonly string[]): Promise<void>;
  /** The ids the shard's last owner left, most recently used first; none when it left nothing. */
  read(shardId: string): Promise<string[]>;
}

/** Bytes of ids one shard's item keeps: under DynamoDB's 400 KB item, and at most 75 read units to read. */
const MAX_HAND_OFF_KEY_BYTES = 300_000;
/** How long an item is kept: a hand-off uses it at once; the time to live only cleans up. */
const HAND_OFF_KEYS_TTL_SECONDS = 24 * 3600;

/** The first ids that fit in `maxBytes` (UTF-8, one separator each). */
function boundedKeys(aggregateIds: readonly string[], maxBytes = MAX_HAND_OFF_KEY_BYTES): string[] {
  const kept: string[] = [];
  let bytes = 0;
  for (const id of aggregateIds) {
    bytes += Buffer.byteLength(id, 'utf8') + 1;
    if (bytes > maxBytes) break;
    kept.push(id);
  }
  return kept;
}

/** The hand-off keys in memory, for tests and single-process runs. */
class InMemoryHandOffKeys implements HandOffKeys {
  readonly #items = new Map<string, string[]>();

  public async publish(shardId: string, aggregateIds: readonly string[]): Promise<void> {
    this.#items.set(shardId, boundedKeys(aggregateIds));
  }

  public async read(shardId: string): Promise<string[]> {
    return [...(this.#items.get(shardId) ?? [])];
  }
}

/**
 * The hand-off keys in the coordination table: item `CACHE#<stream>` / `<shardId>`, the ids joined by
 * newlines in one string (an aggregate id never holds one: it is a table name and key values, and a newline
 * in a key only makes that one id unreadable, which costs one useless read). Written unconditionally (the last
 * owner to let go wins; a stale list only costs useless reads), read strongly consistent.
 *
 * @example
 * ```ts
 * const keys = dynamoDbHandOffKeys({ client, tableName: names.coordinationTable, streamName });
 * await keys.publish('shardId-000000000001', cache.keysOfShard('shardId-000000000001'));
 * ```
 */
function dynamoDbHandOffKeys(options: {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly streamName: string;
  /** Wall clock in epoch ms, for the time to live. @default Date.now */
  readonly now?: () => number;
}): HandOffKeys {
  const now = options.now ?? Date.now;
  const key = (shardId: string) => {
    const { pk, sk } = handOffKeysKey(options.streamName, shardId);
    return { [COORDINATION_TABLE.partitionKey]: pk, [COORDINATION_TABLE.sortKey]: sk };
  };
  const failed = (operation: string, shardId: string, cause: unknown) =>
    new CoordinationStoreError(
      `hand-off keys of ${shardId}: ${operation} failed: ${messageOf(cause)}`,
      {
        operation,
        key: keyString(handOffKeysKey(options.streamName, shardId)),
        retryable: isTransient(cause),
      },
      { cause },
    );
  return {
    async publish(shardId, aggregateIds) {
      const ids = boundedKeys(aggregateIds);
      try {
        await options.client.send(
          new PutItemCommand({
            TableName: options.tableName,
            Item: marshall({
              ...key(shardId),
              ids: ids.join('\n'),
              [COORDINATION_TABLE.ttl]: Math.floor(now() / 1000) + HAND_OFF_KEYS_TTL_SECONDS,
            }),
          }),
        );
      } catch (cause) {
        throw failed('publish', shardId, cause);
      }
    },
    async read(shardId) {
      try {
        const out = await options.client.send(
          new GetItemCommand({
            TableName: options.tableName,
            Key: marshall(key(shardId)),
            ConsistentRead: true,
          }),
        );
        const ids = out.Item === undefined ? '' : String(unmarshall(out.Item).ids ?? '');
        return ids === '' ? [] : ids.split('\n');
      } catch (cause) {
        throw failed('read', shardId, cause);
      }
    },
  };
}

export type { HandOffKeys };
export { boundedKeys, dynamoDbHandOffKeys, InMemoryHandOffKeys, MAX_HAND_OFF_KEY_BYTES };
