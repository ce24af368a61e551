import {
  type AttributeValue,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { PARKED_TABLE } from '../constants.js';
import { backoffDelayMs } from '../coordination/backoff.js';
import { type Clock, systemClock } from '../coordination/clock.js';
import type { ChangeEvent } from '../events/change.js';
import { parseJsonExact, stringifyJsonExact } from '../events/exact-json.js';
import { REASON, type ReasonCode } from '../events/reason-codes.js';
import { boundedText } from './bounded-text.js';
import { StateStoreError } from './errors.js';
import { AGGREGATE_PREFIX, type ParkedItem, type ParkedRecord } from './parked-item.js';
import type { ParkedLabel, ParkedStorePort } from './parked-store-port.js';

/**
 * DynamoDB items are limited to 400 KB; a Kinesis record may hold 1 MiB (1.4 MB in base64) and the decoded
 * change can be as large again. The record and the change are stored together as one JSON body, split into
 * part items that sort right after their main item when it is too large, so nothing is lost.
 */
const MAX_INLINE_BODY_BYTES = 300_000;
const PART_MARK = '~part~';
/** BatchWriteItem takes at most 25 requests. */
const BATCH_WRITE_LIMIT = 25;
/**
 * A body up to this size is parked in one transaction with its parts (TransactWriteItems takes 4 MB), so an
 * item is never seen, nor kept, without them. Larger ones (only decimals expanded to their bound get there)
 * write their parts first.
 */
const MAX_TRANSACTION_BODY_BYTES = 3_500_000;
/** Requests of writes BatchWriteItem left unprocessed (throttling) before the write fails as throttled. */
const UNPROCESSED_ATTEMPTS = 8;
/** Conditional puts sent at once. */
const PUT_CONCURRENCY = 8;
/** Keeps an item already parked: a change is parked once, with its first reason. */
const NOT_PARKED_YET = 'attribute_not_exists(#pk)';
/** A relabel never recreates an item deleted meanwhile (replayed or discarded). */
const STILL_PARKED = 'attribute_exists(#pk)';

interface ParkedStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Sleeps between requests of writes DynamoDB left unprocessed. @default systemClock */
  readonly clock?: Pick<Clock, 'sleep'>;
}

/** Nesting a body may have: a change's rows nest at most 31 levels, the body adds a few. */
const BODY_MAX_DEPTH = 256;

/** What is stored in the body: the full payload and the decoded change. */
interface Body {
  readonly record: ParkedRecord;
  readonly change?: ChangeEvent;
}

function partKey(sk: string, index: number): string {
  return `${sk}${PART_MARK}${String(index).padStart(4, '0')}`;
}

/** Splits a string into chunks of at most `maxBytes` UTF-8 bytes, never inside a character. */
function chunksOf(text: string, maxBytes: number): string[] {
  const chunks: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + maxBytes);
    while (Buffer.byteLength(text.slice(start, end)) > maxBytes)
      end = start + Math.floor((end - start) * 0.9);
    // Keep surrogate pairs together.
    if (end < text.length && /[\ud800-\udbff]/.test(text[end - 1]!)) end--;
    chunks.push(text.slice(start, end));
    start = end;
  }
  return chunks;
}

/**
 * The JSON text a parked item's payload is stored as. Exact numbers stay numbers (a replay folds them as
 * the decoders gave them); `parseJsonExact` reads it back.
 */
function bodyOf(item: Pick<ParkedItem, 'record' | 'change'>): string {
  return stringifyJsonExact({ record: item.record, change: item.change } satisfies Body);
}

/** The main item and its parts: the message bounded, the body inline or split into parts. */
function storedItemsOf(item: ParkedItem): {
  main: Record<string, AttributeValue>;
  parts: Record<string, AttributeValue>[];
  bodyBytes: number;
} {
  const body = bodyOf(item);
  const bodyBytes = Buffer.byteLength(body);
  const chunks = bodyBytes > MAX_INLINE_BODY_BYTES ? chunksOf(body, MAX_INLINE_BODY_BYTES) : undefined;
  const main = marshall(
    {
      [PARKED_TABLE.partitionKey]: item.pk,
      [PARKED_TABLE.sortKey]: item.sk,
      reason: item.reason,
      message: boundedText(item.message),
      aggregateId: item.aggregateId,
      body: chunks === undefined ? body : undefined,
      parts: chunks?.length,
      attempts: item.attempts,
      parkedAt: item.parkedAt,
    },
    { removeUndefinedValues: true },
  );
  const parts = (chunks ?? []).map((chunk, i) =>
    marshall({
      [PARKED_TABLE.partitionKey]: item.pk,
      [PARKED_TABLE.sortKey]: partKey(item.sk, i),
      partOf: item.sk,
      body: chunk,
    }),
  );
  return { main, parts, bodyBytes };
}

