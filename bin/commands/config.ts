import { readFileSync, writeFileSync } from 'node:fs';
import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AppConfigPublisher } from '../../core/config/appconfig-publisher.js';
import { type ConfigConvergence, configConvergence } from '../../core/config/convergence.js';
import { ConfigPublishError, ConfigValidationError } from '../../core/config/errors.js';
import type { ConfigPublisher, PublishedConfig } from '../../core/config/publisher.js';
import { type Config, defaultConfig } from '../../core/config/schema.js';
import { replaceSettingsTable, settingsMarkdown } from '../../core/config/settings-table.js';
import { versionNumber } from '../../core/config/stamp.js';
import { parseConfigText } from '../../core/config/violations.js';
import { ENV } from '../../core/constants.js';
import { DynamoDbCoordinationStore } from '../../core/coordination/dynamodb-store.js';
import { InstanceRegistry } from '../../core/coordination/instance-registry.js';
import type { InstanceRecord } from '../../core/coordination/records.js';
import { localClients } from '../../localstack/clients.js';
import { LocalConfigStore } from '../../localstack/config/local-config-store.js';
import { type RuntimeInfo, readRuntimeFile } from '../../localstack/run/runtime-file.js';
import { CliError, type Command, type CommandContext, parseOptions } from './command.js';

/** Exit code of a document that was read but refused (violations listed). */
const EXIT_INVALID = 1;
/** A status observer sees an instance item for the first time: judge it by its wall-clock heartbeat. */
const STATUS_CLOCK_SKEW_ALLOWANCE_MS = 10_000;

const APPCONFIG_VARIABLES = [
  ENV.APPCONFIG_APPLICATION_ID,
  ENV.APPCONFIG_ENVIRONMENT_ID,
  ENV.APPCONFIG_PROFILE_ID,
  ENV.APPCONFIG_DEPLOYMENT_STRATEGY_ID,
] as const;

/** The running pipeline's runtime file; `configFile` is where `npm start` keeps its local config store. */
type RuntimeWithConfig = RuntimeInfo & { readonly configFile?: string };

/** Reads FILE (or stdin for `-`); a missing file is a usage error. */
async function readDocument(ctx: CommandContext, file: string | undefined, usage: string): Promise<string> {
  if (file === undefined) throw new CliError(`a FILE is required: cdcp ${usage}`);
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.stdin) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}; pass a JSON file (or - for stdin)`);
  }
}

/** Validates text; prints every violation and returns undefined when invalid. */
function validated(ctx: CommandContext, text: string, origin: string): Config | undefined {
  try {
    return parseConfigText(text, origin);
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    ctx.stderr.write(`${error.message}\n`);
    return undefined;
  }
}

/** Where `set`, `get` and `status` publish and read: AppConfig when its variables are set, else the local store. */
function resolvePublisher(env: NodeJS.ProcessEnv): {
  readonly publisher: ConfigPublisher;
  readonly describe: string;
  close(): void;
} {
  const set = APPCONFIG_VARIABLES.filter((name) => env[name]);
  if (set.length === APPCONFIG_VARIABLES.length) {
    const client = new AppConfigClient({});
    return {
      publisher: new AppConfigPublisher({
        client,
        applicationId: env[ENV.APPCONFIG_APPLICATION_ID]!,
        environmentId: env[ENV.APPCONFIG_ENVIRONMENT_ID]!,
        profileId: env[ENV.APPCONFIG_PROFILE_ID]!,
        deploymentStrategyId: env[ENV.APPCONFIG_DEPLOYMENT_STRATEGY_ID]!,
      }),
      describe: `AppConfig application ${env[ENV.APPCONFIG_APPLICATION_ID]}, environment ${env[ENV.APPCONFIG_ENVIRONMENT_ID]}, profile ${env[ENV.APPCONFIG_PROFILE_ID]}`,
      close: () => client.destroy(),
    };
  }
  if (set.length > 0)
    throw new CliError(
      `AppConfig is only partly configured: ${set.join(', ')} set but ${APPCONFIG_VARIABLES.filter((n) => !env[n]).join(', ')} not; ` +
        'set all four to publish to AppConfig, or none to use the local store',
    );
  const path = localStorePath(env);
  return { publisher: new LocalConfigStore({ path }), describe: `the local store ${path}`, close: () => {} };
}

function localStorePath(env: NodeJS.ProcessEnv): string {
  const runtime = readRuntimeFile() as RuntimeWithConfig | undefined;
  const path = runtime?.configFile ?? env[ENV.CONFIG_FILE];
  if (path === undefined || path === '')
    throw new CliError(
      `no config store was found: no running local pipeline names one (start one with \`npm start\`), ${ENV.CONFIG_FILE} ` +
        `is not set (received ${JSON.stringify(env[ENV.CONFIG_FILE] ?? null)}), and the AppConfig variables ` +
        `(${APPCONFIG_VARIABLES.join(', ')}) are not set`,
    );
  return path;
}

