import {
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { COORDINATION_TABLE } from '../../core/constants.js';

/** One shard's progress, kept in the coordination table under `LEASE#<stream>` / shard id. */
interface ShardCheckpoint {
  readonly shardId: string;
  /** Last sequence number fully processed; undefined before the first batch. */
  readonly checkpoint: string | undefined;
  /** True once the shard is closed and processed to its end (children may start). */
  readonly ended: boolean;
  readonly parentShardIds: readonly string[];
  readonly owner: string | undefined;
}

/**
 * Checkpoints of the local event source mapping, so a restarted run resumes where it stopped. Lambda keeps
 * these inside its service; locally they live in the coordination table beside the leases.
 */
class CheckpointStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #pk: string;

  public constructor(options: { client: DynamoDBClient; tableName: string; streamName: string }) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#pk = `LEASE#${options.streamName}`;
  }

  public async get(shardId: string): Promise<ShardCheckpoint | undefined> {
    const out = await this.#client.send(
      new GetItemCommand({
        TableName: this.#tableName,
        Key: marshall({ [COORDINATION_TABLE.partitionKey]: this.#pk, [COORDINATION_TABLE.sortKey]: shardId }),
        ConsistentRead: true,
      }),
    );
    return out.Item === undefined ? undefined : toCheckpoint(unmarshall(out.Item));
  }

  public async list(): Promise<ShardCheckpoint[]> {
    const items: ShardCheckpoint[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.#client.send(
        new QueryCommand({
          TableName: this.#tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': COORDINATION_TABLE.partitionKey },
          ExpressionAttributeValues: marshall({ ':pk': this.#pk }),
          ConsistentRead: true,
          ExclusiveStartKey: start === undefined ? undefined : marshall(start),
        }),
      );
      items.push(...(out.Items ?? []).map((i) => toCheckpoint(unmarshall(i))));
      start = out.LastEvaluatedKey === undefined ? undefined : unmarshall(out.LastEvaluatedKey);
    } while (start !== undefined);
    return items;
  }

  /** Records progress; a checkpoint never moves backwards (a slower writer cannot undo a faster one). */
  public async save(
    shardId: string,
    update: {
      readonly checkpoint?: string;
      readonly ended?: boolean;
      readonly parentShardIds?: readonly string[];
      readonly owner: string;
    },
  ): Promise<void> {
    const set = ['#owner = :owner', '#updatedAt = :now'];
    const values: Record<string, unknown> = { ':owner': update.owner, ':now': new Date().toISOString() };
    if (update.checkpoint !== undefined) {
      set.push('#cp = :cp', '#cpLen = :cpLen');
      values[':cp'] = update.checkpoint;
      values[':cpLen'] = update.checkpoint.length;
    }
    if (update.ended !== undefined) {
      set.push('#ended = :ended');
      values[':ended'] = update.ended;
    }
    if (update.parentShardIds !== undefined) {
      set.push('#parents = :parents');
      values[':parents'] = [...update.parentShardIds];
    }
    // Sequence numbers are decimal strings of varying length: compare length first, then the digits.
    const condition =
      update.checkpoint === undefined
        ? undefined
        : 'attribute_not_exists(#cp) OR #cpLen < :cpLen OR (#cpLen = :cpLen AND #cp <= :cp)';
    await this.#client
      .send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: marshall({
            [COORDINATION_TABLE.partitionKey]: this.#pk,
            [COORDINATION_TABLE.sortKey]: shardId,
          }),
          UpdateExpression: `SET ${set.join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: {
            '#owner': 'owner',
            '#updatedAt': 'updatedAt',
            ...(update.checkpoint === undefined ? {} : { '#cp': 'checkpoint', '#cpLen': 'checkpointLength' }),
            ...(update.ended === undefined ? {} : { '#ended': 'ended' }),
            ...(update.parentShardIds === undefined ? {} : { '#parents': 'parentShardIds' }),
          },
          ExpressionAttributeValues: marshall(values),
        }),
      )
      .catch((error: Error) => {
        if (error.name !== 'ConditionalCheckFailedException') throw error;
      });
  }
}

function toCheckpoint(item: Record<string, unknown>): ShardCheckpoint {
  return {
    shardId: item[COORDINATION_TABLE.sortKey] as string,
    checkpoint: item.checkpoint as string | undefined,
    ended: item.ended === true,
    parentShardIds: (item.parentShardIds as string[] | undefined) ?? [],
    owner: item.owner as string | undefined,
  };
}

export type { ShardCheckpoint };
export { CheckpointStore };
