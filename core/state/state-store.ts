import {
  type AttributeValue,
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type Update,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { STATE_TABLE } from '../constants.js';
import { backoffDelayMs } from '../coordination/backoff.js';
import { type Clock, systemClock } from '../coordination/clock.js';
import { fenceCondition } from '../coordination/fenced-writer.js';
import { positiveInteger } from '../coordination/validate.js';
import { messageOf } from '../errors.js';
import { UNNAMED_SOURCE } from '../events/source-id.js';
import type { AggregateItem } from './aggregate-item.js';
import { checkTransaction, derivedUpdate, staleFenceOf } from './derived-transaction.js';
import { StateStoreError, UnstorableError } from './errors.js';
import { itemAfter } from './item-after.js';
import { KINESIS_SEQUENCE_PREFIX, positionFamily } from './source-marks.js';
import { attributeChanges } from './state-changes.js';
import { type ItemUpdate, itemUpdateOf, toAggregateItem } from './state-item.js';
import {
  marksOfValue,
  type StateMutation,
  type StateStorePort,
  type TransactOptions,
  type TransactOutcome,
  type WriteGuard,
  type WriteOutcome,
} from './state-store-port.js';

const A = STATE_TABLE.attributes;

/** Placeholder names of the attributes the conditions compare. */
const CONDITION_NAMES = {
  '#pk': STATE_TABLE.partitionKey,
  '#pos': A.position,
  '#ps': A.positions,
  '#unnamed': UNNAMED_SOURCE,
  '#rev': A.revision,
  '#q': A.quarantine,
  '#lpk': A.lastParkedKey,
} as const;

/**
 * Blind write of a projection that does not read previous state (`single-source` only): only a position
 * strictly above its own source's mark may overwrite, so a replayed or concurrent older writer cannot
 * regress state, and only while that source is the item's one source (positions of different sources do not
 * compare; a second source must be judged by its table's strategy, after a read). An item that predates
 * sources (one `position`, no `positions`), or whose one mark is unnamed, counts as that source's when its
 * position is of the same format, or a Kinesis sequence below it (`continuesUnnamedMark`). A quarantined
 * aggregate is never written past its quarantine.
 */
function applyIfNewer(family: string | undefined): string {
  const continues = (mark: string) =>
    `${mark} < :pos AND (begins_with(${mark}, :ks)${family === undefined ? '' : ` OR begins_with(${mark}, :family)`})`;
  return (
    'attribute_not_exists(#q) AND (attribute_not_exists(#pos) OR ' +
    `(size(#ps) = :one AND (#ps.#src < :pos OR (${continues('#ps.#unnamed')}))) OR ` +
    `(attribute_not_exists(#ps) AND ${continues('#pos')}))`
  );
}
/** Read-modify-write: the item must still be the revision we read, else another writer came first. */
const SAME_REVISION = '#rev = :rev';
/** Read-modify-write of an aggregate that did not exist when we read it: a concurrent creator must win once. */
const STILL_ABSENT = 'attribute_not_exists(#pk)';
/** Lifting a quarantine: no change may have been parked behind it since replay read the parked list. */
const SAME_REVISION_AND_PARKED = '#rev = :rev AND #lpk = :lpkRead';

/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_LIMIT = 100;
/** Requests of keys BatchGetItem left unprocessed (throttling) before the read fails as throttled. */
const UNPROCESSED_ATTEMPTS = 8;

interface StateStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** How long a tombstone is kept, in seconds. */
  readonly tombstoneTtlSeconds: number;
  /** Wall clock in epoch milliseconds (for updatedAt and TTL only, never for ordering). */
  readonly now?: () => number;
  /** Sleeps between requests of keys DynamoDB left unprocessed. @default systemClock */
  readonly clock?: Pick<Clock, 'sleep'>;
}

/** The condition of a guard, the values it compares against and the names it adds (the source's). */
interface Condition {
  readonly expression: string;
  readonly values: object;
  readonly names?: Readonly<Record<string, string>>;
}

function conditionOf(guard: WriteGuard, mutation: StateMutation): Condition {
  if (guard.kind === 'newer') {
    const value = mutation.value!;
    const family = positionFamily(value.position);
    return {
      expression: applyIfNewer(family),
      values: {
        ':pos': value.position,
        ':ks': KINESIS_SEQUENCE_PREFIX,
        ...(family === undefined ? {} : { ':family': family }),
      },
      names: { '#src': marksOfValue(value).source },
    };
  }
  if (guard.kind === 'revision')
    return guard.expected === undefined
      ? { expression: STILL_ABSENT, values: {} }
      : { expression: SAME_REVISION, values: { ':rev': guard.expected.revision } };
  return {
    expression: SAME_REVISION_AND_PARKED,
    values: { ':rev': guard.expected.revision, ':lpkRead': guard.expected.lastParkedKey },
  };
}

