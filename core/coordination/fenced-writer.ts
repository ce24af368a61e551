import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type Update,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { messageOf, OptionsError } from '../errors.js';
import { FENCE_NOT_LOWER, LEASE_HELD_BY_CALLER, WRITE_NOT_APPLIED } from './conditions.js';
import { isTransient } from './dynamodb-store.js';
import { CoordinationStoreError } from './errors.js';
import { attributeNamesFor, attributeValues, keyItem, leaseFromItem } from './item-mapping.js';
import type { ItemKey } from './keys.js';
import type { LeaseRecord } from './records.js';

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
 * (docs/architecture.md contract 7). Equal fences pass: one holder may write many times.
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
    throw new OptionsError('fence', fence, 'must be a fence token from a grant (a whole number ≥ 1)');
  return {
    conditionExpression: FENCE_NOT_LOWER,
    setClause: '#fence = :fence',
    names: { '#fence': options.fenceAttribute ?? 'fence' },
    values: { ':fence': { N: String(fence) } },
  };
}

/** The grant a write claims to be made under: `Lock.guard` or `LeaderTerm.guard`. */
interface LeaseGuard {
  readonly key: ItemKey;
  readonly owner: string;
  readonly fence: number;
}

interface FencedWriterOptions {
  readonly client: DynamoDBClient;
  /** Table of the protected items. */
  readonly tableName: string;
  /** The coordination table; needed only for writes with a `guard`. */
  readonly coordinationTableName?: string;
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
  /**
   * Also require, in the same transaction, that the grant is still the current one in the coordination
   * table. The fence alone stops a stale holder only once a later holder has written its higher fence; the
   * guard stops it as soon as a later grant exists. Costs a transaction (about twice the write units).
   */
  readonly guard?: LeaseGuard;
}

/** Outcome of a fenced write: losing to a later holder is a return value, not an error. */
type FencedWriteResult =
  | { readonly outcome: 'applied'; readonly item: Record<string, unknown> | undefined }
  | { readonly outcome: 'duplicate'; readonly item: Record<string, unknown> }
  | { readonly outcome: 'stale-fence'; readonly storedFence: number; readonly item: Record<string, unknown> }
  | { readonly outcome: 'lease-lost'; readonly current: LeaseRecord | undefined };

/**
 * Writes protected items (in any table) under a fence, so a holder that lost its lock or leadership
 * (a paused process, a partitioned leader) cannot overwrite what a later holder wrote.
 *
 * @example
 * ```ts
 * const writer = new FencedWriter({ client, tableName: 'cdcp-state', coordinationTableName: 'cdcp-coordination' });
 * const result = await writer.update({ key: { aggregateId }, fence: lock.fence, set: { plan }, guard: lock.guard });
 * if (result.outcome !== 'applied') stopActing();
 * ```
 */
class FencedWriter {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #coordinationTableName: string | undefined;
  readonly #fenceAttribute: string;
  readonly #writeIdAttribute: string;

  public constructor(options: FencedWriterOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#coordinationTableName = options.coordinationTableName;
    this.#fenceAttribute = options.fenceAttribute ?? 'fence';
    this.#writeIdAttribute = options.writeIdAttribute ?? 'lastWriteId';
  }

  public async update(write: FencedUpdate): Promise<FencedWriteResult> {
    const update = this.#buildUpdate(write);
    try {
      if (write.guard !== undefined) return await this.#guarded(update, write.guard, write);
      const { Attributes } = await this.#client.send(
        new UpdateItemCommand({ ...update, ReturnValues: 'ALL_NEW' }),
      );
      return { outcome: 'applied', item: unmarshall(Attributes ?? {}) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return this.#lost(error.Item, write);
      throw new CoordinationStoreError(
        `fenced write to ${this.#tableName} failed: ${messageOf(error)}`,
        { operation: 'fencedWrite', key: JSON.stringify(write.key), retryable: isTransient(error) },
        { cause: error },
      );
    }
  }

  async #guarded(update: Update, guard: LeaseGuard, write: FencedUpdate): Promise<FencedWriteResult> {
    if (this.#coordinationTableName === undefined)
      throw new OptionsError(
        'coordinationTableName',
        undefined,
        'must be set on the FencedWriter to write with a guard',
      );
    try {
      await this.#client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.#coordinationTableName,
                Key: keyItem(guard.key),
                ConditionExpression: LEASE_HELD_BY_CALLER,
                ExpressionAttributeNames: attributeNamesFor(LEASE_HELD_BY_CALLER),
                ExpressionAttributeValues: attributeValues({ ':owner': guard.owner, ':fence': guard.fence }),
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            { Update: update },
          ],
        }),
      );
      return { outcome: 'applied', item: undefined };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [lease, item] = error.CancellationReasons ?? [];
      if (item?.Code === 'ConditionalCheckFailed') return this.#lost(item.Item, write);
      if (lease?.Code === 'ConditionalCheckFailed')
        return { outcome: 'lease-lost', current: leaseFromItem(lease.Item) };
      throw error;
    }
  }

  #buildUpdate(write: FencedUpdate): Update & { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } {
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
    return {
      TableName: this.#tableName,
      Key: marshall(write.key),
      UpdateExpression: `SET ${sets.join(', ')}${adds.length > 0 ? ` ADD ${adds.join(', ')}` : ''}`,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ...fence.values, ...marshall(plain, { removeUndefinedValues: true }) },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    };
  }

  #lost(old: Record<string, AttributeValue> | undefined, write: FencedUpdate): FencedWriteResult {
    const item = unmarshall(old ?? {});
    // The stored write id is ours: the first attempt was applied and its response lost.
    if (write.writeId !== undefined && item[this.#writeIdAttribute] === write.writeId)
      return { outcome: 'duplicate', item };
    return { outcome: 'stale-fence', storedFence: Number(item[this.#fenceAttribute] ?? 0), item };
  }
}

export type { FenceCondition, FencedUpdate, FencedWriteResult, FencedWriterOptions, LeaseGuard };
export { FencedWriter, fenceCondition };
