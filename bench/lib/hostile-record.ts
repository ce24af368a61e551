/**
 * Child process of the hostile benchmark: delivers the records of one hostile corpus entry (or one plain
 * Debezium change, `baseline`) to the consumer handler on fresh tables, once each, and prints
 * `{ms, idleRssBytes, peakRssBytes}` as JSON: the handler's time and its process's resident memory before and
 * at its peak. Run in its own process so that the peak belongs to that record alone.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { KinesisStreamEvent } from 'aws-lambda';
import { parseConfig } from '../../core/config/schema.js';
import { systemClock } from '../../core/coordination/clock.js';
import { lambdaContext } from '../../core/esm/lambda-event.js';
import { TableKeyMemory } from '../../core/events/index.js';
import { createConsumerHandler } from '../../functions/consumer/create-handler.js';
import { lambdaDynamoDbClient } from '../../functions/consumer/dynamodb-client.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../localstack/clients.js';
import { createTables, resourceNames } from '../../localstack/provision.js';
import { hostileCorpus, lambdaEventOf } from '../../test/helpers/hostile-corpus.js';

const [endpoint, entryArg] = process.argv.slice(2);
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

const client = lambdaDynamoDbClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
const names = resourceNames(`hostile-${process.pid}`);
await createTables(client, names);
const entry = entryArg === 'baseline' ? undefined : hostileCorpus()[Number(entryArg)]!;
const tables = Object.fromEntries(
  Object.entries(entry?.keyColumns ?? {}).map(([t, k]) => [t, { keyColumns: k }]),
);
const handler = createConsumerHandler({
  dynamodb: client,
  stateTable: names.stateTable,
  parkedTable: names.parkedTable,
  config: parseConfig({ tables }),
  logger: new Logger({ logLevel: 'CRITICAL' }),
  metrics: new Metrics({ namespace: 'bench' }),
  tableKeys: new TableKeyMemory(),
});
const context = lambdaContext('bench', 900_000);
const plain = (n: number) => ({
  data: Buffer.from(
    `{"before": null, "after": {"id": ${n}, "name": "customer ${n}"}, "source": {"version": "2.5.0.Final", "connector": "postgresql", "name": "pg", "ts_ms": 1700000000000, "db": "app", "schema": "public", "table": "customers", "txId": 1, "lsn": ${n}, "sequence": "[null,\\"${n}\\"]"}, "op": "c", "ts_ms": 1700000000000}`,
  ),
  partitionKey: `public.customers#${n}`,
  sequenceNumber: String(n),
  shardId: 'shardId-000000000000',
  approximateArrivalTimestamp: 1_700_000_000_000,
});

// Warm up code paths and the connection, then settle the heap: that is the idle process.
for (let n = 1; n <= 3; n++) await handler(lambdaEventOf([plain(n)]) as KinesisStreamEvent, context);
const records = entry?.records ?? [plain(100)];
const events = records.map((r) => lambdaEventOf([r]) as KinesisStreamEvent);
gc();
await systemClock.sleep(100);
gc();
const idleRssBytes = process.memoryUsage().rss;
let peakRssBytes = idleRssBytes;
const sampler = setInterval(() => {
  peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss);
}, 2);
const started = performance.now();
for (const event of events) await handler(event, context);
const ms = performance.now() - started;
clearInterval(sampler);
// The peak of the whole process, also while a synchronous step kept the sampler from running.
peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
process.stdout.write(`${JSON.stringify({ ms, idleRssBytes, peakRssBytes })}\n`);
client.destroy();
