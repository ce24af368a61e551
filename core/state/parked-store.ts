import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { PARKED_TABLE } from '../constants.js';
import type { ChangeEvent } from '../events/change.js';
import type { ReasonCode } from '../events/reason-codes.js';
import { StateStoreError } from './errors.js';
import { AGGREGATE_PREFIX, type ParkedItem, type ParkedRecord } from './parked-item.js';
import type { ParkedStorePort } from './parked-store-port.js';

/**
 * DynamoDB items are limited to 400 KB; a Kinesis record may hold 1 MiB (1.4 MB in base64) and the decoded
 * change can be as large again. The record and the change are stored together as one JSON body, split into
 * part items that sort right after their main item when it is too large, so nothing is lost.
 */
const MAX_INLINE_BODY_BYTES = 300_000;
const PART_MARK = '~part~';
/** BatchWriteItem takes at most 25 requests. */
const BATCH_WRITE_LIMIT = 25;

interface ParkedStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

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

function toWriteRequests(item: ParkedItem): WriteRequest[] {
  const body = JSON.stringify({ record: item.record, change: item.change } satisfies Body);
  const parts =
    Buffer.byteLength(body) > MAX_INLINE_BODY_BYTES ? chunksOf(body, MAX_INLINE_BODY_BYTES) : undefined;
  const main = {
    [PARKED_TABLE.partitionKey]: item.pk,
    [PARKED_TABLE.sortKey]: item.sk,
    reason: item.reason,
    message: item.message,
    aggregateId: item.aggregateId,
    body: parts === undefined ? body : undefined,
    parts: parts?.length,
    attempts: item.attempts,
    parkedAt: item.parkedAt,
  };
  const requests: WriteRequest[] = [
    { PutRequest: { Item: marshall(main, { removeUndefinedValues: true }) } },
  ];
  parts?.forEach((chunk, i) => {
    requests.push({
      PutRequest: {
        Item: marshall({
          [PARKED_TABLE.partitionKey]: item.pk,
          [PARKED_TABLE.sortKey]: partKey(item.sk, i),
          partOf: item.sk,
          body: chunk,
        }),
      },
    });
  });
  return requests;
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
    const body = JSON.parse(text ?? '{}') as Body;
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

/** One of each key, the last given: BatchWriteItem refuses a request that names a key twice. */
function lastOfEachKey<T extends Pick<ParkedItem, 'pk' | 'sk'>>(items: readonly T[]): T[] {
  return [...new Map(items.map((i) => [JSON.stringify([i.pk, i.sk]), i])).values()];
}

async function batchWrite(
  client: DynamoDBClient,
  tableName: string,
  requests: WriteRequest[],
  operation: 'put' | 'delete',
): Promise<void> {
  for (let i = 0; i < requests.length; i += BATCH_WRITE_LIMIT) {
    let pending: WriteRequest[] = requests.slice(i, i + BATCH_WRITE_LIMIT);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
      const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
      pending = out.UnprocessedItems?.[tableName] ?? [];
      if (attempt > 12 && pending.length > 0)
        throw new StateStoreError(`parked store: ${pending.length} writes stayed unprocessed after retries`, {
          operation,
        });
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

  public constructor(options: ParkedStoreOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
  }

  public async put(items: readonly ParkedItem[]): Promise<void> {
    if (items.length === 0) return;
    try {
      await batchWrite(this.#client, this.#tableName, lastOfEachKey(items).flatMap(toWriteRequests), 'put');
    } catch (cause) {
      if (cause instanceof StateStoreError) throw cause;
      throw new StateStoreError(`parked store: cannot park ${items.length} item(s)`, {
        cause,
        operation: 'put',
      });
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

  /** Deletes items and their parts. */
  public async delete(items: readonly Pick<ParkedItem, 'pk' | 'sk'>[]): Promise<void> {
    if (items.length === 0) return;
    try {
      // How many parts an item has is what was read (or is read back), never recomputed, so a delete never
      // leaves parts behind.
      const requests: WriteRequest[] = [];
      for (const item of lastOfEachKey(items)) {
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
      await batchWrite(this.#client, this.#tableName, requests, 'delete');
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
