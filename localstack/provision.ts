import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ResourceInUseException as StreamInUseException,
} from '@aws-sdk/client-kinesis';
import { COORDINATION_TABLE, PARKED_TABLE, STATE_TABLE } from '../core/constants.js';
import { systemClock } from '../core/coordination/clock.js';

/** Names of everything one local run uses. */
interface ResourceNames {
  readonly stateTable: string;
  readonly parkedTable: string;
  readonly coordinationTable: string;
  readonly streamName: string;
}

/** Names with a common prefix, so several runs (or tests) can share one engine. */
function resourceNames(prefix: string): ResourceNames {
  return {
    stateTable: `${prefix}-state`,
    parkedTable: `${prefix}-parked`,
    coordinationTable: `${prefix}-coordination`,
    streamName: `${prefix}-changes`,
  };
}

/** Table definitions; the CDK stack declares the same keys from the same constants. */
function tableDefinitions(names: ResourceNames): { input: CreateTableCommandInput; ttlAttribute: string }[] {
  return [
    {
      input: {
        TableName: names.stateTable,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: STATE_TABLE.partitionKey, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: STATE_TABLE.partitionKey, KeyType: 'HASH' }],
      },
      ttlAttribute: STATE_TABLE.attributes.ttl,
    },
    {
      input: {
        TableName: names.parkedTable,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: PARKED_TABLE.partitionKey, AttributeType: 'S' },
          { AttributeName: PARKED_TABLE.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: PARKED_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: PARKED_TABLE.sortKey, KeyType: 'RANGE' },
        ],
      },
      ttlAttribute: PARKED_TABLE.ttl,
    },
    {
      input: {
        TableName: names.coordinationTable,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: COORDINATION_TABLE.partitionKey, AttributeType: 'S' },
          { AttributeName: COORDINATION_TABLE.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: COORDINATION_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: COORDINATION_TABLE.sortKey, KeyType: 'RANGE' },
        ],
      },
      ttlAttribute: COORDINATION_TABLE.ttl,
    },
  ];
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not become ready within ${timeoutMs} ms`);
    await systemClock.sleep(50);
  }
}

async function createTable(
  dynamodb: DynamoDBClient,
  input: CreateTableCommandInput,
  ttlAttribute: string,
): Promise<void> {
  try {
    await dynamodb.send(new CreateTableCommand(input));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitFor(`table ${input.TableName}`, async () => {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: input.TableName }));
    return Table?.TableStatus === 'ACTIVE';
  });
  await dynamodb
    .send(
      new UpdateTimeToLiveCommand({
        TableName: input.TableName,
        TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true },
      }),
    )
    .catch((error: Error) => {
      // Re-enabling TTL on a table that has it answers ValidationException; that is fine.
      if (error.name !== 'ValidationException') throw error;
    });
}

async function createStream(kinesis: KinesisClient, streamName: string, shardCount: number): Promise<string> {
  try {
    await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
  } catch (error) {
    if (!(error instanceof StreamInUseException)) throw error;
  }
  let arn = '';
  await waitFor(`stream ${streamName}`, async () => {
    const { StreamDescriptionSummary: s } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: streamName }),
    );
    arn = s?.StreamARN ?? '';
    return s?.StreamStatus === 'ACTIVE';
  });
  return arn;
}

/** Creates the three tables of one run (no stream); idempotent. */
async function createTables(dynamodb: DynamoDBClient, names: ResourceNames): Promise<void> {
  await Promise.all(tableDefinitions(names).map((t) => createTable(dynamodb, t.input, t.ttlAttribute)));
}

/** Creates the tables and the stream of one run; idempotent. Returns the stream ARN. */
async function provision(
  clients: { readonly dynamodb: DynamoDBClient; readonly kinesis: KinesisClient },
  names: ResourceNames,
  options: { readonly shardCount: number },
): Promise<{ streamArn: string }> {
  await Promise.all(
    tableDefinitions(names).map((t) => createTable(clients.dynamodb, t.input, t.ttlAttribute)),
  );
  const streamArn = await createStream(clients.kinesis, names.streamName, options.shardCount);
  return { streamArn };
}

export type { ResourceNames };
export { createStream, createTables, provision, resourceNames, tableDefinitions, waitFor };
