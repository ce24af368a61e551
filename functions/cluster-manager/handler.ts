/**
 * Composition root of the cluster manager Lambda: reads the environment once, at module scope, and builds
 * the handler from `create-handler.ts`.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ENV, METRICS } from '../../core/constants.js';
import { DynamoDbCoordinationStore } from '../../core/coordination/dynamodb-store.js';
import { InstanceRegistry } from '../../core/coordination/instance-registry.js';
import { LeaderElection } from '../../core/coordination/leader-election.js';
import { createClusterManagerHandler } from './create-handler.js';

/** Runs are a minute apart: leadership outlives 2.5 runs, so one slow or missed run does not hand it over. */
const LEADER_LEASE_DURATION_MS = 150_000;
/** This environment heartbeats once per run; observers here wait three runs before presuming an instance dead. */
const FAILURE_DETECTION_MS = 180_000;
const HEARTBEAT_INTERVAL_MS = 60_000;

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '')
    throw new Error(
      `environment variable ${name} is not set; the stack sets it on the cluster manager function`,
    );
  return value;
}

const store = new DynamoDbCoordinationStore({
  client: new DynamoDBClient({}),
  tableName: required(ENV.COORDINATION_TABLE),
});
const instanceId = InstanceRegistry.newInstanceId('lambda');

export const handler = createClusterManagerHandler({
  registry: new InstanceRegistry({
    store,
    failureDetectionMs: FAILURE_DETECTION_MS,
    heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
  }),
  election: new LeaderElection({ store, candidateId: instanceId, leaseDurationMs: LEADER_LEASE_DURATION_MS }),
  logger: new Logger({ serviceName: METRICS.clusterManagerService }),
  metrics: new Metrics({ namespace: METRICS.namespace, serviceName: METRICS.clusterManagerService }),
});
