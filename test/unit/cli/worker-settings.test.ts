import { describe, expect, it } from 'vitest';
import { parseWorkerSettings, settingsHelp, WorkerSettingsError } from '../../../bin/worker/settings.js';
import { ENV } from '../../../core/constants.js';
import { messageOf } from '../../../core/errors.js';

/** What a task definition sets at the least. */
const TASK_ENV = {
  [ENV.STREAM_NAME]: 'orders',
  [ENV.STATE_TABLE]: 'state',
  [ENV.PARKED_TABLE]: 'parked',
  [ENV.COORDINATION_TABLE]: 'coordination',
};

const errorOf = (args: readonly string[], env: NodeJS.ProcessEnv): string => {
  try {
    parseWorkerSettings(args, env);
  } catch (error) {
    expect(error).toBeInstanceOf(WorkerSettingsError);
    return messageOf(error);
  }
  throw new Error('expected a settings error');
};

describe('Function: parseWorkerSettings', () => {
  it('runs from the environment alone, with Lambda’s mapping defaults, polling, a health port and a stop timeout', () => {
    const settings = parseWorkerSettings([], TASK_ENV);

    expect(settings).toMatchObject({
      streamName: 'orders',
      streamArn: undefined,
      stateTable: 'state',
      parkedTable: 'parked',
      coordinationTable: 'coordination',
      region: undefined,
      instanceId: undefined,
      health: { port: 8080, host: '0.0.0.0' },
      stopTimeoutMs: 25_000,
      reader: { kind: 'polling' },
      mapping: {},
      projectionModule: undefined,
    });
    expect(settings.config.kind).toBe('environment');
  });

  it('takes every setting from its variable, and a flag wins over its variable', () => {
    const settings = parseWorkerSettings(['--batch-size', '250', '--region', 'eu-west-1'], {
      ...TASK_ENV,
      [ENV.WORKER_BATCH_SIZE]: '500',
      [ENV.WORKER_PARALLELIZATION_FACTOR]: '4',
      [ENV.WORKER_MAX_RECORD_AGE_SECONDS]: '-1',
      [ENV.WORKER_STARTING_POSITION]: 'LATEST',
      [ENV.WORKER_READER]: 'fan-out',
      [ENV.WORKER_RESUBSCRIBE_MS]: '60000',
      [ENV.WORKER_HEALTH_PORT]: '0',
      [ENV.WORKER_STOP_TIMEOUT_MS]: '110000',
      [ENV.WORKER_INSTANCE_ID]: 'worker-a',
      [ENV.AWS_REGION]: 'us-east-1',
    });

    expect(settings.mapping).toEqual({
      batchSize: 250,
      parallelizationFactor: 4,
      maximumRecordAgeSeconds: -1,
      startingPosition: 'LATEST',
    });
    expect(settings).toMatchObject({
      region: 'eu-west-1',
      instanceId: 'worker-a',
      health: { port: 0 },
      stopTimeoutMs: 110_000,
      reader: { kind: 'fan-out', consumerName: 'cdcp-workers', resubscribeIntervalMs: 60_000 },
    });
  });

  it('reads AppConfig ids like the Lambda consumer, and prefers a local config store when one is given', () => {
    const appConfig = parseWorkerSettings(['--appconfig-profile', 'p'], {
      ...TASK_ENV,
      [ENV.APPCONFIG_APPLICATION_ID]: 'a',
      [ENV.APPCONFIG_ENVIRONMENT_ID]: 'e',
    });
    const local = parseWorkerSettings([], { ...TASK_ENV, [ENV.CONFIG_FILE]: '.cdcp/config.json' });

    expect(appConfig.config).toMatchObject({
      kind: 'environment',
      env: {
        [ENV.APPCONFIG_APPLICATION_ID]: 'a',
        [ENV.APPCONFIG_ENVIRONMENT_ID]: 'e',
        [ENV.APPCONFIG_PROFILE_ID]: 'p',
      },
    });
    expect(local.config).toEqual({ kind: 'file', path: '.cdcp/config.json' });
  });

  it('turns the health endpoint off on request', () => {
    expect(parseWorkerSettings(['--health-port', 'off'], TASK_ENV).health).toBeUndefined();
  });

  describe('errors: one line naming the variable or flag, the value received and what to set', () => {
    it.each([
      [
        'a missing variable',
        [],
        { ...TASK_ENV, [ENV.COORDINATION_TABLE]: undefined },
        'CDCP_COORDINATION_TABLE is not set (received nothing): set it, or pass --coordination-table NAME, to the coordination table (instances, leases, leaders)',
      ],
      [
        'a number out of Lambda’s range, from the environment',
        [],
        { ...TASK_ENV, [ENV.WORKER_BATCH_SIZE]: '20000' },
        'CDCP_WORKER_BATCH_SIZE must be an integer in 1..10000; received "20000". Set it (or --batch-size) to the number of records per handler invocation',
      ],
      [
        'a blank number, from a flag',
        ['--parallelization-factor', ' '],
        TASK_ENV,
        '--parallelization-factor must be an integer in 1..10; received " ". Set it (or CDCP_WORKER_PARALLELIZATION_FACTOR) to the number of concurrent batches per shard (one partition key always in one of them)',
      ],
      [
        'an unknown reader',
        [],
        { ...TASK_ENV, [ENV.WORKER_READER]: 'efo' },
        'CDCP_WORKER_READER must be one of polling, fan-out; received "efo". Set it (or --reader) to polling (GetRecords) or fan-out (enhanced fan-out, SubscribeToShard)',
      ],
      [
        'a renewal past the five minutes a subscription lasts',
        ['--reader', 'fan-out', '--resubscribe-ms', '600000'],
        TASK_ENV,
        '--resubscribe-ms must be an integer from 5000 to 300000; received "600000". Set it (or CDCP_WORKER_RESUBSCRIBE_MS) to the ms after which a fan-out subscription is renewed (Kinesis ends one after five minutes)',
      ],
      [
        'a port that is not one',
        [],
        { ...TASK_ENV, [ENV.WORKER_HEALTH_PORT]: '80800' },
        'CDCP_WORKER_HEALTH_PORT must be an integer from 0 to 65535; received "80800". Set it (or --health-port) to the health endpoint\'s port (0: any free port; off: none)',
      ],
      [
        'some of the AppConfig ids',
        [],
        { ...TASK_ENV, [ENV.APPCONFIG_APPLICATION_ID]: 'a' },
        'AppConfig needs all three ids; CDCP_APPCONFIG_ENVIRONMENT_ID and CDCP_APPCONFIG_PROFILE_ID are not set (received nothing): set them, or unset the others to run on CDCP_CONFIG_JSON',
      ],
      [
        'an unknown flag',
        ['--batchsize', '5'],
        TASK_ENV,
        "Unknown option '--batchsize'. Run `cdcp worker --help` for the settings.",
      ],
    ])('%s', (_case, args, env, message) => {
      const received = errorOf(args, env as NodeJS.ProcessEnv);

      expect(received).toBe(message);
      expect(received).not.toContain('\n');
    });
  });
});

describe('Function: settingsHelp', () => {
  it('lists every setting with its flag, its variable and its default', () => {
    const help = settingsHelp();

    for (const name of [
      ENV.STREAM_NAME,
      ENV.WORKER_STOP_TIMEOUT_MS,
      ENV.WORKER_READER,
      ENV.WORKER_HEALTH_PORT,
    ])
      expect(help).toContain(name);
    expect(help).toContain('--stop-timeout-ms MS');
    expect(help).toContain('(default: 25000)');
  });
});
