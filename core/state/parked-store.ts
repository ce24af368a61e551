import {
  BatchWriteItemCommand,
  type DynamoDBClient,
  QueryCommand,
  ScanCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { PARKED_TABLE } from '../constants.js';
import type { ChangeEvent } from '../events/change.js';
import type { ReasonCode } from '../events/reason-codes.js';
import { StateStoreError } from './errors.js';
import { AGGREGATE_PREFIX, type ParkedItem, type ParkedRecord } from './parked-item.js';

/**
 * DynamoDB items are limited to 400 KB; a Kinesis record may hold 1 MiB (1.4 MB in base64). Larger payloads
 * are split into part items that sort right after their main item, so nothing is lost.
 */
const MAX_INLINE_DATA_CHARS = 300_000;
const PART_MARK = '~part~';
/** BatchWriteItem takes at most 25 requests. */
const BATCH_WRITE_LIMIT = 25;

interface ParkedStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

interface ParkedPage {
  readonly items: readonly ParkedItem[];
  /** Pass back to continue; undefined at the end. */
  readonly next: Record<string, unknown> | undefined;
}

function toWriteRequests(item: ParkedItem): WriteRequest[] {
  const { record } = item;
  const parts =
    record.data.length > MAX_INLINE_DATA_CHARS
      ? Array.from({ length: Math.ceil(record.data.length / MAX_INLINE_DATA_CHARS) }, (_, i) =>
          record.data.slice(i * MAX_INLINE_DATA_CHARS, (i + 1) * MAX_INLINE_DATA_CHARS),
        )
      : undefined;
  const main = {
    [PARKED_TABLE.partitionKey]: item.pk,
    [PARKED_TABLE.sortKey]: item.sk,
    reason: item.reason,
    message: item.message,
    aggregateId: item.aggregateId,
    change: item.change === undefined ? undefined : JSON.stringify(item.change),
    record: { ...record, data: parts === undefined ? record.data : '' },
    parts: parts?.length,
    attempts: item.attempts,
    parkedAt: item.parkedAt,
  };
  const requests: WriteRequest[] = [
    { PutRequest: { Item: marshall(main, { removeUndefinedValues: true }) } },
  ];
  parts?.forEach((data, i) => {
    requests.push({
      PutRequest: {
        Item: marshall({
          [PARKED_TABLE.partitionKey]: item.pk,
          [PARKED_TABLE.sortKey]: `${item.sk}${PART_MARK}${String(i).padStart(4, '0')}`,
          partOf: item.sk,
          data,
        }),
      },
    });
  });
  return requests;
}

/** Reassembles main items and their parts (which follow them in sort-key order). */
function fromItems(raw: readonly Record<string, unknown>[]): ParkedItem[] {
  const items: ParkedItem[] = [];
  const parts = new Map<string, string[]>();
  for (const r of raw) {
    if (typeof r.partOf === 'string') {
      const list = parts.get(`${r[PARKED_TABLE.partitionKey]}|${r.partOf}`) ?? [];
      list.push(r.data as string);
      parts.set(`${r[PARKED_TABLE.partitionKey]}|${r.partOf}`, list);
    }
  }
  for (const r of raw) {
    if (typeof r.partOf === 'string') continue;
    const pk = r[PARKED_TABLE.partitionKey] as string;
    const sk = r[PARKED_TABLE.sortKey] as string;
    const record = r.record as ParkedRecord;
    const data = typeof r.parts === 'number' ? (parts.get(`${pk}|${sk}`) ?? []).join('') : record.data;
    items.push({
      pk,
      sk,
      reason: r.reason as ReasonCode,
      message: r.message as string,
      aggregateId: r.aggregateId as string | undefined,
      change: typeof r.change === 'string' ? (JSON.parse(r.change) as ChangeEvent) : undefined,
      record: { ...record, data },
      attempts: (r.attempts as number | undefined) ?? 0,
      parkedAt: r.parkedAt as string,
    });
  }
  return items;
}

async function batchWrite(
  client: DynamoDBClient,
  tableName: string,
  requests: WriteRequest[],
): Promise<void> {
  for (let i = 0; i < requests.length; i += BATCH_WRITE_LIMIT) {
    let pending: WriteRequest[] = requests.slice(i, i + BATCH_WRITE_LIMIT);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
      const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
      pending = out.UnprocessedItems?.[tableName] ?? [];
      if (attempt > 12 && pending.length > 0)
        throw new StateStoreError(`parked store: ${pending.length} writes stayed unprocessed after retries`);
    }
  }
}

