/**
 * pipeline: end-to-end events per second of the local pipeline (producer → Kinesis engine → local event
 * source mapping → consumer handler → DynamoDB) next to each engine's raw ceiling, measured in the same run:
 * PutRecords-only, GetRecords-only, and conditional writes on DynamoDB at the consumer's concurrency.
 */
import { randomUUID } from 'node:crypto';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { marshall } from '@aws-sdk/util-dynamodb';
import { defaultConfig } from '../core/config/schema.js';
import { mapWithConcurrency } from '../core/processing/concurrency.js';
import { type LocalClients, localClients } from '../localstack/clients.js';
import { type KinesisEngine, startEngines } from '../localstack/engines/engines.js';
import { createStream, createTables, resourceNames } from '../localstack/provision.js';
import { runPipeline } from '../localstack/run/pipeline.js';
import { WorkloadGenerator } from '../localstack/workload/generator.js';
import { markdownTable, writeResult } from './lib/results.js';

const SHARDS = 4;
const IN_FLIGHT = 8;

async function putRecordsCeiling(
  kinesis: KinesisClient,
  streamName: string,
  events: number,
): Promise<number> {
  const generator = new WorkloadGenerator({ seed: 99 });
  const payloads = Array.from({ length: events }, () => generator.next());
  const requests = [];
  for (let i = 0; i < payloads.length; i += 500) requests.push(payloads.slice(i, i + 500));
  const started = performance.now();
  await mapWithConcurrency(requests, IN_FLIGHT, (chunk) =>
    kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: chunk.map((e) => ({ PartitionKey: e.partitionKey, Data: e.data })),
      }),
    ),
  );
  return (events / (performance.now() - started)) * 1000;
}

async function getRecordsCeiling(
  kinesis: KinesisClient,
  streamName: string,
  events: number,
): Promise<number> {
  const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  const started = performance.now();
  let read = 0;
  await Promise.all(
    (Shards ?? []).map(async (shard) => {
      let { ShardIterator: iterator } = await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shard.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      for (;;) {
        const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
        read += out.Records?.length ?? 0;
        iterator = out.NextShardIterator;
        if ((out.Records?.length ?? 0) === 0) break;
      }
    }),
  );
  if (read < events) throw new Error(`GetRecords ceiling read ${read} of ${events} records`);
  return (read / (performance.now() - started)) * 1000;
}

async function conditionalWriteCeiling(
  clients: LocalClients,
  writes: number,
  concurrency: number,
): Promise<number> {
  const names = resourceNames(`ceiling-${randomUUID().slice(0, 6)}`);
  await createTables(clients.dynamodb, names);
  const started = performance.now();
  await mapWithConcurrency(
    Array.from({ length: writes }, (_, i) => i),
    concurrency,
    (i) =>
      clients.dynamodb.send(
        new UpdateItemCommand({
          TableName: names.stateTable,
          Key: marshall({ aggregateId: `agg-${i}` }),
          UpdateExpression: 'SET #p = :p, #s = :s',
          ConditionExpression: 'attribute_not_exists(#p) OR #p < :p',
          ExpressionAttributeNames: { '#p': 'position', '#s': 'state' },
          ExpressionAttributeValues: marshall({
            ':p': `pg:${String(i).padStart(20, '0')}`,
            ':s': { id: i, status: 'paid' },
          }),
        }),
      ),
  );
  return (writes / (performance.now() - started)) * 1000;
}

async function measureEngine(engine: KinesisEngine, events: number) {
  process.stderr.write(`pipeline: ${engine}, ${events} events: starting engines…\n`);
  const engines = await startEngines({ kinesisEngine: engine });
  const clients = localClients(engines.endpoints);
  try {
    const streamName = `ceiling-${randomUUID().slice(0, 6)}`;
    await createStream(clients.kinesis, streamName, SHARDS);
    const put = await putRecordsCeiling(clients.kinesis, streamName, events);
    const get = await getRecordsCeiling(clients.kinesis, streamName, events);
    const write = await conditionalWriteCeiling(
      clients,
      Math.min(events, 20_000),
      defaultConfig().processing.aggregateConcurrency,
    );
    process.stderr.write(`pipeline: ${engine}: ceilings measured, running the pipeline…\n`);
    const summary = await runPipeline({
      events,
      untilDrained: true,
      shards: SHARDS,
      endpoints: engines.endpoints,
      prefix: `bench-${randomUUID().slice(0, 6)}`,
      progress: false,
    });
    if (summary.verified !== true)
      throw new Error(`the pipeline run did not verify: ${JSON.stringify(summary)}`);
    const slowest = Math.min(put, get, write);
    return {
      engine,
      events,
      put,
      get,
      write,
      pipeline: summary.eventsPerSecond,
      slowest,
      ratio: summary.eventsPerSecond / slowest,
    };
  } finally {
    clients.destroy();
    await engines.stop();
  }
}

export default async function pipeline(): Promise<void> {
  const scale = Number(process.env.BENCH_SCALE ?? 1);
  const results = [
    await measureEngine('kinesalite', Math.round(20_000 * scale)),
    await measureEngine('kinesis-mock', Math.round(5_000 * scale)),
  ];
  const round = (n: number) => Math.round(n);
  writeResult('pipeline', {
    settings: {
      shards: SHARDS,
      putRecordsInFlight: IN_FLIGHT,
      batchSize: 100,
      parallelizationFactor: 1,
      workload: 'zipf s=1.1 over 10,000 aggregates',
    },
    table: markdownTable(
      [
        'engine',
        'events',
        'PutRecords-only rec/s',
        'GetRecords-only rec/s',
        'conditional writes/s',
        'pipeline events/s',
        'pipeline ÷ slowest ceiling',
      ],
      results.map((r) => [
        r.engine,
        r.events,
        round(r.put),
        round(r.get),
        round(r.write),
        round(r.pipeline),
        `${(r.ratio * 100).toFixed(0)}%`,
      ]),
    ),
    data: results,
  });
}
