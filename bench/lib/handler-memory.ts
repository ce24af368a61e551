/**
 * Child process of the growth benchmark: runs one batch of `batchSize` records through the consumer handler
 * and prints `{batchSize, payloadBytes, idleRssBytes, peakRssBytes, eventsPerSecond}` as JSON. Run in its own
 * process so that the peak RSS belongs to that batch alone.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { parseConfig } from '../../core/config/schema.js';
import { systemClock } from '../../core/coordination/clock.js';
import { lambdaContext } from '../../core/esm/lambda-event.js';
import { createConsumerHandler } from '../../functions/consumer/create-handler.js';
import { lambdaDynamoDbClient } from '../../functions/consumer/dynamodb-client.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../localstack/clients.js';
import { createTables, resourceNames } from '../../localstack/provision.js';
import { WORKLOAD_TABLES, WorkloadGenerator } from '../../localstack/workload/generator.js';
import { benchRecord } from './kinesis-records.js';

const [endpoint, batchSizeArg] = process.argv.slice(2);
const batchSize = Number(batchSizeArg);
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

// The client as the consumer Lambda builds it.
const client = lambdaDynamoDbClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
const names = resourceNames(`mem-${batchSize}-${process.pid}`);
await createTables(client, names);
const handler = createConsumerHandler({
  dynamodb: client,
  stateTable: names.stateTable,
  parkedTable: names.parkedTable,
  config: parseConfig({ tables: WORKLOAD_TABLES }),
  logger: new Logger({ logLevel: 'CRITICAL' }),
  metrics: new Metrics({ namespace: 'bench' }),
});
const context = lambdaContext('bench', 900_000);
const generator = new WorkloadGenerator({ seed: 5, aggregates: 10_000 });
let sequence = 0;
function event(size: number): { event: KinesisStreamEvent; payloadBytes: number } {
  let payloadBytes = 0;
  const records = Array.from({ length: size }, (): KinesisStreamRecord => {
    const e = generator.next();
    payloadBytes += e.data.byteLength;
    return benchRecord(e, ++sequence, '4970');
  });
  return { event: { Records: records }, payloadBytes };
}

// Warm up code paths and the connection pool, then settle the heap: that is the idle process.
for (let i = 0; i < 3; i++) await handler(event(50).event, context);
const settle = async () => {
  gc();
  await systemClock.sleep(100);
  gc();
  return process.memoryUsage().rss;
};
const processRssBytes = await settle();
// The event as the Lambda runtime hands it over (base64 data in record objects) is held before the handler
// runs; what the handler itself needs on top of it is measured from there.
const batch = event(batchSize);
const idleRssBytes = await settle();
let peakRssBytes = idleRssBytes;
const sampler = setInterval(() => {
  peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss);
}, 2);
const started = performance.now();
await handler(batch.event, context);
const ms = performance.now() - started;
clearInterval(sampler);
peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss);
process.stdout.write(
  `${JSON.stringify({ batchSize, payloadBytes: batch.payloadBytes, eventRssBytes: idleRssBytes - processRssBytes, idleRssBytes, peakRssBytes, eventsPerSecond: (batchSize / ms) * 1000 })}\n`,
);
client.destroy();
