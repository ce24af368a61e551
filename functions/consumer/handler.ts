/**
 * Composition root of the consumer Lambda: reads the environment once, at module scope, and builds the
 * handler from `create-handler.ts`.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ENV, METRICS } from '../../core/constants.js';
import { configSourceFromEnv } from './config-source.js';
import { createConfigFollowingHandler } from './follow-config.js';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '')
    throw new Error(`environment variable ${name} is not set; the stack sets it on the consumer function`);
  return value;
}

const logger = new Logger({ serviceName: METRICS.service });
const metrics = new Metrics({ namespace: METRICS.namespace, serviceName: METRICS.service });

// AppConfig (agent or AppConfigData) when the stack names a profile, else CDCP_CONFIG_JSON; followed per batch.
export const handler = createConfigFollowingHandler({
  dynamodb: new DynamoDBClient({}),
  stateTable: required(ENV.STATE_TABLE),
  parkedTable: required(ENV.PARKED_TABLE),
  configSource: configSourceFromEnv(process.env, { logger, metrics }),
  logger,
  metrics,
});
