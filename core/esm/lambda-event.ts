import { randomUUID } from 'node:crypto';
import type { _Record } from '@aws-sdk/client-kinesis';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

/** A Kinesis record as the Lambda service delivers it: base64 data, seconds since the epoch. */
function toLambdaRecord(
  record: _Record,
  shardId: string,
  streamArn: string,
  region: string,
): KinesisStreamRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.PartitionKey ?? '',
      sequenceNumber: record.SequenceNumber ?? '',
      data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
      approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${record.SequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: `arn:aws:iam::000000000000:role/cdcp-consumer-local`,
    awsRegion: region,
    eventSourceARN: streamArn,
  };
}

function toLambdaEvent(records: readonly KinesisStreamRecord[]): KinesisStreamEvent {
  return { Records: [...records] };
}

/** A Lambda-like context with a deadline, so handlers can stop before it. */
function lambdaContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const id = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: id,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${id}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

export { lambdaContext, toLambdaEvent, toLambdaRecord };
