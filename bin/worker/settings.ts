/**
 * What `cdcp worker` is told, from flags and environment variables only (a flag wins over its variable), so
 * that a container needs nothing but its environment. Every error names the flag or variable, the value
 * received and what to set.
 */
import { parseArgs } from 'node:util';
import { ENV, WORKER } from '../../core/constants.js';
import { messageOf } from '../../core/errors.js';
import {
  type MappingSettings,
  mappingSettingProblem,
  type NumericSetting,
  STARTING_POSITIONS,
} from '../../core/esm/settings.js';

/** Where the worker's configuration comes from. */
type ConfigSetting =
  /** A watched local config store (`npm start`); `cdcp config set` changes it. */
  | { readonly kind: 'file'; readonly path: string }
  /** The AppConfig profile when its three ids are set (the Lambda consumer's source), else CDCP_CONFIG_JSON. */
  | { readonly kind: 'environment'; readonly env: NodeJS.ProcessEnv };

type ReaderSetting =
  | { readonly kind: 'polling' }
  | { readonly kind: 'fan-out'; readonly consumerName: string; readonly resubscribeIntervalMs: number };

interface WorkerSettings {
  readonly streamName: string;
  /** Undefined: asked of DescribeStreamSummary at start. */
  readonly streamArn: string | undefined;
  readonly stateTable: string;
  readonly parkedTable: string;
  readonly coordinationTable: string;
  /** Undefined: the SDK's (AWS_REGION, the profile, the container's metadata). */
  readonly region: string | undefined;
  /** Undefined: `worker-<host>-<random>`. */
  readonly instanceId: string | undefined;
  readonly config: ConfigSetting;
  /** Undefined: no health endpoint. */
  readonly health: { readonly port: number; readonly host: string } | undefined;
  readonly stopTimeoutMs: number;
  readonly reader: ReaderSetting;
  /** Only what was given; the rest takes Lambda's defaults. */
  readonly mapping: Partial<MappingSettings>;
  readonly projectionModule: string | undefined;
  /** A supervisor (`npm start`) on the IPC channel gets every handler invocation. */
  readonly reportInvocations: boolean;
  /** How often figures go to the supervisor. */
  readonly statsIntervalMs: number;
}

/** A setting was missing or invalid; the message is the one line a person sees. */
class WorkerSettingsError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'WorkerSettingsError';
  }
}

interface Option {
  readonly flag: string;
  /** Undefined for flags a supervisor passes (no variable). */
  readonly env?: string;
  readonly arg?: string;
  readonly purpose: string;
  readonly fallback?: string;
}

const DEFAULT_STOP_TIMEOUT_MS = WORKER.stopTimeoutMs;
const DEFAULT_HEALTH_PORT = WORKER.healthPort;
const DEFAULT_FAN_OUT_CONSUMER = WORKER.fanOutConsumerName;