function describePublished(p: PublishedConfig): string {
  const deployment =
    p.deployment === undefined
      ? ''
      : `, deployment ${p.deployment.deploymentNumber} ${p.deployment.state}` +
        (p.deployment.percentageComplete === undefined ? '' : ` (${p.deployment.percentageComplete}%)`);
  return `version ${p.version} published ${new Date(p.publishedAtWallMs).toISOString()} to ${p.target}${deployment}`;
}

const defaults: Command = {
  path: ['config', 'defaults'],
  usage: 'config defaults',
  summary: 'print the complete default configuration as JSON',
  help: `Prints every setting with its default value, as a JSON document that \`cdcp config set\` accepts: a
starting point for your own configuration. docs/configuration.md says what each setting does.`,
  async run(ctx) {
    parseOptions(ctx.args, {});
    ctx.stdout.write(`${JSON.stringify(defaultConfig(), null, 2)}\n`);
    return 0;
  },
};

const validate: Command = {
  path: ['config', 'validate'],
  usage: 'config validate FILE',
  summary: 'check a configuration file; list every violation',
  help: `Validates FILE (JSON; - reads stdin) against the configuration schema. Exit 0 when it is valid;
otherwise exit 1 and one line per violation: its path, the value received and what was expected.`,
  async run(ctx) {
    const { positionals } = parseOptions(ctx.args, {}, true);
    const file = positionals[0];
    const text = await readDocument(ctx, file, 'config validate FILE');
    const config = validated(ctx, text, file === '-' ? 'stdin' : file!);
    if (config === undefined) return EXIT_INVALID;
    ctx.stderr.write(`${file === '-' ? 'stdin' : file} is a valid configuration\n`);
    return 0;
  },
};

const set: Command = {
  path: ['config', 'set'],
  usage: 'config set FILE [--description TEXT]',
  summary: 'validate and publish a configuration (AppConfig or the local store)',
  help: `Validates FILE (JSON; - reads stdin) and, only if it is valid, publishes it as the next version:
  - to AWS AppConfig when ${APPCONFIG_VARIABLES.join(', ')} are set: a new hosted configuration
    version and a deployment with the configured deployment strategy;
  - otherwise to the local store of the running \`npm start\` (or the file named by ${ENV.CONFIG_FILE}):
    an atomic write that every local worker picks up without restart.
The publisher stamps "version" (the next version number) and "publishedAt". An invalid file is refused
with every violation listed (exit 1) and nothing is published.

  --description TEXT   stored with the version (AppConfig description; the local history)`,
  async run(ctx) {
    const { values, positionals } = parseOptions(ctx.args, { description: { type: 'string' } }, true);
    const file = positionals[0];
    const text = await readDocument(ctx, file, 'config set FILE');
    const config = validated(ctx, text, file === '-' ? 'stdin' : file!);
    if (config === undefined) {
      ctx.stderr.write('nothing was published\n');
      return EXIT_INVALID;
    }
    const { publisher, close } = resolvePublisher(ctx.env);
    try {
      const published = await publisher.publish(config, { description: values.description });
      // A numeric version came from an earlier publish (`cdcp config get` output): re-stamping it is expected.
      if (config.version !== '0' && versionNumber(config.version) === 0)
        ctx.stderr.write(`note: the file's version "${config.version}" was replaced by the publisher's\n`);
      ctx.stdout.write(`${describePublished(published)}\n`);
      return 0;
    } catch (error) {
      if (error instanceof ConfigPublishError) throw new CliError(error.message, 1);
      throw error;
    } finally {
      close();
    }
  },
};

