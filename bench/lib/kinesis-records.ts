import type { KinesisStreamRecord } from 'aws-lambda';
import { LOCAL_REGION } from '../../localstack/clients.js';

/** A Lambda Kinesis record of one generated event, with a growing sequence number under `prefix`. */
function benchRecord(
  event: { partitionKey: string; data: Buffer },
  sequence: number,
  prefix = '4960',
): KinesisStreamRecord {
  const seq = `${prefix}${String(sequence).padStart(52, '0')}`;
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: event.partitionKey,
      sequenceNumber: seq,
      data: event.data.toString('base64'),
      approximateArrivalTimestamp: Date.now() / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `shardId-000000000000:${seq}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::000000000000:role/bench',
    awsRegion: LOCAL_REGION,
    eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/bench',
  };
}

export { benchRecord };