const OPTIONS = {
  stream: { flag: 'stream', env: ENV.STREAM_NAME, arg: 'NAME', purpose: 'the Kinesis stream to read' },
  streamArn: {
    flag: 'stream-arn',
    env: ENV.STREAM_ARN,
    arg: 'ARN',
    purpose: "the stream's ARN",
    fallback: 'asked of DescribeStreamSummary',
  },
  stateTable: {
    flag: 'state-table',
    env: ENV.STATE_TABLE,
    arg: 'NAME',
    purpose: 'the per-aggregate state table',
  },
  parkedTable: {
    flag: 'parked-table',
    env: ENV.PARKED_TABLE,
    arg: 'NAME',
    purpose: 'the parked-change table',
  },
  coordinationTable: {
    flag: 'coordination-table',
    env: ENV.COORDINATION_TABLE,
    arg: 'NAME',
    purpose: 'the coordination table (instances, leases, leaders)',
  },
  region: {
    flag: 'region',
    env: ENV.AWS_REGION,
    arg: 'REGION',
    purpose: 'the AWS region',
    fallback: "the SDK's",
  },
  appConfigApplication: {
    flag: 'appconfig-application',
    env: ENV.APPCONFIG_APPLICATION_ID,
    arg: 'ID',
    purpose: 'the AppConfig application id',
  },
  appConfigEnvironment: {
    flag: 'appconfig-environment',
    env: ENV.APPCONFIG_ENVIRONMENT_ID,
    arg: 'ID',
    purpose: 'the AppConfig environment id',
  },
  appConfigProfile: {
    flag: 'appconfig-profile',
    env: ENV.APPCONFIG_PROFILE_ID,
    arg: 'ID',
    purpose: 'the AppConfig configuration profile id',
  },
  configFile: {
    flag: 'config-file',
    env: ENV.CONFIG_FILE,
    arg: 'PATH',
    purpose: 'a local config store to watch instead of AppConfig (npm start)',
  },
  instanceId: {
    flag: 'instance-id',
    env: ENV.WORKER_INSTANCE_ID,
    arg: 'ID',
    purpose: "this worker's id in the instance registry",
    fallback: 'worker-<host>-<random>',
  },
  healthPort: {
    flag: 'health-port',
    env: ENV.WORKER_HEALTH_PORT,
    arg: 'N|off',
    purpose: "the health endpoint's port (0: any free port; off: none)",
    fallback: String(DEFAULT_HEALTH_PORT),
  },
  healthHost: {
    flag: 'health-host',
    env: ENV.WORKER_HEALTH_HOST,
    arg: 'ADDRESS',
    purpose: 'the address the health endpoint listens on',
    fallback: '0.0.0.0',
  },
  stopTimeoutMs: {
    flag: 'stop-timeout-ms',
    env: ENV.WORKER_STOP_TIMEOUT_MS,
    arg: 'MS',
    purpose: "the longest the hand-off after SIGTERM may take (keep it under the task's stop timeout)",
    fallback: String(DEFAULT_STOP_TIMEOUT_MS),
  },
  reader: {
    flag: 'reader',
    env: ENV.WORKER_READER,
    arg: 'polling|fan-out',
    purpose: 'polling (GetRecords) or fan-out (enhanced fan-out, SubscribeToShard)',
    fallback: 'polling',
  },
  fanOutConsumer: {
    flag: 'fan-out-consumer',
    env: ENV.WORKER_FAN_OUT_CONSUMER,
    arg: 'NAME',
    purpose: "the fleet's registered stream consumer (fan-out)",
    fallback: DEFAULT_FAN_OUT_CONSUMER,
  },
  resubscribeMs: {
    flag: 'resubscribe-ms',
    env: ENV.WORKER_RESUBSCRIBE_MS,
    arg: 'MS',
    purpose: 'the ms after which a fan-out subscription is renewed (Kinesis ends one after five minutes)',
    fallback: '300000',
  },
  batchSize: {
    flag: 'batch-size',
    env: ENV.WORKER_BATCH_SIZE,
    arg: 'N',
    purpose: 'the number of records per handler invocation',
    fallback: '100',
  },
  batchingWindowMs: {
    flag: 'batching-window-ms',
    env: ENV.WORKER_BATCHING_WINDOW_MS,
    arg: 'MS',
    purpose: 'the longest time to gather a batch',
    fallback: '0',
  },
  parallelizationFactor: {
    flag: 'parallelization-factor',
    env: ENV.WORKER_PARALLELIZATION_FACTOR,
    arg: 'N',
    purpose: 'the number of concurrent batches per shard (one partition key always in one of them)',
    fallback: '1',
  },
  maxRetryAttempts: {
    flag: 'max-retry-attempts',
    env: ENV.WORKER_MAX_RETRY_ATTEMPTS,
    arg: 'N',
    purpose: 'the retries of a failing batch before its records are parked (-1: until they expire)',
    fallback: '-1',
  },
  maxRecordAgeSeconds: {
    flag: 'max-record-age-seconds',
    env: ENV.WORKER_MAX_RECORD_AGE_SECONDS,
    arg: 'S',
    purpose: 'the age in seconds past which records are parked (-1: never)',
    fallback: '-1',
  },
  startingPosition: {
    flag: 'starting-position',
    env: ENV.WORKER_STARTING_POSITION,
    arg: 'TRIM_HORIZON|LATEST',
    purpose: 'where a shard without a checkpoint starts',
    fallback: 'TRIM_HORIZON',
  },
  projection: {
    flag: 'projection',
    env: ENV.WORKER_PROJECTION_MODULE,
    arg: 'MODULE',
    purpose: 'a module whose default export is the projection to apply',
    fallback: 'the mirror projection',
  },
  reportInvocations: {
    flag: 'report-invocations',
    purpose: 'send every handler invocation to the supervisor on the IPC channel (tests)',
  },
  statsIntervalMs: {
    flag: 'stats-interval-ms',
    arg: 'MS',
    purpose: 'the ms between figures sent to the supervisor on the IPC channel',
    fallback: '500',
  },
} as const satisfies Record<string, Option>;

