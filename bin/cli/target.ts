import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { AppConfigPublisher } from '../../core/config/appconfig-publisher.js';
import type { ConfigPublisher } from '../../core/config/publisher.js';
import { type Config, defaultConfig } from '../../core/config/schema.js';
import { ENV, type TargetDocument } from '../../core/constants.js';
import { localClients } from '../../localstack/clients.js';
import { LocalConfigStore } from '../../localstack/config/local-config-store.js';
import { type RuntimeInfo, readRuntimeFile, runtimeFilePath } from '../../localstack/run/runtime-file.js';
import {
  MIRROR_IDENTITY,
  type ProjectionIdentity,
  parseProjectionIdentity,
} from '../../projection-module/identity.js';
import { CliError } from './command.js';
import { type AwsClientConfig, describeStackTarget } from './stack-outputs.js';

/** `any`: a deployed stack (`--stack`) or the local run; `local`: the running `npm start` only. */
type TargetKind = 'any' | 'local';

/** Table and stream names a command acts on. */
interface TargetNames {
  readonly stateTable: string;
  readonly parkedTable: string;
  readonly coordinationTable: string;
  readonly streamName: string;
}

interface TargetBase {
  /** For the line that says where a command acts: `stack Cdc in eu-west-1`, `the local run (pid 42)`. */
  readonly describe: string;
  readonly names: TargetNames;
  readonly dynamodb: DynamoDBClient;
  readonly kinesis: KinesisClient;
  /** The projection the target's consumers run. */
  readonly projection: ProjectionIdentity;
  /** The configuration in force: AppConfig's latest deployment for a stack, the run's store locally. */
  config(): Promise<Config>;
  /** Where `cdcp config set` publishes. */
  readonly publisher: ConfigPublisher;
  close(): void;
}

interface StackTarget extends TargetBase {
  readonly kind: 'aws';
  readonly stackName: string;
  readonly region: string;
  readonly document: TargetDocument;
  /** Region and profile for any other client a command needs (CloudWatch, Lambda). */
  readonly aws: AwsClientConfig & { readonly region: string };
}

interface LocalTarget extends TargetBase {
  readonly kind: 'local';
  readonly runtime: RuntimeInfo & { readonly configFile?: string; readonly projection?: unknown };
}

type Target = StackTarget | LocalTarget;

/** The flags and environment that pick a target. */
interface TargetSelection {
  readonly stack?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly local?: boolean;
}

function localTarget(runtime: LocalTarget['runtime']): LocalTarget {
  const clients = localClients(runtime.endpoints);
  const store =
    runtime.configFile === undefined ? undefined : new LocalConfigStore({ path: runtime.configFile });
  return {
    kind: 'local',
    describe: `the local run (npm start, pid ${runtime.pid}, ${runtime.endpoints.kinesisEngine})`,
    names: runtime.names,
    dynamodb: clients.dynamodb,
    kinesis: clients.kinesis,
    projection: parseProjectionIdentity(runtime.projection) ?? MIRROR_IDENTITY,
    runtime,
    config: async () => (await store?.current())?.config ?? runtime.config,
    get publisher(): ConfigPublisher {
      if (store === undefined)
        throw new CliError(
          `the local run (pid ${runtime.pid}) has no config store; restart it with \`npm start\``,
        );
      return store;
    },
    close: () => clients.destroy(),
  };
}

async function stackTarget(stackName: string, selection: TargetSelection): Promise<StackTarget> {
  const awsConfig: AwsClientConfig = {
    ...(selection.region === undefined ? {} : { region: selection.region }),
    ...(selection.profile === undefined ? {} : { profile: selection.profile }),
  };
  const { document, region } = await describeStackTarget(stackName, awsConfig);
  const aws = { ...awsConfig, region };
  const dynamodb = new DynamoDBClient(aws);
  const kinesis = new KinesisClient(aws);
  const appConfig = new AppConfigClient(aws);
  const publisher = new AppConfigPublisher({ client: appConfig, ...document.appConfig });
  return {
    kind: 'aws',
    describe: `stack ${stackName} in ${region}`,
    stackName,
    region,
    document,
    aws,
    names: {
      stateTable: document.stateTable,
      parkedTable: document.parkedTable,
      coordinationTable: document.coordinationTable,
      streamName: document.streamName,
    },
    dynamodb,
    kinesis,
    projection: document.projection,
    publisher,
    config: async () => (await publisher.current())?.config ?? defaultConfig(),
    close: () => {
      dynamodb.destroy();
      kinesis.destroy();
      appConfig.destroy();
    },
  };
}

/**
 * Picks where a command acts: `--local` the running `npm start`; `--stack NAME` (or CDCP_STACK) a deployed
 * stack through its outputs; neither, the running `npm start` if there is one. Never both: a stack named
 * while a local run is up still acts on the stack.
 */
async function resolveTarget(
  kind: TargetKind,
  selection: TargetSelection,
  env: NodeJS.ProcessEnv,
): Promise<Target> {
  const stack = selection.stack ?? (env[ENV.STACK] || undefined);
  if (selection.local === true && selection.stack !== undefined)
    throw new CliError(`--local and --stack ${selection.stack} name two targets; pass one`);
  if (kind === 'any' && selection.local !== true && stack !== undefined) return stackTarget(stack, selection);
  const runtime = readRuntimeFile();
  if (runtime !== undefined) return localTarget(runtime);
  throw new CliError(
    kind === 'local' || selection.local === true
      ? `no \`npm start\` is running in this folder (no live run in ${runtimeFilePath()}); start one with \`npm start\``
      : `no target: pass --stack NAME (a deployed stack) or set ${ENV.STACK}, or start \`npm start\` in this folder`,
  );
}

export type { LocalTarget, StackTarget, Target, TargetKind, TargetNames, TargetSelection };
export { resolveTarget };
