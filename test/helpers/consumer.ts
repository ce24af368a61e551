import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { type ConfigInput, parseConfig } from '../../core/config/schema.js';
import { lambdaContext } from '../../core/esm/lambda-event.js';
import type { ChangeEvent } from '../../core/events/change.js';
import type { BatchResult } from '../../core/processing/batch-processor.js';
import type { Projection } from '../../core/processing/projection.js';
import { ParkedStore } from '../../core/state/parked-store.js';
import { StateStore } from '../../core/state/state-store.js';
import { createConsumerHandler } from '../../functions/consumer/create-handler.js';
import type { LocalClients } from '../../localstack/clients.js';
import { provision, type ResourceNames, resourceNames } from '../../localstack/provision.js';
import { debeziumEnvelope } from './changes.js';
import { uniqueName } from './engines.js';

/** One Kinesis record of a test event. */
interface TestRecord {
  readonly data: string | Uint8Array;
  readonly partitionKey: string;
  readonly sequenceNumber: string;
}

/** Sequence numbers as Kinesis writes them: long decimal strings that grow. */
function seq(n: number): string {
  return `4959${String(n).padStart(52, '0')}`;
}

/** A record carrying the Debezium envelope of `change` at LSN `lsn`. */
function changeRecord(change: ChangeEvent, lsn: number, sequence: number): TestRecord {
  return {
    data: JSON.stringify(debeziumEnvelope(change, lsn)),
    partitionKey: change.aggregateId,
    sequenceNumber: seq(sequence),
  };
}

function kinesisEvent(records: readonly TestRecord[], shardId = 'shardId-000000000000'): KinesisStreamEvent {
  return {
    Records: records.map(
      (r): KinesisStreamRecord => ({
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: r.partitionKey,
          sequenceNumber: r.sequenceNumber,
          data: Buffer.from(r.data).toString('base64'),
          approximateArrivalTimestamp: Date.now() / 1000,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${shardId}:${r.sequenceNumber}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: 'arn:aws:iam::000000000000:role/test',
        awsRegion: 'us-east-1',
        eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/test',
      }),
    ),
  };
}

/** The real consumer handler over fresh tables in DynamoDB Local. */
async function consumerUnderTest(
  clients: LocalClients,
  options: { config?: ConfigInput; projection?: Projection } = {},
) {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const names: ResourceNames = resourceNames(uniqueName('it'));
  await provision(clients, names, { shardCount: 1 });
  const config = parseConfig(options.config ?? {});
  const results: BatchResult[] = [];
  const handler = createConsumerHandler({
    dynamodb: clients.dynamodb,
    stateTable: names.stateTable,
    parkedTable: names.parkedTable,
    config,
    logger: new Logger({ logLevel: 'CRITICAL' }),
    metrics: new Metrics({ namespace: 'test' }),
    projection: options.projection,
    onBatch: (result) => results.push(result),
  });
  const context: Context = lambdaContext('test-consumer', 60_000);
  return {
    names,
    results,
    state: new StateStore({
      client: clients.dynamodb,
      tableName: names.stateTable,
      tombstoneTtlSeconds: 3600,
    }),
    parked: new ParkedStore({ client: clients.dynamodb, tableName: names.parkedTable }),
    invoke: async (records: readonly TestRecord[]) => {
      const response = await handler(kinesisEvent(records), context);
      return { response, stats: results[results.length - 1]!.stats };
    },
  };
}

export type { TestRecord };
export { changeRecord, consumerUnderTest, kinesisEvent, seq };