type OptionName = keyof typeof OPTIONS;

/** The mapping settings and the options that set them. */
const MAPPING_OPTIONS: readonly (readonly [OptionName, NumericSetting])[] = [
  ['batchSize', 'batchSize'],
  ['batchingWindowMs', 'maximumBatchingWindowMs'],
  ['parallelizationFactor', 'parallelizationFactor'],
  ['maxRetryAttempts', 'maximumRetryAttempts'],
  ['maxRecordAgeSeconds', 'maximumRecordAgeSeconds'],
];

/** `Number`, except that blank is not 0. */
const numberOf = (raw: string) => (raw.trim() === '' ? Number.NaN : Number(raw));

/** A value as given, and where: the flag or the variable. */
interface Given {
  readonly raw: string;
  readonly source: string;
}

class SettingsReader {
  readonly #flags: Record<string, string | boolean | undefined>;
  readonly #env: NodeJS.ProcessEnv;

  public constructor(flags: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv) {
    this.#flags = flags;
    this.#env = env;
  }

  public given(name: OptionName): Given | undefined {
    const option: Option = OPTIONS[name];
    const flag = this.#flags[option.flag];
    if (typeof flag === 'string') return { raw: flag, source: `--${option.flag}` };
    const value = option.env === undefined ? undefined : this.#env[option.env];
    if (value !== undefined && value !== '') return { raw: value, source: option.env! };
    return undefined;
  }

  public required(name: OptionName): string {
    const given = this.given(name);
    if (given !== undefined) return given.raw;
    const option: Option = OPTIONS[name];
    throw new WorkerSettingsError(
      `${option.env} is not set (received nothing): set it, or pass --${option.flag} ${option.arg}, to ${option.purpose}`,
    );
  }

  public optional(name: OptionName): string | undefined {
    return this.given(name)?.raw;
  }

  public integer(name: OptionName, min: number, max: number): number | undefined {
    const given = this.given(name);
    if (given === undefined) return undefined;
    const value = numberOf(given.raw);
    if (!Number.isInteger(value) || value < min || value > max)
      throw this.invalid(name, given, `an integer from ${min} to ${max}`);
    return value;
  }

  public oneOf<T extends string>(name: OptionName, allowed: readonly T[]): T | undefined {
    const given = this.given(name);
    if (given === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(given.raw))
      throw this.invalid(name, given, `one of ${allowed.join(', ')}`);
    return given.raw as T;
  }

  public invalid(name: OptionName, given: Given, requirement: string): WorkerSettingsError {
    const option: Option = OPTIONS[name];
    const other = given.source.startsWith('--') ? option.env : `--${option.flag}`;
    return new WorkerSettingsError(
      `${given.source} must be ${requirement}; received ${JSON.stringify(given.raw)}. Set it${other === undefined ? '' : ` (or ${other})`} to ${option.purpose}`,
    );
  }
}

function mappingOf(reader: SettingsReader): Partial<MappingSettings> {
  const mapping: Record<string, unknown> = {};
  for (const [option, setting] of MAPPING_OPTIONS) {
    const given = reader.given(option);
    if (given === undefined) continue;
    const value = numberOf(given.raw);
    const problem = mappingSettingProblem(setting, value);
    if (problem !== undefined) throw reader.invalid(option, given, problem);
    mapping[setting] = value;
  }
  const startingPosition = reader.oneOf('startingPosition', STARTING_POSITIONS);
  if (startingPosition !== undefined) mapping.startingPosition = startingPosition;
  return mapping as Partial<MappingSettings>;
}

