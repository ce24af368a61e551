import { App, type AppProps, Duration, Validations } from 'aws-cdk-lib';
import { CpuArchitecture } from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CdcProcessorStack, type CdcProcessorStackProps } from './cdc-processor-stack.js';
import { CdcProcessorPropsError } from './errors.js';
import type { CdcProcessorProps } from './props.js';
import { type ContainerConsumerProps, ShardConsumer } from './shard-consumer.js';

/** Id (and default stack name) of the stack `cdk deploy` deploys. */
const STACK_ID = 'CdcProcessor';

/** Context key holding prop overrides: `cdk deploy -c cdcp='{"shardCount":4}'`, or `"cdcp": {…}` in cdk.json. */
const PROPS_CONTEXT_KEY = 'cdcp';

/** Props that can be set from context: the scalar ones (streams, tables, keys, topics and the config object need code). */
const CONTEXT_PROPS = {
  projectionEntry: 'string',
  shardCount: 'number',
  shardLevelMetrics: 'boolean',
  deletionProtection: 'boolean',
  consumerMemorySizeMiB: 'number',
  batchSize: 'number',
  parallelizationFactor: 'number',
  retryAttempts: 'number',
  bisectBatchOnError: 'boolean',
  startingPosition: 'string',
  consumerErrorsAlarmThreshold: 'number',
  parkedAlarmThreshold: 'number',
  dashboard: 'boolean',
  tracing: 'boolean',
  runbookUrl: 'string',
  configGrowthFactor: 'number',
} as const satisfies Partial<Record<keyof CdcProcessorProps, 'number' | 'boolean' | 'string'>>;

/**
 * Duration props, set from context as numbers of the unit in the key's name (JSON has no Duration):
 * `-c cdcp='{"consumerTimeoutSeconds":120}'`.
 */
const CONTEXT_DURATIONS = {
  streamRetentionHours: ['streamRetention', Duration.hours],
  consumerTimeoutSeconds: ['consumerTimeout', Duration.seconds],
  maxBatchingWindowSeconds: ['maxBatchingWindow', Duration.seconds],
  maxRecordAgeSeconds: ['maxRecordAge', Duration.seconds],
  failedBatchesRetentionDays: ['failedBatchesRetention', Duration.days],
  clusterManagerScheduleMinutes: ['clusterManagerSchedule', Duration.minutes],
  clusterManagerTimeoutSeconds: ['clusterManagerTimeout', Duration.seconds],
  configDeploymentDurationMinutes: ['configDeploymentDuration', Duration.minutes],
  configFinalBakeTimeMinutes: ['configFinalBakeTime', Duration.minutes],
  iteratorAgeAlarmThresholdMs: ['iteratorAgeAlarmThreshold', Duration.millis],
  sourceLatencyAlarmThresholdMs: ['sourceLatencyAlarmThreshold', Duration.millis],
  clusterManagerHeartbeatAlarmMinutes: ['clusterManagerHeartbeatAlarmPeriod', Duration.minutes],
} as const satisfies Record<string, readonly [keyof CdcProcessorProps, (amount: number) => Duration]>;

/** Context key choosing the consumer: `cdk synth -c consumer=containers` (default `lambda`). */
const CONSUMER_CONTEXT_KEY = 'consumer';

/** Context key holding the container fleet's settings: `-c containers='{"minWorkers":2,"reader":"fan-out"}'`. */
const CONTAINERS_CONTEXT_KEY = 'containers';

/** The fleet's settings context can set (the cluster, VPC and security groups need code). */
const CONTAINER_CONTEXT_PROPS = {
  minWorkers: 'number',
  maxWorkers: 'number',
  cpu: 'number',
  memoryLimitMiB: 'number',
  assignment: 'string',
  reader: 'string',
  fanOutConsumerName: 'string',
  containerInsights: 'boolean',
  assignPublicIp: 'boolean',
} as const satisfies Partial<Record<keyof ContainerConsumerProps, 'number' | 'boolean' | 'string'>>;

/** An object from context: as given in cdk.json, or its JSON from `-c`. */
function contextObject(app: App, key: string): Record<string, unknown> | undefined {
  const raw: unknown = app.node.tryGetContext(key);
  if (raw === undefined) return undefined;
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new CdcProcessorPropsError(`context ${key}`, raw, 'must be a JSON object of props');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CdcProcessorPropsError(`context ${key}`, value, 'must be an object of props');
  return value as Record<string, unknown>;
}

