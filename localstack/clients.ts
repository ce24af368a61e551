import { Agent } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const LOCAL_REGION = 'us-east-1';

interface LocalClients {
  readonly dynamodb: DynamoDBClient;
  readonly kinesis: KinesisClient;
  destroy(): void;
}

/**
 * Clients for the embedded engines or LocalStack. The Kinesis client needs an HTTP/1.1 handler: the SDK's
 * default HTTP/2 fails against these plain-HTTP ports with "Protocol error".
 */
function localClients(endpoints: { readonly dynamodb: string; readonly kinesis: string }): LocalClients {
  const requestHandler = () =>
    new NodeHttpHandler({
      httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }),
      requestTimeout: 30_000,
    });
  const dynamodb = new DynamoDBClient({
    endpoint: endpoints.dynamodb,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    requestHandler: requestHandler(),
    maxAttempts: 5,
  });
  const kinesis = new KinesisClient({
    endpoint: endpoints.kinesis,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    requestHandler: requestHandler(),
    maxAttempts: 5,
  });
  return {
    dynamodb,
    kinesis,
    destroy: () => {
      dynamodb.destroy();
      kinesis.destroy();
    },
  };
}

export type { LocalClients };
export { LOCAL_CREDENTIALS, LOCAL_REGION, localClients };