/**
 * The UpdateItem parameters that apply `update` under `condition` and add one to the revision; with a lock's
 * `fence`, also only if no higher fence is stored, storing this one.
 */
function updateOf(update: ItemUpdate, condition: Condition, fence?: number) {
  const names: Record<string, string> = { ...condition.names };
  const values: Record<string, AttributeValue> = { ':one': { N: '1' } };
  const fenced = fence === undefined ? undefined : fenceCondition(fence, { fenceAttribute: A.fence });
  const placeholder = (attribute: string) => {
    const name = `#u_${attribute}`;
    names[name] = attribute;
    return name;
  };
  const sets = Object.entries(update.set).map(([attribute, value], i) => {
    values[`:v${i}`] = value;
    return `${placeholder(attribute)} = :v${i}`;
  });
  const removes = update.remove.map(placeholder);
  if (fenced !== undefined) {
    sets.push(fenced.setClause);
    Object.assign(names, fenced.names);
    Object.assign(values, fenced.values);
  }
  const expression = `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''} ADD #rev :one`;
  const conditionExpression =
    fenced === undefined
      ? condition.expression
      : `(${condition.expression}) AND (${fenced.conditionExpression})`;
  const used = `${expression} ${conditionExpression}`;
  for (const [name, attribute] of Object.entries(CONDITION_NAMES))
    if (used.includes(name)) names[name] = attribute;
  return {
    UpdateExpression: expression,
    ConditionExpression: conditionExpression,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: { ...values, ...marshall(condition.values) },
  };
}

/**
 * The per-aggregate state table in DynamoDB: the adapter of {@link StateStorePort}. Every write is
 * conditional (docs/architecture.md contract 2): positions compare as strings, and read-modify-write cycles
 * are guarded by a revision counter.
 *
 * @example
 * ```ts
 * const store = new StateStore({ client, tableName: 'cdcp-state', tombstoneTtlSeconds: 2_592_000 });
 * const outcome = await store.write('public.orders#1', { value }, { kind: 'newer' });
 * ```
 */
class StateStore implements StateStorePort {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #tombstoneTtlSeconds: number;
  readonly #now: () => number;
  readonly #clock: Pick<Clock, 'sleep'>;

  public constructor(options: StateStoreOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#tombstoneTtlSeconds = positiveInteger('tombstoneTtlSeconds', options.tombstoneTtlSeconds);
    this.#now = options.now ?? Date.now;
    this.#clock = options.clock ?? systemClock;
  }

  public get tableName(): string {
    return this.#tableName;
  }

