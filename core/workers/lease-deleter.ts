import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { COORDINATION_TABLE } from '../constants.js';
import type { LeaseRecord } from '../coordination/index.js';

/**
 * Delete an ended shard's lease only if nobody holds it and it is still the version the assigner judged: a
 * worker that took it meanwhile (it cannot, an ended lease is never assigned, but a stale assigner might try)
 * or a later write keeps it.
 */
const SHARD_LEASE_FREE_AND_UNCHANGED = 'attribute_not_exists(#owner) AND #version = :version';

/**
 * Lease items are otherwise never deleted (a deleted lease would restart its fence at 1). An ended parent's is
 * the exception: it is deleted only after every child has started, and the assigner never creates a lease
 * again for a closed shard whose child has started, so that shard is never held again.
 *
 * @example
 * ```ts
 * const deleteLease = leaseDeleter(dynamodb, names.coordinationTable);
 * await deleteLease(record); // false if the lease changed since it was read
 * ```
 */
function leaseDeleter(client: DynamoDBClient, tableName: string): (record: LeaseRecord) => Promise<boolean> {
  return async (record) => {
    try {
      await client.send(
        new DeleteItemCommand({
          TableName: tableName,
          Key: marshall({
            [COORDINATION_TABLE.partitionKey]: record.key.pk,
            [COORDINATION_TABLE.sortKey]: record.key.sk,
          }),
          ConditionExpression: SHARD_LEASE_FREE_AND_UNCHANGED,
          ExpressionAttributeNames: { '#owner': 'owner', '#version': 'version' },
          ExpressionAttributeValues: marshall({ ':version': record.version }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  };
}

export { leaseDeleter, SHARD_LEASE_FREE_AND_UNCHANGED };
