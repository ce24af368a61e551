/**
 * consumer-cost: what one event costs in the consumer, ours against the standard Powertools way, on the same
 * events and the same DynamoDB Local in one run.
 *
 * - ours: the consumer handler (mirror projection: one conditional write per aggregate per batch);
 * - baseline: Powertools BatchProcessor for Kinesis, sequential, each record wrapped with Powertools
 *   idempotency on DynamoDB (content key: the record data), one conditional put of the row per record;
 * - floor: distinct aggregates per batch ÷ events per batch (one write per aggregate per batch).
 */

import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { parseConfig } from '../core/config/schema.js';
import { lambdaContext } from '../core/esm/lambda-event.js';
import { createConsumerHandler, createDecoding } from '../functions/consumer/create-handler.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../localstack/clients.js';
import { startDynamoDbLocal } from '../localstack/engines/engines.js';
import { createTables, resourceNames } from '../localstack/provision.js';
import { WORKLOAD_TABLES, WorkloadGenerator } from '../localstack/workload/generator.js';
import { writeChart } from './lib/chart-files.js';
import { type DynamoCounters, instrument, resetCounters } from './lib/instrument.js';
import { benchRecord } from './lib/kinesis-records.js';
import { markdownTable, writeResult } from './lib/results.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 5000);
const AGGREGATES = 10_000;

interface Measure {
  requestsPerEvent: number;
  writeUnitsPerEvent: number;
  eventsPerSecond: number;
  cpuMsPer1000: number;
}

function batchesOf(
  zipf: number,
  batchSize: number,
  events: number,
): { batches: KinesisStreamEvent[]; floor: number } {
  const generator = new WorkloadGenerator({ seed: 17, aggregates: AGGREGATES, zipfExponent: zipf });
  const records: KinesisStreamRecord[] = [];
  for (let i = 0; i < events; i++) {
    records.push(benchRecord(generator.next(), i + 1));
  }
  const batches: KinesisStreamEvent[] = [];
  let distinct = 0;
  for (let i = 0; i < records.length; i += batchSize) {
    const slice = records.slice(i, i + batchSize);
    distinct += new Set(slice.map((r) => r.kinesis.partitionKey)).size;
    batches.push({ Records: slice });
  }
  return { batches, floor: distinct / records.length };
}

async function measure(counters: DynamoCounters, events: number, run: () => Promise<void>): Promise<Measure> {
  resetCounters(counters);
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return {
    requestsPerEvent: counters.requests / events,
    writeUnitsPerEvent: counters.writeCapacity / events,
    eventsPerSecond: (events / ms) * 1000,
    cpuMsPer1000: ((used.user + used.system) / 1000 / events) * 1000,
  };
}

