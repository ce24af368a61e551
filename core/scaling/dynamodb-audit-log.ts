import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { COORDINATION_TABLE } from '../constants.js';
import { LEASE_HELD_BY_CALLER } from '../coordination/conditions.js';
import type { LeaseGuard } from '../coordination/fenced-writer.js';
import { attributeNamesFor, attributeValues, keyItem, leaseFromItem } from '../coordination/item-mapping.js';
import { messageOf } from '../errors.js';
import type { AuditLog, ClaimResult, DecisionRecord, NewDecision } from './audit-log.js';
import { DECISION_PK, decisionId } from './audit-log.js';
import { ScalingIoError } from './errors.js';
import type { ActionOutcome } from './executor.js';

/** Write a decision item only once: two runs that picked the same millisecond do not overwrite each other. */
const DECISION_ABSENT = 'attribute_not_exists(#pk)';
/** Complete only the caller's own decision: a later term cannot rewrite what an earlier one did, nor vice versa. */
const DECISION_OF_TERM = 'attribute_exists(#pk) AND #term = :term';

interface DynamoDbAuditLogOptions {
  readonly client: DynamoDBClient;
  /** The coordination table (decisions share it with the leadership lease they are fenced by). */
  readonly tableName: string;
  /** DynamoDB TTL of a decision. @default 2_592_000_000 (30 days) */
  readonly retentionMs?: number;
}

/**
 * {@link AuditLog} on the coordination table: `pk = DECISION`, `sk` = ISO time. The claim is a
 * TransactWriteItems of a condition check on the `LEADER/<role>` item (`LEASE_HELD_BY_CALLER`: this owner,
 * this term) and the put of the decision, so a manager whose term is over cannot write a decision and therefore
 * does not act. Plan, inputs and outcomes are stored as JSON strings.
 *
 * @example
 * ```ts
 * const audit = new DynamoDbAuditLog({ client, tableName: coordinationTable });
 * const claim = await audit.claim(decision, term.guard);
 * if (claim.written) await executor.execute(plan, { history, signal: term.signal });
 * ```
 */
class DynamoDbAuditLog implements AuditLog {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #retentionMs: number;

  public constructor(options: DynamoDbAuditLogOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#retentionMs = options.retentionMs ?? 30 * 24 * 3_600_000;
  }

  public async claim(decision: NewDecision, guard: LeaseGuard): Promise<ClaimResult> {
    // A second decision in the same millisecond moves to the next one (at most a few tries).
    for (let attempt = 0; attempt < 5; attempt++) {
      const id = decisionId(decision.atWallMs + attempt);
      const item = marshall(
        {
          [COORDINATION_TABLE.partitionKey]: DECISION_PK,
          [COORDINATION_TABLE.sortKey]: id,
          [COORDINATION_TABLE.ttl]: Math.ceil((decision.atWallMs + this.#retentionMs) / 1000),
          atWallMs: decision.atWallMs,
          term: decision.term,
          leaderId: decision.leaderId,
          acting: decision.acting,
          actions: decision.plan.actions.map((a) => a.kind),
          inputs: JSON.stringify(decision.inputs),
          plan: JSON.stringify(decision.plan),
        },
        { removeUndefinedValues: true },
      );
      try {
        await this.#client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                ConditionCheck: {
                  TableName: this.#table,
                  Key: keyItem(guard.key),
                  ConditionExpression: LEASE_HELD_BY_CALLER,
                  ExpressionAttributeNames: attributeNamesFor(LEASE_HELD_BY_CALLER),
                  ExpressionAttributeValues: attributeValues({
                    ':owner': guard.owner,
                    ':fence': guard.fence,
                  }),
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
              {
                Put: {
                  TableName: this.#table,
                  Item: item,
                  ConditionExpression: DECISION_ABSENT,
                  ExpressionAttributeNames: { '#pk': COORDINATION_TABLE.partitionKey },
                },
              },
            ],
          }),
        );
        return { written: true, id };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw this.#wrap('claim decision', error);
        const [lease, put] = error.CancellationReasons ?? [];
        if (lease?.Code === 'ConditionalCheckFailed') {
          const current = leaseFromItem(lease.Item);
          return {
            written: false,
            reason: 'fenced',
            currentLeader: current?.owner,
            currentTerm: current?.fence,
          };
        }
        if (put?.Code !== 'ConditionalCheckFailed') throw this.#wrap('claim decision', error);
      }
    }
    throw new ScalingIoError(
      'claim decision',
      `five decisions already exist at ${decisionId(decision.atWallMs)} and after`,
    );
  }

  public async complete(
    id: string,
    term: number,
    outcomes: readonly ActionOutcome[],
    housekeeping?: Readonly<Record<string, unknown>>,
  ): Promise<boolean> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall({ [COORDINATION_TABLE.partitionKey]: DECISION_PK, [COORDINATION_TABLE.sortKey]: id }),
          UpdateExpression: 'SET #outcomes = :outcomes, #housekeeping = :housekeeping',
          ConditionExpression: DECISION_OF_TERM,
          ExpressionAttributeNames: {
            '#pk': COORDINATION_TABLE.partitionKey,
            '#term': 'term',
            '#outcomes': 'outcomes',
            '#housekeeping': 'housekeeping',
          },
          ExpressionAttributeValues: marshall({
            ':term': term,
            ':outcomes': JSON.stringify(outcomes),
            ':housekeeping': JSON.stringify(housekeeping ?? null),
          }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw this.#wrap('complete decision', error);
    }
  }

  public async list(
    options: { readonly sinceWallMs?: number; readonly limit?: number } = {},
  ): Promise<DecisionRecord[]> {
    const records: DecisionRecord[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    try {
      do {
        const page = await this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression:
              options.sinceWallMs === undefined ? '#pk = :pk' : '#pk = :pk AND #sk >= :since',
            ExpressionAttributeNames: {
              '#pk': COORDINATION_TABLE.partitionKey,
              ...(options.sinceWallMs === undefined ? {} : { '#sk': COORDINATION_TABLE.sortKey }),
            },
            ExpressionAttributeValues: marshall({
              ':pk': DECISION_PK,
              ...(options.sinceWallMs === undefined ? {} : { ':since': decisionId(options.sinceWallMs) }),
            }),
            ScanIndexForward: false,
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
            Limit: Number.isFinite(limit) ? Math.min(1000, limit - records.length) : undefined,
          }),
        );
        for (const item of page.Items ?? []) records.push(this.#record(unmarshall(item)));
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined && records.length < limit);
    } catch (error) {
      throw this.#wrap('list decisions', error);
    }
    return records;
  }

  #record(a: Record<string, unknown>): DecisionRecord {
    const parse = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : undefined);
    const housekeeping = parse(a.housekeeping);
    return {
      id: String(a[COORDINATION_TABLE.sortKey]),
      atWallMs: Number(a.atWallMs),
      term: Number(a.term),
      leaderId: String(a.leaderId),
      acting: a.acting === true,
      inputs: parse(a.inputs),
      plan: parse(a.plan),
      outcomes: parse(a.outcomes),
      ...(housekeeping === undefined || housekeeping === null ? {} : { housekeeping }),
    };
  }

  #wrap(operation: string, error: unknown): ScalingIoError {
    return new ScalingIoError(operation, `table ${this.#table}: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

export type { DynamoDbAuditLogOptions };
export { DECISION_ABSENT, DECISION_OF_TERM, DynamoDbAuditLog };