const get: Command = {
  path: ['config', 'get'],
  usage: 'config get',
  summary: 'print the configuration published now, as JSON',
  help: `Prints the newest published configuration (AppConfig: the latest deployment of the profile; locally:
the store of the running \`npm start\`) on stdout, and its version and publication time on stderr. Exit 1
when the store holds a corrupt or invalid document: the instances then stay on their last good version.`,
  async run(ctx) {
    parseOptions(ctx.args, {});
    const { publisher, describe, close } = resolvePublisher(ctx.env);
    try {
      const current = await publisher.current();
      if (current === undefined)
        throw new CliError(`nothing is published in ${describe}; publish with \`cdcp config set FILE\``, 1);
      ctx.stdout.write(`${JSON.stringify(current.config, null, 2)}\n`);
      ctx.stderr.write(`${describePublished(current)}\n`);
      return 0;
    } catch (error) {
      if (error instanceof ConfigValidationError || error instanceof ConfigPublishError)
        throw new CliError(
          `${error.message}\nInstances keep running their last good version; publish a valid one with \`cdcp config set FILE\`.`,
          1,
        );
      throw error;
    } finally {
      close();
    }
  },
};

/** The coordination table `status` reads: the running pipeline's, or CDCP_COORDINATION_TABLE with default AWS settings. */
function resolveRegistry(env: NodeJS.ProcessEnv, config: Config | undefined) {
  const runtime = readRuntimeFile();
  let dynamodb: DynamoDBClient;
  let tableName: string;
  let close: () => void;
  if (runtime !== undefined) {
    const clients = localClients(runtime.endpoints);
    dynamodb = clients.dynamodb;
    tableName = runtime.names.coordinationTable;
    close = () => clients.destroy();
  } else {
    const table = env[ENV.COORDINATION_TABLE];
    if (!table)
      throw new CliError(
        `no running local pipeline was found and ${ENV.COORDINATION_TABLE} is not set (received ${JSON.stringify(table ?? null)}); ` +
          'start `npm start`, or set it to the deployed coordination table',
      );
    dynamodb = new DynamoDBClient({});
    tableName = table;
    close = () => dynamodb.destroy();
  }
  const instances = (config ?? defaultConfig()).instances;
  const registry = new InstanceRegistry({
    store: new DynamoDbCoordinationStore({ client: dynamodb, tableName }),
    failureDetectionMs: instances.failureDetectionMs,
    heartbeatIntervalMs: Math.floor(instances.failureDetectionMs / instances.heartbeatsPerWindow),
    ttlMs: Math.max(6 * 3_600_000, 10 * instances.failureDetectionMs),
    clockSkewAllowanceMs: STATUS_CLOCK_SKEW_ALLOWANCE_MS,
  });
  return { registry, close };
}

function formatStatus(
  report: ConfigConvergence,
  published: PublishedConfig | undefined,
  dead: number,
): string {
  const lines: string[] = [];
  lines.push(
    published === undefined
      ? `no published version found; the newest version instances report is ${report.latestVersion ?? 'none'}`
      : describePublished(published),
  );
  lines.push('');
  lines.push(`${'instance'.padEnd(48)} ${'kind'.padEnd(7)} ${'version'.padEnd(9)} applied`);
  for (const i of report.instances) {
    const applied =
      i.appliedAtWallMs === undefined
        ? '-'
        : `${new Date(i.appliedAtWallMs).toISOString()}${i.reachedAfterMs === undefined ? '' : ` (+${i.reachedAfterMs} ms)`}`;
    lines.push(
      `${i.instanceId.padEnd(48)} ${i.kind.padEnd(7)} ${(i.version ?? '-').padEnd(9)} ${applied}${i.onLatest ? '' : '  (behind)'}`,
    );
  }
  lines.push('');
  const total = report.instances.length;
  if (total === 0) lines.push('no live instances');
  else if (report.converged)
    lines.push(
      `all ${total} live instance(s) run version ${report.latestVersion}` +
        (report.convergenceMs === undefined
          ? ''
          : `; it reached all of them ${report.convergenceMs} ms after publication`),
    );
  else
    lines.push(
      `${report.onLatest} of ${total} live instance(s) run version ${report.latestVersion}; not converged yet`,
    );
  if (dead > 0) lines.push(`(${dead} instance(s) presumed dead are not listed)`);
  return lines.join('\n');
}