export default async function consumerCost(): Promise<void> {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.POWERTOOLS_IDEMPOTENCY_DISABLED = 'false';
  const engine = await startDynamoDbLocal();
  const client = new DynamoDBClient({
    endpoint: engine.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const counters = instrument(client);
  const config = parseConfig({ tables: WORKLOAD_TABLES });
  const rows: (string | number)[][] = [];
  const data: unknown[] = [];
  try {
    // The first variant warms both paths up (JIT, connection pools, DynamoDB Local's JVM) and is not reported.
    const variants = [
      ['warm-up', 1.1, 100, 1000],
      ['zipf s=1.1', 1.1, 100, EVENTS],
      ['zipf s=1.1', 1.1, 1000, EVENTS],
      ['uniform', 0, 100, EVENTS],
      ['uniform', 0, 1000, EVENTS],
    ] as const;
    for (const [index, [workload, zipf, batchSize, events]] of variants.entries()) {
      {
        const { batches, floor } = batchesOf(zipf, batchSize, events);
        process.stderr.write(`consumer-cost: ${workload}, batch ${batchSize}: ${events} events…\n`);

        // Ours.
        const names = resourceNames(`bench-ours-${index}`);
        await createTables(client, names);
        const ours = createConsumerHandler({
          dynamodb: client,
          stateTable: names.stateTable,
          parkedTable: names.parkedTable,
          config,
          logger: new Logger({ logLevel: 'CRITICAL' }),
          metrics: new Metrics({ namespace: 'bench' }),
        });
        const context = lambdaContext('bench', 900_000);
        const oursMeasure = await measure(counters, events, async () => {
          for (const batch of batches) await ours(batch, context);
        });

        // Baseline: Powertools batch + idempotency, sequential, one conditional put per record.
        const idempotencyTable = `bench-idem-${index}`;
        const rowTable = `bench-rows-${index}`;
        await client.send(
          new CreateTableCommand({
            TableName: idempotencyTable,
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
            KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          }),
        );
        await client.send(
          new CreateTableCommand({
            TableName: rowTable,
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: [{ AttributeName: 'aggregateId', AttributeType: 'S' }],
            KeySchema: [{ AttributeName: 'aggregateId', KeyType: 'HASH' }],
          }),
        );
        const { registry, context: decodeContext } = createDecoding(config);
        const idempotencyConfig = new IdempotencyConfig({ eventKeyJmesPath: 'kinesis.data' });
        const persistenceStore = new DynamoDBPersistenceLayer({
          tableName: idempotencyTable,
          awsSdkV3Client: client,
        });
        const recordHandler = makeIdempotent(
          async (record: KinesisStreamRecord) => {
            const { changes } = registry.decode(
              Buffer.from(record.kinesis.data, 'base64'),
              {
                shardId: 'shardId-000000000000',
                sequenceNumber: record.kinesis.sequenceNumber,
                subSequenceNumber: 0,
                partitionKey: record.kinesis.partitionKey,
                approximateArrivalTimestamp: record.kinesis.approximateArrivalTimestamp,
              },
              decodeContext,
            );
            for (const change of changes)
              await client
                .send(
                  new PutItemCommand({
                    TableName: rowTable,
                    Item: marshall(
                      {
                        aggregateId: change.aggregateId,
                        position: change.position,
                        deleted: change.op === 'delete',
                        state: change.after ?? undefined,
                      },
                      { removeUndefinedValues: true },
                    ),
                    ConditionExpression: 'attribute_not_exists(#p) OR #p < :p',
                    ExpressionAttributeNames: { '#p': 'position' },
                    ExpressionAttributeValues: marshall({ ':p': change.position }),
                  }),
                )
                .catch((error: Error) => {
                  if (error.name !== 'ConditionalCheckFailedException') throw error;
                });
          },
          { persistenceStore, config: idempotencyConfig },
        );
        const baselineMeasure = await measure(counters, events, async () => {
          for (const batch of batches) {
            idempotencyConfig.registerLambdaContext(context);
            await processPartialResponse(
              batch,
              recordHandler,
              new BatchProcessor(EventType.KinesisDataStreams),
              {
                processInParallel: false,
              },
            );
          }
        });

        if (index === 0) continue;
        const metrics: [string, keyof Measure, boolean][] = [
          ['DynamoDB requests / event', 'requestsPerEvent', true],
          ['write capacity units / event', 'writeUnitsPerEvent', false],
          ['events / s', 'eventsPerSecond', false],
          ['CPU ms / 1,000 events', 'cpuMsPer1000', false],
        ];
        for (const [label, key, withFloor] of metrics) {
          const ratio =
            key === 'eventsPerSecond'
              ? oursMeasure[key] / baselineMeasure[key]
              : baselineMeasure[key] / oursMeasure[key];
          rows.push([
            workload,
            batchSize,
            label,
            round(oursMeasure[key]),
            round(baselineMeasure[key]),
            `${ratio.toFixed(2)}× better`,
            withFloor
              ? `${round(floor)} (ours/floor ${(oursMeasure.requestsPerEvent / floor).toFixed(3)})`
              : '',
          ]);
        }
        data.push({
          workload,
          batchSize,
          events: EVENTS,
          floor,
          ours: oursMeasure,
          baseline: baselineMeasure,
        });
      }
    }
  } finally {
    client.destroy();
    await engine.process.stop();
  }
  writeResult('consumer-cost', {
    settings: {
      events: EVENTS,
      aggregates: AGGREGATES,
      zipfExponent: 1.1,
      engine: 'DynamoDB Local',
      projection: 'mirror',
    },
    table: markdownTable(
      [
        'workload',
        'batch',
        'metric',
        'ours',
        'baseline',
        'baseline ÷ ours (speed: ours ÷ baseline)',
        'floor',
      ],
      rows,
    ),
    data,
  });
  process.stderr.write(`consumer-cost: chart ${writeChart('consumer-cost')}\n`);
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
