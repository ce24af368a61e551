import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { STATE_TABLE } from '../constants.js';
import { fenceCondition } from '../coordination/fenced-writer.js';
import { REASON } from '../events/reason-codes.js';
import { type DerivedWrite, derivedClauses, MAX_TRANSACTION_ITEMS } from './derived-update.js';
import { DerivedUpdateError } from './errors.js';
import type { TransactOptions, TransactOutcome } from './state-store-port.js';

const A = STATE_TABLE.attributes;

/**
 * Refuses a transaction DynamoDB would refuse for good, before sending it: more than 100 items, or one item
 * named twice (the source among its derived updates, or one derived aggregate twice).
 */
function checkTransaction(aggregateId: string, options: TransactOptions): void {
  const items = 1 + options.derived.length;
  if (items > MAX_TRANSACTION_ITEMS)
    throw new DerivedUpdateError(
      `${aggregateId}: the write and its derived updates take ${items} items, more than the ${MAX_TRANSACTION_ITEMS} of one DynamoDB transaction; derive fewer aggregates per change`,
      REASON.DERIVED_INVALID,
    );
  const ids = new Set([aggregateId]);
  for (const write of options.derived) {
    if (ids.has(write.aggregateId))
      throw new DerivedUpdateError(
        `${aggregateId}: ${write.aggregateId} is named twice in one transaction; merge its derived updates (mergeDerived)`,
        REASON.DERIVED_INVALID,
      );
    ids.add(write.aggregateId);
  }
}

/**
 * The Update of one derived aggregate: its fields set and added, its revision created at 0 if the item is new
 * (so that its owner's first read-modify-write still finds the revision it read), and, with a lock's fence,
 * refused if a later holder stored a higher one. The aggregate's own revision does not move: its owner's
 * state, position and revision are untouched, and a derived write never makes the owner's write lose.
 */
function derivedUpdate(
  write: DerivedWrite,
  updatedAt: string,
): {
  UpdateExpression: string;
  ConditionExpression?: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, AttributeValue>;
} {
  const { sets, adds, names, values } = derivedClauses(write);
  names['#rev'] = A.revision;
  names['#updatedAt'] = A.updatedAt;
  values[':zero'] = { N: '0' };
  values[':updatedAt'] = { S: updatedAt };
  sets.push('#rev = if_not_exists(#rev, :zero)', '#updatedAt = :updatedAt');
  const fence =
    write.fence === undefined ? undefined : fenceCondition(write.fence, { fenceAttribute: A.fence });
  if (fence !== undefined) {
    sets.push(fence.setClause);
    Object.assign(names, fence.names);
    Object.assign(values, fence.values);
  }
  return {
    UpdateExpression: `SET ${sets.join(', ')}${adds.length > 0 ? ` ADD ${adds.join(', ')}` : ''}`,
    ...(fence === undefined ? {} : { ConditionExpression: fence.conditionExpression }),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

function staleFenceOf(aggregateId: string, storedFence: number | undefined): TransactOutcome {
  return { committed: false, reason: 'stale-fence', aggregateId, storedFence: storedFence ?? 0 };
}

export { checkTransaction, derivedUpdate, staleFenceOf };
