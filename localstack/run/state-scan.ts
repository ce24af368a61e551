import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { STATE_TABLE } from '../../core/constants.js';
import type { RowImage } from '../../core/events/change.js';

/** One state item as users see it (and as `--dump-state` writes it). */
interface StateRow {
  readonly aggregateId: string;
  readonly deleted: boolean;
  readonly position: string | undefined;
  readonly state: RowImage | null;
  readonly quarantined: boolean;
}

/** Reads the whole state table with a parallel scan. */
async function scanState(
  client: DynamoDBClient,
  tableName: string,
  segments = 4,
): Promise<Map<string, StateRow>> {
  const rows = new Map<string, StateRow>();
  const A = STATE_TABLE.attributes;
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
        for (const raw of out.Items ?? []) {
          const item = unmarshall(raw);
          const id = item[STATE_TABLE.partitionKey] as string;
          rows.set(id, {
            aggregateId: id,
            deleted: item[A.deleted] === true,
            position: item[A.position] as string | undefined,
            state: (item[A.state] as RowImage | undefined) ?? null,
            quarantined: item[A.quarantine] !== undefined,
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
