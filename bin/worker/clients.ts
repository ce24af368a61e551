import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SubscriptionHandler } from '../../core/esm/subscription-handler.js';
import { lambdaDynamoDbClient } from '../../functions/consumer/dynamodb-client.js';

interface WorkerClients {
  readonly dynamodb: DynamoDBClient;
  /** Every Kinesis call but SubscribeToShard. */
  readonly kinesis: KinesisClient;
  /** The HTTP/2 client for SubscribeToShard (enhanced fan-out), made on first use. */
  subscriber(): KinesisClient;
  destroy(): void;
}

/**
 * The worker's AWS clients. Credentials and region come from the SDK's default chain (environment, profile,
 * the ECS task role) and endpoints from `AWS_ENDPOINT_URL` or `AWS_ENDPOINT_URL_DYNAMODB` /
 * `AWS_ENDPOINT_URL_KINESIS` (local engines, LocalStack), which the SDK reads itself. Kinesis calls go over
 * HTTP/1.1 keep-alive, which AWS and the local engines all serve (the SDK's default HTTP/2 fails against a
 * plain-HTTP engine), except SubscribeToShard, which needs HTTP/2.
 */
function workerClients(options: { readonly region?: string }): WorkerClients {
  const requestHandler = () =>
    new NodeHttpHandler({
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 64 }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
      requestTimeout: 30_000,
    });
  const region = options.region === undefined ? {} : { region: options.region };
  const dynamodb = lambdaDynamoDbClient({ ...region, requestHandler: requestHandler(), maxAttempts: 5 });
  const kinesis = new KinesisClient({ ...region, requestHandler: requestHandler(), maxAttempts: 5 });
  let subscriber: KinesisClient | undefined;
  return {
    dynamodb,
    kinesis,
    subscriber: () => {
      subscriber ??= new KinesisClient({ ...region, requestHandler: new SubscriptionHandler() });
      return subscriber;
    },
    destroy: () => {
      dynamodb.destroy();
      kinesis.destroy();
      subscriber?.destroy();
    },
  };
}

export type { WorkerClients };
export { workerClients };
