/**
 * Composition root of the cluster manager Lambda: reads the environment once, at module scope, and builds
 * the handler from `create-handler.ts`.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { AppConfigPublisher } from '../../core/config/appconfig-publisher.js';
import { ENV, METRICS } from '../../core/constants.js';
import { DynamoDbCoordinationStore } from '../../core/coordination/dynamodb-store.js';
import { InstanceRegistry } from '../../core/coordination/instance-registry.js';
import { LeaderElection } from '../../core/coordination/leader-election.js';
import { DeferredSweep } from '../../core/processing/deferred-sweep.js';
import { configuredProjection } from '../../core/processing/projection.js';
import { ParkedReplayer } from '../../core/processing/replay.js';
import {
  CloudWatchMetricsSource,
  ClusterManager,
  ConfigSheddingControl,
  DynamoDbAuditLog,
  Housekeeper,
  hotKeysFromInstances,
  KinesisStreamControl,
  LambdaParallelizationControl,
  policyFromConfig,
} from '../../core/scaling/index.js';
import { ParkedStore } from '../../core/state/parked-store.js';
import { StateStore } from '../../core/state/state-store.js';
import { configSourceFromEnv } from '../consumer/config-source.js';
import { lambdaDynamoDbClient } from '../consumer/dynamodb-client.js';
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

const dynamodb = lambdaDynamoDbClient();
const coordinationTable = required(ENV.COORDINATION_TABLE);
const streamName = required(ENV.STREAM_NAME);
const store = new DynamoDbCoordinationStore({ client: dynamodb, tableName: coordinationTable });
const instanceId = InstanceRegistry.newInstanceId('lambda');
const logger = new Logger({ serviceName: METRICS.clusterManagerService });
const metrics = new Metrics({ namespace: METRICS.namespace, serviceName: METRICS.clusterManagerService });
// Module scope on purpose: liveness and lease judgements need this observer's clock across runs.
const registry = new InstanceRegistry({
  store,
  failureDetectionMs: FAILURE_DETECTION_MS,
  heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
});
const configSource = configSourceFromEnv(process.env, { logger, metrics });
const appConfigIds = [
  ENV.APPCONFIG_APPLICATION_ID,
  ENV.APPCONFIG_ENVIRONMENT_ID,
  ENV.APPCONFIG_PROFILE_ID,
  ENV.APPCONFIG_DEPLOYMENT_STRATEGY_ID,
].map((name) => process.env[name]);
const publisher = appConfigIds.every((id) => id !== undefined && id !== '')
  ? new AppConfigPublisher({
      client: new AppConfigClient({}),
      applicationId: appConfigIds[0]!,
      environmentId: appConfigIds[1]!,
      profileId: appConfigIds[2]!,
      deploymentStrategyId: appConfigIds[3]!,
    })
  : undefined;
const mappingId = process.env[ENV.EVENT_SOURCE_MAPPING_ID];
/** Consumers report the keys counted since their previous heartbeat: a count per heartbeat interval is a rate. */
const consumerHeartbeatMs = () => {
  const { instances } = configSource.current().config;
  return instances.failureDetectionMs / instances.heartbeatsPerWindow;
};

// Deferred changes of a resumed table (or of lifted shedding) whose aggregates get no new change: the leader
// replays them, in order, through the consumer's projection (a deployment with its own projection passes it here too).
const stateTable = required(ENV.STATE_TABLE);
const parkedStore = new ParkedStore({ client: dynamodb, tableName: required(ENV.PARKED_TABLE) });
const deferredSweep = new DeferredSweep({
  replayDeferred: (isDeferred) => {
    const { config } = configSource.current();
    const stateStore = new StateStore({
      client: dynamodb,
      tableName: stateTable,
      tombstoneTtlSeconds: config.processing.tombstoneTtlSeconds,
    });
    return new ParkedReplayer({
      stateStore,
      parkedStore,
      projection: configuredProjection(config),
    }).replayDeferred(isDeferred);
  },
});

export const handler = createClusterManagerHandler({
  registry,
  election: new LeaderElection({ store, candidateId: instanceId, leaseDurationMs: LEADER_LEASE_DURATION_MS }),
  logger,
  metrics,
  manager: new ClusterManager({
    stream: new KinesisStreamControl({ kinesis: new KinesisClient({}), streamName }),
    metrics: new CloudWatchMetricsSource({
      client: new CloudWatchClient({}),
      streamName,
      hotKeys: async () =>
        hotKeysFromInstances(await registry.listLive(), { heartbeatIntervalMs: consumerHeartbeatMs() }),
    }),
    audit: new DynamoDbAuditLog({ client: dynamodb, tableName: coordinationTable }),
    parallelization: mappingId
      ? new LambdaParallelizationControl({ lambda: new LambdaClient({}), uuid: mappingId })
      : undefined,
    shedding:
      publisher === undefined
        ? undefined
        : new ConfigSheddingControl({ publisher, initial: () => configSource.current().config }),
    housekeeper: new Housekeeper({ registry }),
    policy: async () => policyFromConfig((await configSource.refresh()).config),
  }),
  sweepDeferred: async () => deferredSweep.sweepIfDue(configSource.current().config),
  config: () => configSource.current(),
});