/** The reason code a condition failure cancelled a transaction with, if it was the first item's condition. */
function cancelledByCondition(error: unknown): boolean {
  return (
    error instanceof TransactionCanceledException &&
    error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
  );
}

/**
 * Assembles main items and their parts. Parts may come in other pages than their main item, so callers hand
 * over everything they read; an item whose parts are not all there is left out (and reported by count).
 */
function fromItems(raw: readonly Record<string, unknown>[]): {
  items: ParkedItem[];
  parts: Map<ParkedItem, number>;
  incomplete: number;
} {
  const parts = new Map<string, string[]>();
  for (const r of raw)
    if (typeof r.partOf === 'string') {
      const key = `${r[PARKED_TABLE.partitionKey]}|${r.partOf}`;
      const list = parts.get(key) ?? [];
      list[Number(String(r[PARKED_TABLE.sortKey]).slice(-4))] = r.body as string;
      parts.set(key, list);
    }
  const items: ParkedItem[] = [];
  const partCounts = new Map<ParkedItem, number>();
  let incomplete = 0;
  for (const r of raw) {
    if (typeof r.partOf === 'string') continue;
    const pk = r[PARKED_TABLE.partitionKey] as string;
    const sk = r[PARKED_TABLE.sortKey] as string;
    let text = r.body as string | undefined;
    if (typeof r.parts === 'number') {
      // Parts beyond the count are left from an earlier, larger body under the same keys.
      const chunks = (parts.get(`${pk}|${sk}`) ?? []).slice(0, r.parts);
      const complete = chunks.length === r.parts && chunks.every((c) => typeof c === 'string');
      if (!complete) {
        incomplete++;
        continue;
      }
      text = chunks.join('');
    }
    let body: Body;
    try {
      body = parseJsonExact(text ?? '{}', { maxDepth: BODY_MAX_DEPTH }) as Body;
    } catch {
      incomplete++;
      continue;
    }
    const item: ParkedItem = {
      pk,
      sk,
      reason: r.reason as ReasonCode,
      message: r.message as string,
      aggregateId: r.aggregateId as string | undefined,
      change: body.change,
      record: body.record,
      attempts: (r.attempts as number | undefined) ?? 0,
      parkedAt: r.parkedAt as string,
    };
    items.push(item);
    partCounts.set(item, typeof r.parts === 'number' ? r.parts : 0);
  }
  return { items, parts: partCounts, incomplete };
}

/** One of each key, the first given: a change is parked once, and a batch request may name a key once. */
function firstOfEachKey<T extends Pick<ParkedItem, 'pk' | 'sk'>>(items: readonly T[]): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) {
    const key = JSON.stringify([item.pk, item.sk]);
    if (!byKey.has(key)) byKey.set(key, item);
  }
  return [...byKey.values()];
}

async function batchWrite(
  client: DynamoDBClient,
  tableName: string,
  requests: WriteRequest[],
  operation: 'put' | 'delete',
  clock: Pick<Clock, 'sleep'>,
): Promise<void> {
  for (let i = 0; i < requests.length; i += BATCH_WRITE_LIMIT) {
    let pending: WriteRequest[] = requests.slice(i, i + BATCH_WRITE_LIMIT);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= UNPROCESSED_ATTEMPTS)
        throw new StateStoreError(
          `parked store: ${pending.length} writes stayed unprocessed after ${UNPROCESSED_ATTEMPTS} requests (throttled)`,
          {
            operation,
            cause: Object.assign(new Error('unprocessed items'), { name: 'ThrottlingException' }),
          },
        );
      if (attempt > 0) await clock.sleep(backoffDelayMs(attempt, { baseMs: 25, maxMs: 1_000 }));
      const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
      pending = out.UnprocessedItems?.[tableName] ?? [];
    }
  }
}