/** The container fleet's settings from the `containers` context value. */
function containerPropsFromContext(app: App): ContainerConsumerProps {
  const props: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(contextObject(app, CONTAINERS_CONTEXT_KEY) ?? {})) {
    const where = `context ${CONTAINERS_CONTEXT_KEY}.${key}`;
    if (key === 'workerStopTimeoutSeconds') {
      if (typeof v !== 'number') throw new CdcProcessorPropsError(where, v, 'must be a number');
      props.workerStopTimeout = Duration.seconds(v);
    } else if (key === 'cpuArchitecture') {
      if (v !== 'ARM64' && v !== 'X86_64')
        throw new CdcProcessorPropsError(where, v, "must be 'ARM64' or 'X86_64'");
      props.cpuArchitecture = v === 'ARM64' ? CpuArchitecture.ARM64 : CpuArchitecture.X86_64;
    } else if (Object.hasOwn(CONTAINER_CONTEXT_PROPS, key)) {
      const type = CONTAINER_CONTEXT_PROPS[key as keyof typeof CONTAINER_CONTEXT_PROPS];
      if (typeof v !== type) throw new CdcProcessorPropsError(where, v, `must be a ${type}`);
      props[key] = v;
    } else
      throw new CdcProcessorPropsError(
        where,
        v,
        `is not a setting that context can set; use one of ${[...Object.keys(CONTAINER_CONTEXT_PROPS), 'workerStopTimeoutSeconds', 'cpuArchitecture'].join(', ')}`,
      );
  }
  return props as ContainerConsumerProps;
}

/** The consumer from the `consumer` context value: `lambda` (the default) or `containers`. */
function consumerFromContext(app: App): Partial<CdcProcessorProps> {
  const kind: unknown = app.node.tryGetContext(CONSUMER_CONTEXT_KEY);
  const settings = app.node.tryGetContext(CONTAINERS_CONTEXT_KEY);
  if (kind === undefined || kind === 'lambda') {
    if (settings !== undefined)
      throw new CdcProcessorPropsError(
        `context ${CONTAINERS_CONTEXT_KEY}`,
        settings,
        `applies to the container fleet only; add -c ${CONSUMER_CONTEXT_KEY}=containers`,
      );
    return kind === undefined ? {} : { consumer: ShardConsumer.lambda() };
  }
  if (kind !== 'containers')
    throw new CdcProcessorPropsError(
      `context ${CONSUMER_CONTEXT_KEY}`,
      kind,
      "must be 'lambda' or 'containers'",
    );
  return { consumer: ShardConsumer.containers(containerPropsFromContext(app)) };
}

/** Reads prop overrides from the `cdcp` context value (an object, or its JSON from `-c`). */
function propsFromContext(app: App): Partial<CdcProcessorProps> {
  const value = contextObject(app, PROPS_CONTEXT_KEY);
  if (value === undefined) return {};
  const props: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (Object.hasOwn(CONTEXT_DURATIONS, key)) {
      const [prop, unit] = CONTEXT_DURATIONS[key as keyof typeof CONTEXT_DURATIONS];
      if (typeof v !== 'number')
        throw new CdcProcessorPropsError(`context ${PROPS_CONTEXT_KEY}.${key}`, v, 'must be a number');
      props[prop] = unit(v);
      continue;
    }
    const type = Object.hasOwn(CONTEXT_PROPS, key)
      ? CONTEXT_PROPS[key as keyof typeof CONTEXT_PROPS]
      : undefined;
    if (type === undefined)
      throw new CdcProcessorPropsError(
        `context ${PROPS_CONTEXT_KEY}.${key}`,
        v,
        `is not a prop that context can set; use one of ${[...Object.keys(CONTEXT_PROPS), ...Object.keys(CONTEXT_DURATIONS)].join(', ')}`,
      );
    if (typeof v !== type)
      throw new CdcProcessorPropsError(`context ${PROPS_CONTEXT_KEY}.${key}`, v, `must be a ${type}`);
    props[key] = v;
  }
  return props as Partial<CdcProcessorProps>;
}

interface CreateAppOptions {
  /** Passed to the App (context, outdir). */
  readonly app?: AppProps;
  /** Props of the stack; context overrides (`cdcp`) are applied on top. */
  readonly stackProps?: CdcProcessorStackProps;
  /** Run cdk-nag AwsSolutions during synthesis (findings fail it). @default true */
  readonly nag?: boolean;
}

/**
 * The CDK app `cdk synth` / `cdk deploy` run (through `bin/app.ts`) and the local provisioner synthesizes
 * in-process: one definition, so local runs and the cloud cannot drift.
 *
 * @example
 * ```ts
 * const { app } = createApp();
 * app.synth();
 * ```
 */
function createApp(options: CreateAppOptions = {}): { app: App; stack: CdcProcessorStack } {
  const app = new App(options.app);
  const stack = new CdcProcessorStack(app, STACK_ID, {
    description: 'cdc-event-processor: Kinesis change events to per-aggregate state in DynamoDB',
    ...options.stackProps,
    ...propsFromContext(app),
    ...consumerFromContext(app),
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

export type { CreateAppOptions };
export {
  CONSUMER_CONTEXT_KEY,
  CONTAINER_CONTEXT_PROPS,
  CONTAINERS_CONTEXT_KEY,
  CONTEXT_DURATIONS,
  CONTEXT_PROPS,
  consumerFromContext,
  createApp,
  PROPS_CONTEXT_KEY,
  propsFromContext,
  STACK_ID,
};