const status: Command = {
  path: ['config', 'status'],
  usage: 'config status [--json] [--wait SECONDS]',
  summary: "each live instance's config version and how long the newest took to reach all",
  help: `Reads the newest published version (AppConfig or the local store) and the instance registry, and
prints each live instance with the version it reports in its heartbeat and when it applied it, then whether
all run the newest version and how long after publication the last of them applied it (wall clocks of
different machines: a measurement, accurate to their skew).

  --json           one JSON document: the published version and the per-instance report
  --wait SECONDS   poll until every live instance runs the newest version; exit 1 if that takes longer`,
  async run(ctx) {
    const { values } = parseOptions(ctx.args, { json: { type: 'boolean' }, wait: { type: 'string' } });
    const waitSeconds = values.wait === undefined ? undefined : Number(values.wait);
    if (waitSeconds !== undefined && !(Number.isFinite(waitSeconds) && waitSeconds >= 0))
      throw new CliError(`--wait takes a number of seconds; received ${JSON.stringify(values.wait)}`);
    const { publisher, close: closePublisher } = resolvePublisher(ctx.env);
    let published: PublishedConfig | undefined;
    let publishedError: string | undefined;
    try {
      published = await publisher.current();
    } catch (error) {
      if (!(error instanceof ConfigValidationError || error instanceof ConfigPublishError)) throw error;
      publishedError = error.message;
    } finally {
      closePublisher();
    }
    if (publishedError !== undefined)
      ctx.stderr.write(`warning: cannot read the published version: ${publishedError}\n`);
    const { registry, close } = resolveRegistry(ctx.env, published?.config);
    try {
      const deadline = Date.now() + (waitSeconds ?? 0) * 1000;
      for (;;) {
        const views = await registry.list();
        const live: InstanceRecord[] = views.filter((v) => v.alive).map((v) => v.instance);
        const report = configConvergence(live, published);
        const done = report.converged || waitSeconds === undefined || Date.now() >= deadline;
        if (done) {
          if (values.json)
            ctx.stdout.write(
              `${JSON.stringify({ published: published === undefined ? null : { version: published.version, publishedAtWallMs: published.publishedAtWallMs, target: published.target, deployment: published.deployment ?? null }, ...report }, null, 2)}\n`,
            );
          else ctx.stdout.write(`${formatStatus(report, published, views.length - live.length)}\n`);
          return waitSeconds !== undefined && !report.converged ? 1 : 0;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    } finally {
      close();
    }
  },
};

const docs: Command = {
  path: ['config', 'docs'],
  usage: 'config docs [--write FILE]',
  summary: 'print the settings table (Markdown) generated from the schema',
  help: `Prints every setting with what it accepts, its default and its effect, as the Markdown table of
docs/configuration.md. With --write FILE, replaces the table between its markers in FILE.`,
  async run(ctx) {
    const { values } = parseOptions(ctx.args, { write: { type: 'string' } });
    if (values.write === undefined) {
      ctx.stdout.write(`${settingsMarkdown()}\n`);
      return 0;
    }
    let document: string;
    try {
      document = readFileSync(values.write, 'utf8');
    } catch (error) {
      throw new CliError(`cannot read ${values.write}: ${(error as Error).message}`);
    }
    try {
      writeFileSync(values.write, replaceSettingsTable(document));
    } catch (error) {
      throw new CliError(`${values.write}: ${(error as Error).message}`);
    }
    ctx.stderr.write(`updated the settings table in ${values.write}\n`);
    return 0;
  },
};

export {
  defaults as configDefaults,
  docs as configDocs,
  get as configGet,
  set as configSet,
  status as configStatus,
  validate as configValidate,
};
