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
import { positiveInteger } from '../coordination/validate.js';
import type { RowImage } from '../events/change.js';
import type { AggregateItem, PendingFailure, Quarantine } from './aggregate-item.js';
import { StateStoreError } from './errors.js';
import { stateFromAttribute, stateToAttribute } from './state-attribute.js';
import { type AttributeChanges, attributeChanges, type RemovableAttribute } from './state-changes.js';
import type { StateMutation, StateStorePort, WriteGuard, WriteOutcome } from './state-store-port.js';

const A = STATE_TABLE.attributes;

/** Placeholder names of the attributes a write sets or removes. */
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

/** The placeholder of each attribute `attributeChanges` speaks of. */
const PLACEHOLDERS: Readonly<Record<keyof AttributeChanges['set'] | RemovableAttribute, keyof typeof NAMES>> =
  {
    updatedAt: '#updatedAt',
    position: '#pos',
    deleted: '#deleted',
    table: '#table',
    state: '#state',
    pendingFailure: '#pf',
    quarantine: '#q',
    lastParkedKey: '#lpk',
    ttlEpochSeconds: '#ttl',
  };

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
const SAME_REVISION_AND_PARKED = '#rev = :rev AND #lpk = :lpkRead';

/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_LIMIT = 100;

interface StateStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** How long a tombstone is kept, in seconds. */
  readonly tombstoneTtlSeconds: number;
  /** Wall clock in epoch milliseconds (for updatedAt and TTL only, never for ordering). */
  readonly now?: () => number;
}

function toAggregateItem(raw: Record<string, AttributeValue> | undefined): AggregateItem | undefined {
  if (raw === undefined) return undefined;
  // The state goes through its own converter: `unmarshall` would give a `__proto__` column to the prototype.
  const { [A.state]: state, ...rest } = raw;
  const item = unmarshall(rest);
  return {
    aggregateId: item[STATE_TABLE.partitionKey] as string,
    table: item[A.table] as string | undefined,
    position: item[A.position] as string | undefined,
    deleted: item[A.deleted] === true,
    state: state === undefined ? null : stateFromAttribute(state),
    revision: (item[A.revision] as number | undefined) ?? 0,
    quarantine: item[A.quarantine] as Quarantine | undefined,
    lastParkedKey: item[A.lastParkedKey] as string | undefined,
    pendingFailure: item[A.pendingFailure] as PendingFailure | undefined,
    ttlEpochSeconds: item[A.ttl] as number | undefined,
  };
}

/** The condition of a guard and the values it compares against. */
function conditionOf(guard: WriteGuard, mutation: StateMutation): { expression: string; values: object } {
  if (guard.kind === 'newer')
    return { expression: APPLY_IF_NEWER, values: { ':pos': mutation.value?.position } };
  if (guard.kind === 'revision')
    return guard.expected === undefined
      ? { expression: STILL_ABSENT, values: {} }
      : { expression: SAME_REVISION, values: { ':rev': guard.expected.revision } };
  return {
    expression: SAME_REVISION_AND_PARKED,
    values: { ':rev': guard.expected.revision, ':lpkRead': guard.expected.lastParkedKey },
  };
}

/** The UpdateItem parameters that apply `changes` under `condition` and add one to the revision. */
function updateOf(changes: AttributeChanges, condition: { expression: string; values: object }) {
  const sets: string[] = [];
  const values: Record<string, AttributeValue> = { ':one': { N: '1' } };
  for (const [name, value] of Object.entries(changes.set) as [keyof AttributeChanges['set'], unknown][]) {
    if (value === undefined) continue;
    const placeholder = PLACEHOLDERS[name];
    sets.push(`${placeholder} = :${placeholder.slice(1)}`);
    values[`:${placeholder.slice(1)}`] =
      name === 'state'
        ? stateToAttribute(value as RowImage)
        : marshall({ v: value }, { removeUndefinedValues: true }).v!;
  }
  const removes = changes.remove.map((name) => PLACEHOLDERS[name]);
  const expression = `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''} ADD #rev :one`;
  const used = `${expression} ${condition.expression}`;
  return {
    UpdateExpression: expression,
    ConditionExpression: condition.expression,
    ExpressionAttributeNames: Object.fromEntries(Object.entries(NAMES).filter(([k]) => used.includes(k))),
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

  public constructor(options: StateStoreOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#tombstoneTtlSeconds = positiveInteger('tombstoneTtlSeconds', options.tombstoneTtlSeconds);
    this.#now = options.now ?? Date.now;
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
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
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

  public async write(aggregateId: string, mutation: StateMutation, guard: WriteGuard): Promise<WriteOutcome> {
    const changes = attributeChanges(mutation, guard, this.#now(), this.#tombstoneTtlSeconds);
    try {
      const out = await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: marshall({ [STATE_TABLE.partitionKey]: aggregateId }),
          ...updateOf(changes, conditionOf(guard, mutation)),
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { committed: true, previous: toAggregateItem(out.Attributes) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        return { committed: false, current: toAggregateItem(error.Item) };
      throw new StateStoreError(`state store: cannot write ${aggregateId}`, {
        cause: error,
        aggregateId,
        operation: 'write',
      });
    }
  }
}

export type { StateStoreOptions };
export { StateStore };
