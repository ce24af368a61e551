import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { messageOf, OptionsError } from '../errors.js';
import {
  HANDOFF_REQUESTED_FOR_CALLER,
  INSTANCE_ABSENT,
  INSTANCE_COUNTER_UNCHANGED,
  INSTANCE_PRESENT,
  LEASE_ABSENT,
  LEASE_GRANT_IS,
  LEASE_GRANT_UNCHANGED,
  LEASE_HELD_BY_CALLER,
  LEASE_IS_FREE,
  LEASE_VERSION_UNCHANGED,
  MEMBER_BEAT_UNCHANGED,
} from './conditions.js';
import { CoordinationStoreError } from './errors.js';
import {
  ATTRIBUTE_NAMES as A,
  attributeNamesFor,
  attributeValues,
  type Item,
  instanceFromItem,
  keyItem,
  leaseFromItem,
  membershipFromItem,
  storedMemberEntry,
} from './item-mapping.js';
import { INSTANCE_PK, type ItemKey, instanceKey, keyString } from './keys.js';
import type { InstanceRecord, LeaseRecord, MemberEntry, MembershipItem } from './records.js';
import type {
  CoordinationStore,
  CreateLeaseRequest,
  GrantLeaseRequest,
  HandOffLeaseRequest,
  HeartbeatInstanceRequest,
  HolderWrite,
  LeaseWriteResult,
  RegisterInstanceRequest,
  RenewLeaseRequest,
} from './store.js';

interface DynamoDbCoordinationStoreOptions {
  readonly client: DynamoDBClient;
  /** The coordination table (pk S, sk S, TTL on `ttl`). */
  readonly tableName: string;
}

const TRANSIENT_ERROR_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TransactionConflictException',
]);
const TRANSIENT_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND']);

/** Whether sending the same request again may succeed (throttling, timeouts, dropped connections, 5xx). */
function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const e = error as Error & { code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  return (
    TRANSIENT_ERROR_NAMES.has(e.name) ||
    (e.code !== undefined && TRANSIENT_ERROR_CODES.has(e.code)) ||
    e.$retryable !== undefined ||
    (e.$metadata?.httpStatusCode ?? 0) >= 500
  );
}

/** DynamoDB's answer to an update of a key inside a map that does not exist yet. */
function isMissingDocumentPath(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'ValidationException' &&
    /document path provided in the update expression is invalid/i.test(error.message)
  );
}

/**
 * The coordination table on DynamoDB. Every write is one conditional request with a named condition
 * (`conditions.ts`); a failed condition returns the item that won (`ALL_OLD`) instead of throwing, and a
 * retried request whose first attempt was applied (lost response) is recognised by its version token.
 *
 * @example
 * ```ts
 * const store = new DynamoDbCoordinationStore({ client: new DynamoDBClient({}), tableName: 'cdcp-coordination' });
 * const locks = new LockClient({ store, ownerId: instanceId });
 * ```
 */
