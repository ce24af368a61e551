import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { RowImage } from '../../core/events/change.js';
import { toAggregateItem } from '../../core/state/state-item.js';

/** One state item as users see it (and as `--dump-state` writes it). */
interface StateRow {
  readonly aggregateId: string;
  readonly deleted: boolean;
  readonly position: string | undefined;
  readonly state: RowImage | null;
  readonly quarantined: boolean;
  /**
   * True for an item that holds only fields other aggregates' projections derived onto it (no change of its
   * own applied, nothing held back): it exists without ever having been produced.
   */
  readonly derivedOnly?: boolean;
}

/** Reads the whole state table with a parallel scan. */
async function scanState(
  client: DynamoDBClient,
  tableName: string,
  segments = 4,
): Promise<Map<string, StateRow>> {
  const rows = new Map<string, StateRow>();
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let start: Record<string, never> | undefined;
      do {
        const out = await client.send(
          new ScanCommand({
            TableName: tableName,
            Segment: segment,
            TotalSegments: segments,
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
        // Read as the consumer reads an item: exact numbers stay exact, a `__proto__` column is a column.
        for (const raw of out.Items ?? []) {
          const item = toAggregateItem(raw as Record<string, AttributeValue>)!;
          rows.set(item.aggregateId, {
            aggregateId: item.aggregateId,
            deleted: item.deleted,
            position: item.position,
            state: item.state,
            quarantined: item.quarantine !== undefined,
            ...(item.position === undefined && item.quarantine === undefined && item.derived !== undefined
              ? { derivedOnly: true }
              : {}),
          });
        }
        start = out.LastEvaluatedKey as Record<string, never> | undefined;
      } while (start !== undefined);
    }),
  );
  return rows;
}

export type { StateRow };
export { scanState };
