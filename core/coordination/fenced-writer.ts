import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { FENCE_NOT_LOWER, WRITE_NOT_APPLIED } from './conditions.js';
import { isTransient } from './dynamodb-store.js';
import { CoordinationOptionsError, CoordinationStoreError } from './errors.js';

/** The pieces of a fenced condition, for callers that build their own requests (transactions, batches). */
interface FenceCondition {
  /** {@link FENCE_NOT_LOWER} with `#fence` / `:fence`. */
  readonly conditionExpression: string;
  /** `#fence = :fence`, to put in the request's SET clause so the item remembers the highest fence. */
  readonly setClause: string;
  readonly names: Record<string, string>;
  readonly values: Record<string, AttributeValue>;
}

/**
 * The condition that rejects a write carrying a lower fence than the one stored on the protected item
 * (DESIGN.md contract 7). Equal fences pass: one holder may write many times.
 *
 * @example
 * ```ts
 * const fence = fenceCondition(lock.fence);
 * await client.send(new UpdateItemCommand({
 *   TableName, Key, UpdateExpression: `SET #total = :total, ${fence.setClause}`,
 *   ConditionExpression: fence.conditionExpression,
 *   ExpressionAttributeNames: { '#total': 'total', ...fence.names },
 *   ExpressionAttributeValues: { ':total': { N: '3' }, ...fence.values },
 * }));
 * ```
 */
function fenceCondition(fence: number, options: { readonly fenceAttribute?: string } = {}): FenceCondition {
  if (!Number.isSafeInteger(fence) || fence < 1)
    throw new CoordinationOptionsError(
      'fence',
      fence,
      'must be a fence token from a grant (a whole number ≥ 1)',
    );
  return {
    conditionExpression: FENCE_NOT_LOWER,
    setClause: '#fence = :fence',
    names: { '#fence': options.fenceAttribute ?? 'fence' },
    values: { ':fence': { N: String(fence) } },
  };
}

interface FencedWriterOptions {
  readonly client: DynamoDBClient;
  /** Table of the protected items. */
  readonly tableName: string;
  /** Attribute holding the highest fence written. @default 'fence' */
  readonly fenceAttribute?: string;
  /** Attribute holding the id of the last write, when writes carry one. @default 'lastWriteId' */
  readonly writeIdAttribute?: string;
}

interface FencedUpdate {
  /** Primary key of the protected item, as plain values. */
  readonly key: Readonly<Record<string, unknown>>;
  /** Fence of the lock or leadership term the writer holds. */
  readonly fence: number;
  /** Attributes to set. */
  readonly set?: Readonly<Record<string, unknown>>;
  /** Numbers to add. */
  readonly add?: Readonly<Record<string, number>>;
  /**
   * Id of this logical write. A retry of the write after a lost response then reports `duplicate` instead
   * of applying it twice (`add` would otherwise count twice). Guards retries of the item's latest write.
   */
  readonly writeId?: string;
}

/** Outcome of a fenced write: losing to a higher fence is a return value, not an error. */
type FencedWriteResult =
  | { readonly outcome: 'applied'; readonly item: Record<string, unknown> }
  | { readonly outcome: 'duplicate'; readonly item: Record<string, unknown> }
  | { readonly outcome: 'stale-fence'; readonly storedFence: number; readonly item: Record<string, unknown> };

/**
 * Writes protected items (in any table) under a fence, so a holder that lost its lock or leadership
 * (a paused process, a partitioned leader) cannot overwrite what a later holder wrote.
 *
 * @example
 * ```ts
 * const writer = new FencedWriter({ client, tableName: 'cdcp-state' });
 * const result = await writer.update({ key: { aggregateId }, fence: term.term, set: { plan } });
 * if (result.outcome === 'stale-fence') stopActing();
 * ```
 */
class FencedWriter {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #fenceAttribute: string;
  readonly #writeIdAttribute: string;

  public constructor(options: FencedWriterOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#fenceAttribute = options.fenceAttribute ?? 'fence';
    this.#writeIdAttribute = options.writeIdAttribute ?? 'lastWriteId';
  }

  public async update(write: FencedUpdate): Promise<FencedWriteResult> {
    const fence = fenceCondition(write.fence, { fenceAttribute: this.#fenceAttribute });
    const names: Record<string, string> = { ...fence.names };
    const plain: Record<string, unknown> = {};
    const sets = [fence.setClause];
    const adds: string[] = [];
    Object.entries(write.set ?? {}).forEach(([name, value], i) => {
      names[`#s${i}`] = name;
      plain[`:s${i}`] = value;
      sets.push(`#s${i} = :s${i}`);
    });
    Object.entries(write.add ?? {}).forEach(([name, value], i) => {
      names[`#a${i}`] = name;
      plain[`:a${i}`] = value;
      adds.push(`#a${i} :a${i}`);
    });
    let condition = `(${fence.conditionExpression})`;
    if (write.writeId !== undefined) {
      names['#writeId'] = this.#writeIdAttribute;
      plain[':writeId'] = write.writeId;
      sets.push('#writeId = :writeId');
      condition += ` AND (${WRITE_NOT_APPLIED})`;
    }
    const update = `SET ${sets.join(', ')}${adds.length > 0 ? ` ADD ${adds.join(', ')}` : ''}`;
    try {
      const { Attributes } = await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: marshall(write.key),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...fence.values, ...marshall(plain, { removeUndefinedValues: true }) },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { outcome: 'applied', item: unmarshall(Attributes ?? {}) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const item = unmarshall(error.Item ?? {});
        // The stored write id is ours: the first attempt was applied and its response lost.
        if (write.writeId !== undefined && item[this.#writeIdAttribute] === write.writeId)
          return { outcome: 'duplicate', item };
        return { outcome: 'stale-fence', storedFence: Number(item[this.#fenceAttribute] ?? 0), item };
      }
      throw new CoordinationStoreError(
        `fenced write to ${this.#tableName} failed: ${(error as Error).message}`,
        { operation: 'fencedWrite', key: JSON.stringify(write.key), retryable: isTransient(error) },
        { cause: error },
      );
    }
  }
}

export type { FenceCondition, FencedUpdate, FencedWriteResult, FencedWriterOptions };
export { FencedWriter, fenceCondition };