  public async get(aggregateId: string): Promise<AggregateItem | undefined> {
    try {
      const out = await this.#client.send(
        new GetItemCommand({
          TableName: this.#tableName,
          Key: marshall({ [STATE_TABLE.partitionKey]: aggregateId }),
          ConsistentRead: true,
        }),
      );
      return toAggregateItem(out.Item);
    } catch (cause) {
      throw new StateStoreError(`state store: cannot read ${aggregateId}`, {
        cause,
        aggregateId,
        operation: 'get',
      });
    }
  }

  public async getMany(aggregateIds: readonly string[]): Promise<Map<string, AggregateItem>> {
    const found = new Map<string, AggregateItem>();
    // BatchGetItem refuses a request that names one key twice.
    const ids = [...new Set(aggregateIds)];
    for (let i = 0; i < ids.length; i += BATCH_GET_LIMIT) {
      let keys = ids.slice(i, i + BATCH_GET_LIMIT).map((id) => marshall({ [STATE_TABLE.partitionKey]: id }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        // Unprocessed keys mean throttling: back off, and after a bounded number of tries fail as throttled
        // (the batch is retried later) instead of asking forever.
        if (attempt >= UNPROCESSED_ATTEMPTS)
          throw new StateStoreError(
            `state store: ${keys.length} aggregates stayed unprocessed after ${UNPROCESSED_ATTEMPTS} requests (throttled)`,
            {
              operation: 'getMany',
              cause: Object.assign(new Error('unprocessed keys'), { name: 'ThrottlingException' }),
            },
          );
        if (attempt > 0) await this.#clock.sleep(backoffDelayMs(attempt, { baseMs: 25, maxMs: 1_000 }));
        const out = await this.#client
          .send(
            new BatchGetItemCommand({
              RequestItems: { [this.#tableName]: { Keys: keys, ConsistentRead: true } },
            }),
          )
          .catch((cause: unknown) => {
            throw new StateStoreError(`state store: cannot read ${keys.length} aggregates`, {
              cause,
              operation: 'getMany',
            });
          });
        for (const raw of out.Responses?.[this.#tableName] ?? []) {
          const item = toAggregateItem(raw)!;
          found.set(item.aggregateId, item);
        }
        keys = out.UnprocessedKeys?.[this.#tableName]?.Keys ?? [];
      }
    }
    return found;
  }

  /**
   * Throws {@link UnstorableError} when DynamoDB would refuse the item for good, found before writing
   * (`checkStorable`) or from DynamoDB's own `ValidationException`; other failures are `StateStoreError`s.
   */
  public async write(aggregateId: string, mutation: StateMutation, guard: WriteGuard): Promise<WriteOutcome> {
    return this.#conditionalWrite(aggregateId, mutation, guard, undefined);
  }

  /**
   * One TransactWriteItems of the source write and its derived updates; without derived updates, one
   * conditional UpdateItem (a transaction costs twice the write units). Which item refused is read from
   * DynamoDB's cancellation reasons, in the order the items were sent.
   */
  public async transact(
    aggregateId: string,
    mutation: StateMutation,
    guard: WriteGuard,
    options: TransactOptions,
  ): Promise<TransactOutcome> {
    checkTransaction(aggregateId, options);
    if (options.derived.length === 0) {
      const out = await this.#conditionalWrite(aggregateId, mutation, guard, options.fence);
      return out.committed ? { committed: true } : this.#refusedSource(out.current, options.fence);
    }
    const source = this.#sourceUpdate(aggregateId, mutation, guard, options.fence).request;
    const updatedAt = new Date(this.#now()).toISOString();
    const derived = options.derived.map((write) => ({
      ...derivedUpdate(write, updatedAt),
      TableName: this.#tableName,
      Key: marshall({ [STATE_TABLE.partitionKey]: write.aggregateId }),
    }));
    try {
      await this.#client.send(
        new TransactWriteItemsCommand({ TransactItems: [source, ...derived].map((Update) => ({ Update })) }),
      );
      return { committed: true };
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const codes = (error.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
        if (codes.includes('TransactionConflict')) return { committed: false, reason: 'conflict' };
        if (codes[0] === 'ConditionalCheckFailed')
          return this.#refusedSource(await this.get(aggregateId), options.fence);
        const refused = codes.indexOf('ConditionalCheckFailed');
        if (refused > 0) {
          const write = options.derived[refused - 1]!;
          return staleFenceOf(write.aggregateId, (await this.get(write.aggregateId))?.fence);
        }
      }
      throw this.#writeError(aggregateId, error, 'transact');
    }
  }

  /** A refused source write: a higher fence stored by a later holder, or its guard lost. */
  #refusedSource(current: AggregateItem | undefined, fence: number | undefined): TransactOutcome {
    if (fence !== undefined && current?.fence !== undefined && current.fence > fence)
      return staleFenceOf(current.aggregateId, current.fence);
    return { committed: false, reason: 'condition', current };
  }

  /** The source write's attribute changes, and the UpdateItem (or transaction item) that makes them. */
  #sourceUpdate(
    aggregateId: string,
    mutation: StateMutation,
    guard: WriteGuard,
    fence: number | undefined,
  ): { readonly update: ItemUpdate; readonly request: Update } {
    const changes = attributeChanges(mutation, guard, this.#now(), this.#tombstoneTtlSeconds);
    const update = itemUpdateOf(aggregateId, changes);
    return {
      update,
      request: {
        TableName: this.#tableName,
        Key: marshall({ [STATE_TABLE.partitionKey]: aggregateId }),
        ...updateOf(update, conditionOf(guard, mutation), fence),
      },
    };
  }

  async #conditionalWrite(
    aggregateId: string,
    mutation: StateMutation,
    guard: WriteGuard,
    fence: number | undefined,
  ): Promise<WriteOutcome> {
    const { update, request } = this.#sourceUpdate(aggregateId, mutation, guard, fence);
    try {
      const out = await this.#client.send(
        new UpdateItemCommand({
          ...request,
          ReturnValues: 'ALL_OLD',
          // Not ALL_OLD: the SDK cannot read an item whose state has a `__proto__` column out of an error
          // response (a TypeError, every time: a redelivered duplicate of such an aggregate would fail its
          // batch forever). The loser reads the item instead, which the SDK reads whole.
          ReturnValuesOnConditionCheckFailure: 'NONE',
        }),
      );
      const old = out.Attributes;
      return {
        committed: true,
        previous: toAggregateItem(old),
        after: () => toAggregateItem(itemAfter(aggregateId, old, update, fence))!,
      };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        return { committed: false, current: await this.get(aggregateId) };
      throw this.#writeError(aggregateId, error, 'write');
    }
  }

  #writeError(aggregateId: string, error: unknown, operation: string): StateStoreError {
    // A ValidationException refuses the request itself: sent again, it is refused again.
    if ((error as Error).name === 'ValidationException')
      return new UnstorableError(`DynamoDB refused the item of ${aggregateId}: ${messageOf(error)}`, {
        path: 'item',
        limit: "DynamoDB's item rules",
        aggregateId,
        operation,
        cause: error,
      });
    return new StateStoreError(`state store: cannot write ${aggregateId}`, {
      cause: error,
      aggregateId,
      operation,
    });
  }
}

export type { StateStoreOptions };
export { StateStore };