class DynamoDbCoordinationStore implements CoordinationStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;

  public constructor(options: DynamoDbCoordinationStoreOptions) {
    if (typeof options.tableName !== 'string' || options.tableName.length < 3)
      throw new OptionsError('tableName', options.tableName, 'must name the coordination table');
    this.#client = options.client;
    this.#tableName = options.tableName;
  }

  public get tableName(): string {
    return this.#tableName;
  }

  public async getLease(key: ItemKey): Promise<LeaseRecord | undefined> {
    const { Item } = await this.#send('getLease', key, () =>
      this.#client.send(
        new GetItemCommand({ TableName: this.#tableName, Key: keyItem(key), ConsistentRead: true }),
      ),
    );
    return leaseFromItem(Item);
  }

  public async listLeases(pk: string): Promise<LeaseRecord[]> {
    const items = await this.#query(pk);
    return items.map((i) => leaseFromItem(i)!);
  }

  public createLease(key: ItemKey, request: CreateLeaseRequest): Promise<LeaseWriteResult> {
    return this.#leaseWrite('createLease', key, request.version, () =>
      this.#client.send(
        new PutItemCommand({
          TableName: this.#tableName,
          Item: marshall(
            {
              [A.pk]: key.pk,
              [A.sk]: key.sk,
              [A.fence]: 0,
              [A.version]: request.version,
              [A.leaseDurationMs]: request.leaseDurationMs,
              [A.renewal]: request.renewal,
              [A.data]: request.data,
            },
            { removeUndefinedValues: true },
          ),
          ConditionExpression: LEASE_ABSENT,
          ExpressionAttributeNames: attributeNamesFor(LEASE_ABSENT),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
  }

  public grantLease(key: ItemKey, request: GrantLeaseRequest): Promise<LeaseWriteResult> {
    const { expect } = request;
    const condition =
      'free' in expect ? LEASE_IS_FREE : 'version' in expect ? LEASE_VERSION_UNCHANGED : LEASE_GRANT_IS;
    const update =
      'SET #owner = :owner, #version = :version, #leaseDurationMs = :leaseDurationMs, #renewal = :renewal, ' +
      '#grantedAt = :wallMs, #renewedAt = :wallMs, #data = if_not_exists(#data, :emptyData) ' +
      'REMOVE #pendingOwner, #handOffAccepted, #successor ADD #fence :one';
    return this.#update('grantLease', key, request.version, update, condition, {
      ':expectedOwner': 'grant' in expect ? expect.grant.owner : undefined,
      ':expectedFence': 'grant' in expect ? expect.grant.fence : undefined,
      ':owner': request.owner,
      ':version': request.version,
      ':leaseDurationMs': request.leaseDurationMs,
      ':renewal': request.renewal,
      ':wallMs': request.wallMs,
      ':emptyData': {},
      ':one': 1,
      ':expectedVersion': 'version' in expect ? expect.version : undefined,
    });
  }

  public renewLease(key: ItemKey, request: RenewLeaseRequest): Promise<LeaseWriteResult> {
    const update = `SET #version = :version, #renewedAt = :wallMs${request.data === undefined ? '' : ', #data = :data'}`;
    return this.#update('renewLease', key, request.version, update, LEASE_HELD_BY_CALLER, {
      ':owner': request.owner,
      ':fence': request.fence,
      ':version': request.version,
      ':wallMs': request.wallMs,
      ':data': request.data,
    });
  }

  public releaseLease(key: ItemKey, request: HolderWrite): Promise<LeaseWriteResult> {
    const update =
      'SET #version = :version, #renewedAt = :wallMs REMOVE #owner, #pendingOwner, #handOffAccepted, #successor';
    return this.#update('releaseLease', key, request.version, update, LEASE_HELD_BY_CALLER, {
      ':owner': request.owner,
      ':fence': request.fence,
      ':version': request.version,
      ':wallMs': request.wallMs,
    });
  }

  public handOffLease(key: ItemKey, request: HandOffLeaseRequest): Promise<LeaseWriteResult> {
    const update =
      'SET #owner = :to, #version = :version, #grantedAt = :wallMs, #renewedAt = :wallMs ' +
      'REMOVE #pendingOwner, #handOffAccepted, #successor ADD #fence :one';
    return this.#update('handOffLease', key, request.version, update, LEASE_HELD_BY_CALLER, {
      ':owner': request.owner,
      ':fence': request.fence,
      ':to': request.to,
      ':version': request.version,
      ':wallMs': request.wallMs,
      ':one': 1,
    });
  }

  public requestHandOff(
    key: ItemKey,
    request: { readonly fence: number; readonly to: string },
  ): Promise<LeaseWriteResult> {
    const update = 'SET #pendingOwner = :to REMOVE #handOffAccepted';
    return this.#update('requestHandOff', key, undefined, update, LEASE_GRANT_UNCHANGED, {
      ':fence': request.fence,
      ':to': request.to,
    });
  }

  public acceptHandOff(
    key: ItemKey,
    request: { readonly fence: number; readonly to: string },
  ): Promise<LeaseWriteResult> {
    const update = 'SET #handOffAccepted = :fence';
    return this.#update('acceptHandOff', key, undefined, update, HANDOFF_REQUESTED_FOR_CALLER, {
      ':fence': request.fence,
      ':to': request.to,
    });
  }

  public setSuccessor(
    key: ItemKey,
    request: { readonly owner: string; readonly fence: number; readonly successor: string | undefined },
  ): Promise<LeaseWriteResult> {
    const update = request.successor === undefined ? 'REMOVE #successor' : 'SET #successor = :successor';
    return this.#update('setSuccessor', key, undefined, update, LEASE_GRANT_IS, {
      ':expectedOwner': request.owner,
      ':expectedFence': request.fence,
      ':successor': request.successor,
    });
  }

  public async beatMember(key: ItemKey, memberId: string, entry: MemberEntry): Promise<MembershipItem> {
    const send = () =>
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: keyItem(key),
          UpdateExpression: 'SET #members.#member = :entry',
          ExpressionAttributeNames: { '#members': A.members, '#member': memberId },
          ExpressionAttributeValues: attributeValues({ ':entry': storedMemberEntry(entry) }),
          ReturnValues: 'ALL_NEW',
        }),
      );
    const { Attributes } = await this.#send('beatMember', key, () => this.#withMembershipItem(key, send));
    return membershipFromItem(Attributes);
  }

  public async readMemberships(keys: readonly ItemKey[]): Promise<MembershipItem[]> {
    const found = new Map<string, Item>();
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Item[] | undefined = keys.slice(i, i + 100).map((k) => keyItem(k));
      for (let attempt = 0; pending !== undefined && pending.length > 0; attempt++) {
        const request = pending;
        const output = await this.#send('readMemberships', keys[i]!, () =>
          this.#client.send(
            new BatchGetItemCommand({
              RequestItems: { [this.#tableName]: { Keys: request, ConsistentRead: true } },
            }),
          ),
        );
        for (const item of output.Responses?.[this.#tableName] ?? [])
          found.set(`${item[A.pk]?.S}/${item[A.sk]?.S}`, item);
        pending = output.UnprocessedKeys?.[this.#tableName]?.Keys as Item[] | undefined;
        if (pending !== undefined && pending.length > 0 && attempt >= 5)
          throw new CoordinationStoreError(
            `readMemberships on ${this.#tableName}: ${pending.length} keys still unprocessed after ${attempt + 1} attempts`,
            { operation: 'readMemberships', key: keyString(keys[i]!), retryable: true },
          );
      }
    }
    return keys.map((k) => membershipFromItem(found.get(keyString(k))));
  }

  public async removeMember(
    key: ItemKey,
    memberId: string,
    expected?: { readonly beat: number },
  ): Promise<boolean> {
    const condition = expected === undefined ? 'attribute_exists(#members.#member)' : MEMBER_BEAT_UNCHANGED;
    try {
      await this.#send('removeMember', key, () =>
        this.#client.send(
          new UpdateItemCommand({
            TableName: this.#tableName,
            Key: keyItem(key),
            UpdateExpression: 'REMOVE #members.#member, #mail.#member',
            ConditionExpression: condition,
            ExpressionAttributeNames: {
              '#members': A.members,
              '#mail': A.mail,
              '#member': memberId,
              ...(expected === undefined ? {} : { '#beat': A.beat }),
            },
            ...(expected === undefined
              ? {}
              : { ExpressionAttributeValues: attributeValues({ ':beat': expected.beat }) }),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Gone already (never there, removed by someone else, or by our attempt whose response was lost).
      return !membershipFromItem(error.Item).members.has(memberId);
    }
  }

  public async mailMembers(key: ItemKey, memberIds: readonly string[], token: string): Promise<void> {
    const ids = [...new Set(memberIds)];
    for (let i = 0; i < ids.length; i += 50) {
      const chunk = ids.slice(i, i + 50);
      const names: Record<string, string> = { '#mail': A.mail };
      chunk.forEach((id, n) => {
        names[`#m${n}`] = id;
      });
      const update = `SET ${chunk.map((_, n) => `#mail.#m${n} = :token`).join(', ')}`;
      const send = () =>
        this.#client.send(
          new UpdateItemCommand({
            TableName: this.#tableName,
            Key: keyItem(key),
            UpdateExpression: update,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: attributeValues({ ':token': token }),
          }),
        );
      await this.#send('mailMembers', key, () => this.#withMembershipItem(key, send));
    }
  }

  /**
   * Sends a write into a membership item's maps; if the item (or its maps) does not exist yet, creates the
   * empty maps first and sends it again. One update cannot create a map and set a key inside it.
   */
  async #withMembershipItem<T>(key: ItemKey, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (!isMissingDocumentPath(error)) throw error;
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: keyItem(key),
          UpdateExpression:
            'SET #members = if_not_exists(#members, :empty), #mail = if_not_exists(#mail, :empty)',
          ExpressionAttributeNames: { '#members': A.members, '#mail': A.mail },
          ExpressionAttributeValues: attributeValues({ ':empty': {} }),
        }),
      );
      return send();
    }
  }

  public async getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    const key = instanceKey(instanceId);
    const { Item } = await this.#send('getInstance', key, () =>
      this.#client.send(
        new GetItemCommand({ TableName: this.#tableName, Key: keyItem(key), ConsistentRead: true }),
      ),
    );
    return instanceFromItem(Item);
  }

  public async listInstances(): Promise<InstanceRecord[]> {
    const items = await this.#query(INSTANCE_PK);
    return items.map((i) => instanceFromItem(i)!);
  }

  public async registerInstance(request: RegisterInstanceRequest): Promise<boolean> {
    const key = instanceKey(request.instanceId);
    try {
      await this.#send('registerInstance', key, () =>
        this.#client.send(
          new PutItemCommand({
            TableName: this.#tableName,
            Item: marshall(
              {
                [A.pk]: key.pk,
                [A.sk]: key.sk,
                [A.kind]: request.kind,
                [A.incarnation]: request.incarnation,
                [A.startedAt]: request.wallMs,
                [A.heartbeat]: 0,
                [A.heartbeatAt]: request.wallMs,
                [A.load]: request.load,
                [A.configVersion]: request.configVersion,
                [A.hotKeys]: request.hotKeys ?? [],
                [A.ttl]: request.ttlEpochSeconds,
              },
              { removeUndefinedValues: true },
            ),
            ConditionExpression: INSTANCE_ABSENT,
            ExpressionAttributeNames: attributeNamesFor(INSTANCE_ABSENT),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Our own registration applied by an earlier attempt whose response was lost.
      return instanceFromItem(error.Item)?.incarnation === request.incarnation;
    }
  }

  public async heartbeatInstance(
    instanceId: string,
    request: HeartbeatInstanceRequest,
  ): Promise<InstanceRecord | undefined> {
    const key = instanceKey(instanceId);
    const update =
      'SET #heartbeatAt = :wallMs, #load = :load, #hotKeys = :hotKeys, #ttl = :ttl' +
      (request.configVersion === undefined ? '' : ', #configVersion = :configVersion') +
      ' ADD #heartbeat :one';
    try {
      const { Attributes } = await this.#send('heartbeatInstance', key, () =>
        this.#client.send(
          new UpdateItemCommand({
            TableName: this.#tableName,
            Key: keyItem(key),
            UpdateExpression: update,
            ConditionExpression: INSTANCE_PRESENT,
            ExpressionAttributeNames: attributeNamesFor(update, INSTANCE_PRESENT),
            ExpressionAttributeValues: attributeValues({
              ':wallMs': request.wallMs,
              ':load': request.load,
              ':hotKeys': request.hotKeys,
              ':ttl': request.ttlEpochSeconds,
              ':configVersion': request.configVersion,
              ':one': 1,
            }),
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return instanceFromItem(Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  public async deregisterInstance(instanceId: string): Promise<void> {
    const key = instanceKey(instanceId);
    await this.#send('deregisterInstance', key, () =>
      this.#client.send(new DeleteItemCommand({ TableName: this.#tableName, Key: keyItem(key) })),
    );
  }

  public async removeInstance(
    instanceId: string,
    expected: { readonly heartbeat: number },
  ): Promise<boolean> {
    const key = instanceKey(instanceId);
    try {
      await this.#send('removeInstance', key, () =>
        this.#client.send(
          new DeleteItemCommand({
            TableName: this.#tableName,
            Key: keyItem(key),
            ConditionExpression: INSTANCE_COUNTER_UNCHANGED,
            ExpressionAttributeNames: attributeNamesFor(INSTANCE_COUNTER_UNCHANGED),
            ExpressionAttributeValues: attributeValues({ ':heartbeat': expected.heartbeat }),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Gone already (removed by another observer, or by our attempt whose response was lost): removed.
      return instanceFromItem(error.Item) === undefined;
    }
  }

  async #update(
    operation: string,
    key: ItemKey,
    token: string | undefined,
    update: string,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<LeaseWriteResult> {
    const used = new Set([...`${update} ${condition}`.matchAll(/:(\w+)/g)].map((m) => `:${m[1]}`));
    const picked = Object.fromEntries(
      Object.entries(values).filter(([k, v]) => used.has(k) && v !== undefined),
    );
    return this.#leaseWrite(operation, key, token, () =>
      this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: keyItem(key),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: attributeNamesFor(update, condition),
          ExpressionAttributeValues: attributeValues(picked),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
  }

  async #leaseWrite(
    operation: string,
    key: ItemKey,
    token: string | undefined,
    send: () => Promise<{ Attributes?: Item }>,
  ): Promise<LeaseWriteResult> {
    try {
      const output = await this.#send(operation, key, send);
      // PutItem cannot return the item it wrote, so a created lease is read back (creation is rare).
      const record = leaseFromItem(output.Attributes) ?? (await this.getLease(key));
      return { ok: true, record: record! };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = leaseFromItem(error.Item);
      // The stored version is our own token: an earlier attempt of this very request was applied and its
      // response lost (the SDK or the caller retried). Report success; applying it again would add a grant.
      if (token !== undefined && current?.version === token) return { ok: true, record: current };
      return { ok: false, current };
    }
  }

  async #query(pk: string): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.#send('query', { pk, sk: '*' }, () =>
        this.#client.send(
          new QueryCommand({
            TableName: this.#tableName,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: attributeNamesFor('#pk'),
            ExpressionAttributeValues: attributeValues({ ':pk': pk }),
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  /** Sends one request; a lost race passes through, anything else unexpected becomes a typed error. */
  async #send<T>(operation: string, key: ItemKey, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw error;
      throw new CoordinationStoreError(
        `${operation} on ${this.#tableName} ${keyString(key)} failed: ${messageOf(error)}`,
        { operation, key: keyString(key), retryable: isTransient(error) },
        { cause: error },
      );
    }
  }
}

export type { DynamoDbCoordinationStoreOptions };
export { DynamoDbCoordinationStore, isTransient };
