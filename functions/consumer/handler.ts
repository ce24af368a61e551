/**
 * Composition root of the consumer Lambda: reads the environment once, at module scope, and builds the
 * handler from `create-handler.ts`.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { ENV, METRICS } from '../../core/constants.js';
import { DynamoDbCoordinationStore } from '../../core/coordination/dynamodb-store.js';
import { configSourceFromEnv } from './config-source.js';
import { lambdaDynamoDbClient } from './dynamodb-client.js';
import { createConfigFollowingHandler } from './follow-config.js';
import { withInstanceReporting } from './instance-reporting.js';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '')
    throw new Error(`environment variable ${name} is not set; the stack sets it on the consumer function`);
  return value;
}

const logger = new Logger({ serviceName: METRICS.service });
const metrics = new Metrics({ namespace: METRICS.namespace, serviceName: METRICS.service });
const dynamodb = lambdaDynamoDbClient();
const configSource = configSourceFromEnv(process.env, { logger, metrics });

// AppConfig (agent or AppConfigData) when the stack names a profile, else CDCP_CONFIG_JSON; followed per batch.
// This execution environment registers at its first batch and heartbeats after batches (docs/architecture.md §6).
export const { handler } = withInstanceReporting(
  createConfigFollowingHandler({
    dynamodb,
    stateTable: required(ENV.STATE_TABLE),
    parkedTable: required(ENV.PARKED_TABLE),
    configSource,
    logger,
    metrics,
  }),
  {
    store: new DynamoDbCoordinationStore({ client: dynamodb, tableName: required(ENV.COORDINATION_TABLE) }),
    config: () => configSource.current(),
    logger,
    metrics,
  },
);