/**
 * The parked-event store in DynamoDB, the adapter of {@link ParkedStorePort}: changes and records that could
 * not be applied, with their full payload, reason and error, kept until an operator replays or discards them
 * (docs/architecture.md contracts 5 and 6).
 *
 * @example
 * ```ts
 * const parked = new ParkedStore({ client, tableName: 'cdcp-parked' });
 * const items = await parked.listAggregate('public.orders#42');
 * ```
 */
class ParkedStore implements ParkedStorePort {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  /** Part counts of the items this store read, for deleting them. */
  readonly #partsOf = new WeakMap<object, number>();
  readonly #clock: Pick<Clock, 'sleep'>;

  public constructor(options: ParkedStoreOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#clock = options.clock ?? systemClock;
  }

  /** Parks each item with one conditional request (its parts in the same transaction); returns how many. */
  public async put(items: readonly ParkedItem[]): Promise<number> {
    const unique = firstOfEachKey(items);
    let added = 0;
    try {
      for (let i = 0; i < unique.length; i += PUT_CONCURRENCY) {
        const results = await Promise.all(
          unique.slice(i, i + PUT_CONCURRENCY).map((item) => this.#putOne(item)),
        );
        added += results.filter(Boolean).length;
      }
      return added;
    } catch (cause) {
      if (cause instanceof StateStoreError) throw cause;
      throw new StateStoreError(`parked store: cannot park ${items.length} item(s)`, {
        cause,
        operation: 'put',
      });
    }
  }

  public async relabel(labels: readonly ParkedLabel[]): Promise<void> {
    try {
      for (const label of firstOfEachKey(labels))
        await this.#client
          .send(
            new UpdateItemCommand({
              TableName: this.#tableName,
              Key: marshall({ [PARKED_TABLE.partitionKey]: label.pk, [PARKED_TABLE.sortKey]: label.sk }),
              UpdateExpression: 'SET #reason = :reason, #message = :message, #attempts = :attempts',
              ConditionExpression: STILL_PARKED,
              ExpressionAttributeNames: {
                '#pk': PARKED_TABLE.partitionKey,
                '#reason': 'reason',
                '#message': 'message',
                '#attempts': 'attempts',
              },
              ExpressionAttributeValues: marshall({
                ':reason': label.reason,
                ':message': boundedText(label.message),
                ':attempts': label.attempts,
              }),
            }),
          )
          .catch((error: unknown) => {
            if (!(error instanceof ConditionalCheckFailedException)) throw error;
          });
    } catch (cause) {
      throw new StateStoreError(`parked store: cannot relabel ${labels.length} item(s)`, {
        cause,
        operation: 'relabel',
      });
    }
  }

  /** True when the item was parked now, false when it was parked already. */
  async #putOne(item: ParkedItem): Promise<boolean> {
    const { main, parts, bodyBytes } = storedItemsOf(item);
    const condition = {
      ConditionExpression: NOT_PARKED_YET,
      ExpressionAttributeNames: { '#pk': PARKED_TABLE.partitionKey },
    };
    try {
      if (parts.length === 0)
        await this.#client.send(new PutItemCommand({ TableName: this.#tableName, Item: main, ...condition }));
      else if (bodyBytes <= MAX_TRANSACTION_BODY_BYTES)
        await this.#client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Put: { TableName: this.#tableName, Item: main, ...condition } },
              ...parts.map((Item) => ({ Put: { TableName: this.#tableName, Item } })),
            ],
          }),
        );
      else {
        // Too large for one transaction: parts first, so the item is never seen without them.
        const requests = parts.map((Item) => ({ PutRequest: { Item } }));
        await batchWrite(this.#client, this.#tableName, requests, 'put', this.#clock);
        await this.#client.send(new PutItemCommand({ TableName: this.#tableName, Item: main, ...condition }));
      }
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || cancelledByCondition(error)) return false;
      throw error;
    }
  }