/**
 * The parked-event store: changes and records that could not be applied, with their full payload, reason
 * and error, kept until an operator replays or discards them (DESIGN.md contracts 5 and 6).
 *
 * @example
 * ```ts
 * const parked = new ParkedStore({ client, tableName: 'cdcp-parked' });
 * const items = await parked.listAggregate('public.orders#42');
 * ```
 */
class ParkedStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;

  public constructor(options: ParkedStoreOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
  }

  /** Puts the items; idempotent (a redelivered change overwrites its own item). */
  public async put(items: readonly ParkedItem[]): Promise<void> {
    if (items.length === 0) return;
    try {
      await batchWrite(this.#client, this.#tableName, items.flatMap(toWriteRequests));
    } catch (cause) {
      if (cause instanceof StateStoreError) throw cause;
      throw new StateStoreError(`parked store: cannot park ${items.length} item(s)`, { cause });
    }
  }

  /** One aggregate's parked changes in source order. */
  public async listAggregate(aggregateId: string): Promise<ParkedItem[]> {
    return this.#query(`${AGGREGATE_PREFIX}${aggregateId}`);
  }

  /** Every parked item, one page at a time. */
  public async scan(next?: Record<string, unknown>, limit = 500): Promise<ParkedPage> {
    const out = await this.#client.send(
      new ScanCommand({
        TableName: this.#tableName,
        Limit: limit,
        ExclusiveStartKey: next === undefined ? undefined : marshall(next),
      }),
    );
    return {
      items: fromItems((out.Items ?? []).map((i) => unmarshall(i))),
      next: out.LastEvaluatedKey === undefined ? undefined : unmarshall(out.LastEvaluatedKey),
    };
  }

  /** Every parked item (all pages). */
  public async scanAll(): Promise<ParkedItem[]> {
    const all: ParkedItem[] = [];
    let next: Record<string, unknown> | undefined;
    do {
      const page = await this.scan(next);
      all.push(...page.items);
      next = page.next;
    } while (next !== undefined);
    return all;
  }

  /** Deletes items and their parts. */
  public async delete(items: readonly Pick<ParkedItem, 'pk' | 'sk' | 'record'>[]): Promise<void> {
    const requests: WriteRequest[] = items.flatMap((item) => {
      const parts = Math.ceil(item.record.data.length / MAX_INLINE_DATA_CHARS);
      const keys = [item.sk];
      if (item.record.data.length > MAX_INLINE_DATA_CHARS)
        for (let i = 0; i < parts; i++) keys.push(`${item.sk}${PART_MARK}${String(i).padStart(4, '0')}`);
      return keys.map((sk) => ({
        DeleteRequest: {
          Key: marshall({ [PARKED_TABLE.partitionKey]: item.pk, [PARKED_TABLE.sortKey]: sk }),
        },
      }));
    });
    await batchWrite(this.#client, this.#tableName, requests);
  }

  async #query(pk: string): Promise<ParkedItem[]> {
    const raw: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.#client.send(
        new QueryCommand({
          TableName: this.#tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': PARKED_TABLE.partitionKey },
          ExpressionAttributeValues: marshall({ ':pk': pk }),
          ConsistentRead: true,
          ExclusiveStartKey: start === undefined ? undefined : marshall(start),
        }),
      );
      raw.push(...(out.Items ?? []).map((i) => unmarshall(i)));
      start = out.LastEvaluatedKey === undefined ? undefined : unmarshall(out.LastEvaluatedKey);
    } while (start !== undefined);
    return fromItems(raw);
  }
}

export type { ParkedPage, ParkedStoreOptions };
export { ParkedStore };
