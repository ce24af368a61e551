import {
  type AttributeValue,
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { STATE_TABLE } from '../constants.js';
import type { RowImage } from '../events/change.js';
import type { AggregateItem, PendingFailure, Quarantine } from './aggregate-item.js';
import { StateStoreError } from './errors.js';

const A = STATE_TABLE.attributes;

const NAMES = {
  '#pk': STATE_TABLE.partitionKey,
  '#pos': A.position,
  '#deleted': A.deleted,
  '#state': A.state,
  '#table': A.table,
  '#rev': A.revision,
  '#updatedAt': A.updatedAt,
  '#q': A.quarantine,
  '#lpk': A.lastParkedKey,
  '#pf': A.pendingFailure,
  '#ttl': A.ttl,
} as const;

/**
 * Blind write of a projection that does not read previous state: only a strictly newer position may
 * overwrite, so a replayed or concurrent older writer cannot regress state; a quarantined aggregate is never
 * written past its quarantine.
 */
const APPLY_IF_NEWER = '(attribute_not_exists(#pos) OR #pos < :pos) AND attribute_not_exists(#q)';
/** Read-modify-write: the item must still be the revision we read, else another writer came first. */
const SAME_REVISION = '#rev = :rev';
/** Read-modify-write of an aggregate that did not exist when we read it: a concurrent creator must win once. */
const STILL_ABSENT = 'attribute_not_exists(#pk)';
/** Lifting a quarantine: no change may have been parked behind it since replay read the parked list. */
const SAME_REVISION_AND_PARKED = '#rev = :rev AND #lpk = :lpk';

/** The new projected state of an aggregate, with the position of the last change it includes. */
interface StateValue {
  readonly table: string;
  readonly position: string;
  readonly deleted: boolean;
  readonly state: RowImage | null;
}

/** What one write changes; fields left undefined are kept. */
interface StateMutation {
  readonly value?: StateValue;
  readonly pendingFailure?: PendingFailure | null;
  readonly quarantine?: Quarantine | null;
  readonly lastParkedKey?: string;
}

/** Which condition guards a write. */
type WriteGuard =
  | { readonly kind: 'newer' }
  | { readonly kind: 'revision'; readonly expected: AggregateItem | undefined }
  | { readonly kind: 'lift-quarantine'; readonly expected: AggregateItem };

type WriteOutcome =
  | { readonly committed: true; readonly previous: AggregateItem | undefined }
  | { readonly committed: false; readonly current: AggregateItem | undefined };

interface StateStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** How long a tombstone is kept, in seconds. */
  readonly tombstoneTtlSeconds: number;
  /** Wall clock in epoch milliseconds (for updatedAt and TTL only, never for ordering). */
  readonly now?: () => number;
}

/** The item a read-modify-write guard expects; undefined for blind writes and new aggregates. */
function guardExpected(guard: WriteGuard): AggregateItem | undefined {
  return guard.kind === 'newer' ? undefined : guard.expected;
}

function toAggregateItem(raw: Record<string, AttributeValue> | undefined): AggregateItem | undefined {
  if (raw === undefined) return undefined;
  const item = unmarshall(raw);
  return {
    aggregateId: item[STATE_TABLE.partitionKey] as string,
    table: item[A.table] as string | undefined,
    position: item[A.position] as string | undefined,
    deleted: item[A.deleted] === true,
    state: (item[A.state] as RowImage | undefined) ?? null,
    revision: (item[A.revision] as number | undefined) ?? 0,
    quarantine: item[A.quarantine] as Quarantine | undefined,
    lastParkedKey: item[A.lastParkedKey] as string | undefined,
    pendingFailure: item[A.pendingFailure] as PendingFailure | undefined,
  };
}

/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_LIMIT = 100;

/**
 * The per-aggregate state table. Every write is conditional (docs/architecture.md contract 2): positions compare as
 * strings, and read-modify-write cycles are guarded by a revision counter.
 *
 * @example
 * ```ts
 * const store = new StateStore({ client, tableName: 'cdcp-state', tombstoneTtlSeconds: 2_592_000 });
 * const outcome = await store.write('public.orders#1', { value }, { kind: 'newer' });
 * ```
 */
class StateStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #tombstoneTtlSeconds: number;
  readonly #now: () => number;

  public constructor(options: StateStoreOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#tombstoneTtlSeconds = options.tombstoneTtlSeconds;
    this.#now = options.now ?? Date.now;
  }

  public get tableName(): string {
    return this.#tableName;
  }

  /** Strongly consistent read of one aggregate. */
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
      throw new StateStoreError(`state store: cannot read ${aggregateId}`, { cause, aggregateId });
    }
  }

  /** Strongly consistent read of many aggregates, 100 keys per request. */
  public async getMany(aggregateIds: readonly string[]): Promise<Map<string, AggregateItem>> {
    const found = new Map<string, AggregateItem>();
    for (let i = 0; i < aggregateIds.length; i += BATCH_GET_LIMIT) {
      let keys = aggregateIds
        .slice(i, i + BATCH_GET_LIMIT)
        .map((id) => marshall({ [STATE_TABLE.partitionKey]: id }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        const out = await this.#client
          .send(
            new BatchGetItemCommand({
              RequestItems: { [this.#tableName]: { Keys: keys, ConsistentRead: true } },
            }),
          )
          .catch((cause: unknown) => {
            throw new StateStoreError(`state store: cannot read ${keys.length} aggregates`, { cause });
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
   * Writes one aggregate under a guard. Losing the condition is a return value carrying the item that won,
   * so the caller can decide again without another read.
   */
  public async write(aggregateId: string, mutation: StateMutation, guard: WriteGuard): Promise<WriteOutcome> {
    const set: string[] = ['#updatedAt = :now'];
    const remove: string[] = [];
    const values: Record<string, unknown> = { ':now': new Date(this.#now()).toISOString(), ':one': 1 };
    const { value } = mutation;
    if (value !== undefined) {
      set.push('#pos = :pos', '#deleted = :deleted', '#table = :table');
      values[':pos'] = value.position;
      values[':deleted'] = value.deleted;
      values[':table'] = value.table;
      if (value.state === null) remove.push('#state');
      else {
        set.push('#state = :state');
        values[':state'] = value.state;
      }
    }
    // Tombstones expire; a live aggregate must not (a re-create after a delete clears the TTL), and neither may
    // an item that holds something back (a quarantine, a deferral, a pending failure): its expiry would drop
    // the position fence and the quarantine with it.
    const holdsBack =
      (mutation.quarantine !== undefined && mutation.quarantine !== null) ||
      (mutation.pendingFailure !== undefined && mutation.pendingFailure !== null) ||
      (mutation.quarantine === undefined && guardExpected(guard)?.quarantine !== undefined);
    const deletedAfter = value?.deleted ?? guardExpected(guard)?.deleted ?? false;
    if (deletedAfter && !holdsBack && (value !== undefined || mutation.quarantine === null)) {
      set.push('#ttl = :ttl');
      values[':ttl'] = Math.floor(this.#now() / 1000) + this.#tombstoneTtlSeconds;
    } else if (!deletedAfter || holdsBack) remove.push('#ttl');
    if (mutation.pendingFailure === null) remove.push('#pf');
    else if (mutation.pendingFailure !== undefined) {
      set.push('#pf = :pf');
      values[':pf'] = mutation.pendingFailure;
    }
    if (mutation.quarantine === null) remove.push('#q');
    else if (mutation.quarantine !== undefined) {
      set.push('#q = :q');
      values[':q'] = mutation.quarantine;
    }
    if (mutation.lastParkedKey !== undefined) {
      set.push('#lpk = :lpk');
      values[':lpk'] = mutation.lastParkedKey;
    }

    let condition: string;
    if (guard.kind === 'newer') {
      if (value === undefined) throw new TypeError('a blind write (guard newer) needs a value');
      condition = APPLY_IF_NEWER;
    } else if (guard.kind === 'revision') {
      if (guard.expected === undefined) condition = STILL_ABSENT;
      else {
        condition = SAME_REVISION;
        values[':rev'] = guard.expected.revision;
      }
    } else {
      condition = SAME_REVISION_AND_PARKED;
      values[':rev'] = guard.expected.revision;
      values[':lpk'] = guard.expected.lastParkedKey;
    }
    const expression = `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''} ADD #rev :one`;
    const used = `${expression} ${condition}`;
    const names = Object.fromEntries(Object.entries(NAMES).filter(([k]) => used.includes(k)));
    try {
      const out = await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: marshall({ [STATE_TABLE.partitionKey]: aggregateId }),
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }),
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { committed: true, previous: toAggregateItem(out.Attributes) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        return { committed: false, current: toAggregateItem(error.Item) };
      throw new StateStoreError(`state store: cannot write ${aggregateId}`, { cause: error, aggregateId });
    }
  }
}

export type { StateMutation, StateStoreOptions, StateValue, WriteGuard, WriteOutcome };
export { StateStore };