function configOf(reader: SettingsReader, env: NodeJS.ProcessEnv): ConfigSetting {
  const path = reader.optional('configFile');
  if (path !== undefined) return { kind: 'file', path };
  const ids = (['appConfigApplication', 'appConfigEnvironment', 'appConfigProfile'] as const).map((name) => ({
    name,
    value: reader.optional(name),
  }));
  const missing = ids.filter((id) => id.value === undefined);
  if (missing.length > 0 && missing.length < ids.length)
    throw new WorkerSettingsError(
      `AppConfig needs all three ids; ${missing.map((m) => OPTIONS[m.name].env).join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not set (received nothing): set ${missing.length === 1 ? 'it' : 'them'}, or unset the others to run on CDCP_CONFIG_JSON`,
    );
  return {
    kind: 'environment',
    env: {
      ...env,
      [ENV.APPCONFIG_APPLICATION_ID]: ids[0]!.value,
      [ENV.APPCONFIG_ENVIRONMENT_ID]: ids[1]!.value,
      [ENV.APPCONFIG_PROFILE_ID]: ids[2]!.value,
    },
  };
}

function healthOf(reader: SettingsReader): WorkerSettings['health'] {
  const host = reader.optional('healthHost') ?? '0.0.0.0';
  const port = reader.given('healthPort');
  if (port?.raw === 'off') return undefined;
  return { port: reader.integer('healthPort', 0, 65_535) ?? DEFAULT_HEALTH_PORT, host };
}

function readerOf(reader: SettingsReader): ReaderSetting {
  const kind = reader.oneOf('reader', ['polling', 'fan-out'] as const) ?? 'polling';
  if (kind === 'polling') return { kind };
  return {
    kind,
    consumerName: reader.optional('fanOutConsumer') ?? DEFAULT_FAN_OUT_CONSUMER,
    resubscribeIntervalMs: reader.integer('resubscribeMs', 5_000, 300_000) ?? 300_000,
  };
}

/**
 * Reads the worker's settings from its arguments (after `cdcp worker`) and environment.
 *
 * @example
 * ```ts
 * const settings = parseWorkerSettings(['--reader', 'fan-out'], process.env);
 * ```
 */
function parseWorkerSettings(args: readonly string[], env: NodeJS.ProcessEnv): WorkerSettings {
  let flags: Record<string, string | boolean | undefined>;
  try {
    ({ values: flags } = parseArgs({
      args: [...args],
      strict: true,
      options: Object.fromEntries(
        Object.values(OPTIONS).map((o: Option) => [
          o.flag,
          { type: o.arg === undefined ? 'boolean' : 'string' },
        ]),
      ) as Record<string, { type: 'string' | 'boolean' }>,
    }));
  } catch (error) {
    throw new WorkerSettingsError(`${messageOf(error)}. Run \`cdcp worker --help\` for the settings.`);
  }
  const reader = new SettingsReader(flags, env);
  return {
    streamName: reader.required('stream'),
    streamArn: reader.optional('streamArn'),
    stateTable: reader.required('stateTable'),
    parkedTable: reader.required('parkedTable'),
    coordinationTable: reader.required('coordinationTable'),
    region: reader.optional('region'),
    instanceId: reader.optional('instanceId'),
    config: configOf(reader, env),
    health: healthOf(reader),
    stopTimeoutMs: reader.integer('stopTimeoutMs', 1_000, 600_000) ?? DEFAULT_STOP_TIMEOUT_MS,
    reader: readerOf(reader),
    mapping: mappingOf(reader),
    projectionModule: reader.optional('projection'),
    reportInvocations: flags['report-invocations'] === true,
    statsIntervalMs: reader.integer('statsIntervalMs', 50, 3_600_000) ?? 500,
  };
}

/** One line per setting, for `cdcp worker --help`. */
function settingsHelp(): string {
  return Object.values(OPTIONS)
    .map((o: Option) => {
      const flag = `--${o.flag}${o.arg === undefined ? '' : ` ${o.arg}`}`;
      const fallback = o.fallback === undefined ? '' : ` (default: ${o.fallback})`;
      return `  ${flag.padEnd(36)} ${o.env ?? '(flag only)'}\n  ${''.padEnd(36)} ${o.purpose}${fallback}`;
    })
    .join('\n');
}

export type { ConfigSetting, ReaderSetting, WorkerSettings };
export { parseWorkerSettings, settingsHelp, WorkerSettingsError };
