import { App, type AppProps, Duration, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CdcProcessorStack, type CdcProcessorStackProps } from './cdc-processor-stack.js';
import { CdcProcessorPropsError } from './errors.js';
import type { CdcProcessorProps } from './props.js';

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
  failureQueueMaxReceiveCount: 'number',
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
  failureQueueRetentionDays: ['failureQueueRetention', Duration.days],
  clusterManagerScheduleMinutes: ['clusterManagerSchedule', Duration.minutes],
  clusterManagerTimeoutSeconds: ['clusterManagerTimeout', Duration.seconds],
  configDeploymentDurationMinutes: ['configDeploymentDuration', Duration.minutes],
  configFinalBakeTimeMinutes: ['configFinalBakeTime', Duration.minutes],
  iteratorAgeAlarmThresholdMs: ['iteratorAgeAlarmThreshold', Duration.millis],
  sourceLatencyAlarmThresholdMs: ['sourceLatencyAlarmThreshold', Duration.millis],
  clusterManagerHeartbeatAlarmMinutes: ['clusterManagerHeartbeatAlarmPeriod', Duration.minutes],
} as const satisfies Record<string, readonly [keyof CdcProcessorProps, (amount: number) => Duration]>;

/** Reads prop overrides from the `cdcp` context value (an object, or its JSON from `-c`). */
function propsFromContext(app: App): Partial<CdcProcessorProps> {
  const raw: unknown = app.node.tryGetContext(PROPS_CONTEXT_KEY);
  if (raw === undefined) return {};
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new CdcProcessorPropsError(`context ${PROPS_CONTEXT_KEY}`, raw, 'must be a JSON object of props');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CdcProcessorPropsError(`context ${PROPS_CONTEXT_KEY}`, value, 'must be an object of props');
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
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

export type { CreateAppOptions };
export { CONTEXT_DURATIONS, CONTEXT_PROPS, createApp, PROPS_CONTEXT_KEY, propsFromContext, STACK_ID };