  public async listAggregate(aggregateId: string): Promise<ParkedItem[]> {
    return this.#read({
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': PARKED_TABLE.partitionKey },
      ExpressionAttributeValues: marshall({ ':pk': `${AGGREGATE_PREFIX}${aggregateId}` }),
    });
  }

  /** Every parked item, assembled across pages. */
  public async scanAll(): Promise<ParkedItem[]> {
    return this.#read(undefined);
  }

  /**
   * Aggregates quarantined behind a poison change now: the parked items whose reason is `POISON` or
   * `UNSTORABLE`, one per quarantined aggregate. A Scan that returns counts, not items, reading at most
   * `maxPages` pages (of 1 MB, or `itemsPerPage` items); on a larger table `complete` is false and
   * `aggregates` a lower bound.
   */
  public async countQuarantined(
    options: { readonly maxPages?: number; readonly itemsPerPage?: number } = {},
  ): Promise<{ readonly aggregates: number; readonly complete: boolean }> {
    const maxPages = options.maxPages ?? 10;
    let aggregates = 0;
    let start: Record<string, AttributeValue> | undefined;
    try {
      for (let page = 0; page < maxPages; page++) {
        const out = await this.#client.send(
          new ScanCommand({
            TableName: this.#tableName,
            Select: 'COUNT',
            FilterExpression: '#reason IN (:poison, :unstorable)',
            ExpressionAttributeNames: { '#reason': 'reason' },
            ExpressionAttributeValues: marshall({
              ':poison': REASON.POISON,
              ':unstorable': REASON.UNSTORABLE,
            }),
            ExclusiveStartKey: start,
            Limit: options.itemsPerPage,
          }),
        );
        aggregates += out.Count ?? 0;
        start = out.LastEvaluatedKey;
        if (start === undefined) return { aggregates, complete: true };
      }
    } catch (cause) {
      throw new StateStoreError(
        `parked store: cannot count the quarantined aggregates of ${this.#tableName}`,
        {
          cause,
          operation: 'countQuarantined',
        },
      );
    }
    return { aggregates, complete: false };
  }

  /** Deletes items and their parts. */
  public async delete(items: readonly Pick<ParkedItem, 'pk' | 'sk'>[]): Promise<void> {
    if (items.length === 0) return;
    try {
      // How many parts an item has is what was read (or is read back), never recomputed, so a delete never
      // leaves parts behind.
      const requests: WriteRequest[] = [];
      for (const item of firstOfEachKey(items)) {
        const known = this.#partsOf.get(item);
        const out =
          known !== undefined
            ? { Item: marshall({ parts: known }) }
            : await this.#client.send(
                new GetItemCommand({
                  TableName: this.#tableName,
                  Key: marshall({ [PARKED_TABLE.partitionKey]: item.pk, [PARKED_TABLE.sortKey]: item.sk }),
                  ProjectionExpression: 'parts',
                }),
              );
        const parts = out.Item === undefined ? 0 : Number(unmarshall(out.Item).parts ?? 0);
        for (const sk of [item.sk, ...Array.from({ length: parts }, (_, i) => partKey(item.sk, i))])
          requests.push({
            DeleteRequest: {
              Key: marshall({ [PARKED_TABLE.partitionKey]: item.pk, [PARKED_TABLE.sortKey]: sk }),
            },
          });
      }
      await batchWrite(this.#client, this.#tableName, requests, 'delete', this.#clock);
    } catch (cause) {
      if (cause instanceof StateStoreError) throw cause;
      throw new StateStoreError(`parked store: cannot delete ${items.length} item(s)`, {
        cause,
        operation: 'delete',
      });
    }
  }

  /** Reads every page of a query (or, without a key condition, a scan) and assembles the items. */
  async #read(query: Omit<QueryCommandInput, 'TableName'> | undefined): Promise<ParkedItem[]> {
    const raw: Record<string, unknown>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    try {
      do {
        const out =
          query === undefined
            ? await this.#client.send(
                new ScanCommand({ TableName: this.#tableName, ExclusiveStartKey: start }),
              )
            : await this.#client.send(
                new QueryCommand({
                  ...query,
                  TableName: this.#tableName,
                  ConsistentRead: true,
                  ExclusiveStartKey: start,
                }),
              );
        raw.push(...(out.Items ?? []).map((i) => unmarshall(i)));
        start = out.LastEvaluatedKey;
      } while (start !== undefined);
    } catch (cause) {
      throw new StateStoreError(`parked store: cannot read ${this.#tableName}`, {
        cause,
        operation: query === undefined ? 'scanAll' : 'listAggregate',
      });
    }
    const { items, parts } = fromItems(raw);
    for (const [item, count] of parts) this.#partsOf.set(item, count);
    return items;
  }
}

export type { ParkedStoreOptions };
export { ParkedStore };
