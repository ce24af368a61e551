/**
 * Derived aggregates under real concurrency: two worker processes read four shards with ParallelizationFactor
 * 4, and order lines on every shard add to the same five bucket aggregates at once, through transactions on
 * DynamoDB Local, with a fifth of the records delivered twice. About 25 s: two worker processes start, bundle the projection and divide the shards by leases first. Every bucket must end exactly at the sum the
 * lines' verified final states give.
 */

import { fileURLToPath } from 'node:url';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import type { AggregateItem } from '../../../core/state/aggregate-item.js';
import { toAggregateItem } from '../../../core/state/state-item.js';
import { resourceNames } from '../../../localstack/provision.js';
import { runPipeline } from '../../../localstack/run/pipeline.js';
import { loadProjectionModule } from '../../../projection-module/load.js';
import { testClients, uniqueName } from '../../helpers/engines.js';
import { bucketOf } from '../../helpers/projections/line-buckets.js';
import { endpoints, FAST_LEASES } from './helpers.js';

/** Calls `visit` with every item of the run's state table, read strongly consistent. */
async function scanStateTable(prefix: string, visit: (item: AggregateItem) => void): Promise<void> {
  const clients = testClients();
  try {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await clients.dynamodb.send(
        new ScanCommand({
          TableName: resourceNames(prefix).stateTable,
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const raw of page.Items ?? []) visit(toAggregateItem(raw)!);
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
  } finally {
    clients.destroy();
  }
}

const LINE_BUCKETS = fileURLToPath(new URL('../../helpers/projections/line-buckets.ts', import.meta.url));

describe('Derived aggregates across shards, lanes and worker processes', () => {
  it('order lines on four shards with ParallelizationFactor 4 and two workers, duplicates injected, sum into hot buckets exactly', async () => {
    const projection = await loadProjectionModule(LINE_BUCKETS);
    const expected = new Map<string, { total: number; lines: number }>();
    const actual = new Map<string, { total: number; lines: number }>();
    const prefix = uniqueName('derived');
    const summary = await runPipeline({
      events: 1_500,
      untilDrained: true,
      shards: 4,
      workers: 2,
      mapping: { batchSize: 100, parallelizationFactor: 4 },
      injectDuplicates: 0.2,
      projection,
      endpoints: endpoints(),
      prefix,
      progress: false,
      seed: 21,
      aggregates: 300,
      config: FAST_LEASES,
      drainTimeoutMs: 240_000,
    });
    await scanStateTable(prefix, (item) => {
      if (item.aggregateId.startsWith('public.order_buckets#'))
        actual.set(item.aggregateId, {
          total: Number(item.derived?.get('total') ?? 0),
          lines: Number(item.derived?.get('lines') ?? 0),
        });
      else if (item.table === 'public.order_lines' && !item.deleted && item.state !== null) {
        const bucket = bucketOf(String(item.state.order_id));
        const sum = expected.get(bucket) ?? { total: 0, lines: 0 };
        sum.total += Number(item.state.quantity);
        sum.lines += 1;
        expected.set(bucket, sum);
      }
    });

    // The lines' states are verified against the workload's own model, so their sums are the model's sums.
    expect(summary.differences).toBeUndefined();
    expect(summary.verified).toBe(true);
    expect(summary.duplicatesSkipped).toBeGreaterThan(0);
    expect(summary.parked).toBe(0);
    expect(expected.size).toBe(5);
    expect(actual).toEqual(expected);
  });
});
