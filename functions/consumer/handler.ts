/**
 * Composition root of the consumer Lambda: reads the environment once, at module scope, and builds the
 * handler from `create-handler.ts`.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseConfig } from '../../core/config/schema.js';
import { ENV, METRICS } from '../../core/constants.js';
import { createConsumerHandler } from './create-handler.js';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '')
    throw new Error(`environment variable ${name} is not set; the stack sets it on the consumer function`);
  return value;
}

const rawConfig = process.env[ENV.CONFIG_JSON];
const config = parseConfig(rawConfig === undefined || rawConfig === '' ? {} : JSON.parse(rawConfig));

export const handler = createConsumerHandler({
  dynamodb: new DynamoDBClient({}),
  stateTable: required(ENV.STATE_TABLE),
  parkedTable: required(ENV.PARKED_TABLE),
  config,
  logger: new Logger({ serviceName: METRICS.service }),
  metrics: new Metrics({ namespace: METRICS.namespace, serviceName: METRICS.service }),
});
