import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

/**
 * The DynamoDB client the Lambda functions use. `cacheMiddleware` resolves the SDK's middleware stack once per
 * command type instead of on every request: a consumer sends one UpdateItem per aggregate per batch, and the
 * per-request resolution was most of the garbage a batch left in old space (handler memory at batch 10,000
 * about halved; `npm run bench -- growth`). Middleware must therefore be added before the first request.
 */
function lambdaDynamoDbClient(config: DynamoDBClientConfig = {}): DynamoDBClient {
  return new DynamoDBClient({ cacheMiddleware: true, ...config });
}

export { lambdaDynamoDbClient };
