import { readFileSync, writeFileSync } from 'node:fs';
import { type ConfigConvergence, configConvergence } from '../../core/config/convergence.js';
import { ConfigPublishError, ConfigValidationError } from '../../core/config/errors.js';
import type { ConfigPublisher, PublishedConfig } from '../../core/config/publisher.js';
import { type Config, defaultConfig } from '../../core/config/schema.js';
import { replaceSettingsTable, settingsMarkdown } from '../../core/config/settings-table.js';
import { versionNumber } from '../../core/config/stamp.js';
import { parseConfigText } from '../../core/config/violations.js';
import { ENV } from '../../core/constants.js';
import { systemClock } from '../../core/coordination/clock.js';
import { DynamoDbCoordinationStore } from '../../core/coordination/dynamodb-store.js';
import { InstanceRegistry } from '../../core/coordination/instance-registry.js';
import type { InstanceRecord } from '../../core/coordination/records.js';
import { messageOf } from '../../core/errors.js';
import { LocalConfigStore } from '../../localstack/config/local-config-store.js';
import { readRuntimeFile } from '../../localstack/run/runtime-file.js';
import type { Target } from '../cli/target.js';
import { CliError, type Command, type CommandContext, flag, stringOption, targetOf } from './command.js';

/** Exit code of a document that was read but refused (violations listed). */
const EXIT_INVALID = 1;
/** A status observer sees an instance item for the first time: judge it by its wall-clock heartbeat. */
const STATUS_CLOCK_SKEW_ALLOWANCE_MS = 10_000;

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
    throw new CliError(`cannot read ${file}: ${messageOf(error)}; pass a JSON file (or - for stdin)`);
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

/** Where `set`, `get` and `status` publish and read, and the target it belongs to (none for a bare store file). */
interface ConfigPlace {
  readonly publisher: ConfigPublisher;
  readonly describe: string;
  readonly target: Target | undefined;
}

/**
 * A stack's AppConfig profile (`--stack`), the running `npm start`'s store, or, with neither, the store file
 * named by CDCP_CONFIG_FILE (a store of your own, watched by workers you started).
 */
async function configPlace(ctx: CommandContext, verb: string): Promise<ConfigPlace> {
  const file = ctx.env[ENV.CONFIG_FILE];
  const named = stringOption(ctx, 'stack') ?? (ctx.env[ENV.STACK] || undefined);
  if (named === undefined && !flag(ctx, 'local') && readRuntimeFile() === undefined) {
    if (file === undefined || file === '')
      throw new CliError(
        `no config store was found: no stack is named (--stack NAME or ${ENV.STACK}), no \`npm start\` runs in this folder, ` +
          `and ${ENV.CONFIG_FILE} is not set (received ${JSON.stringify(file ?? null)})`,
      );
    ctx.stderr.write(`cdcp config ${verb}: acting on the local store ${file}\n`);
    return {
      publisher: new LocalConfigStore({ path: file }),
      describe: `the local store ${file}`,
      target: undefined,
    };
  }
  const target = await targetOf(ctx);
  return { publisher: target.publisher, describe: target.describe, target };
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
  options: {},
  async run(ctx) {
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
  options: {},
  positionals: true,
  async run(ctx) {
    const file = ctx.positionals?.[0];
    const text = await readDocument(ctx, file, 'config validate FILE');
    const config = validated(ctx, text, file === '-' ? 'stdin' : file!);
    if (config === undefined) return EXIT_INVALID;
    ctx.stderr.write(`${file === '-' ? 'stdin' : file} is a valid configuration\n`);
    return 0;
  },
};

const set: Command = {
  path: ['config', 'set'],
  usage: 'config set FILE [--description TEXT] [--stack NAME | --local]',
  summary: 'validate and publish a configuration (AppConfig or the local store)',
  help: `Validates FILE (JSON; - reads stdin) and, only if it is valid, publishes it as the next version:
  - on a stack (--stack): a new hosted configuration version of its AppConfig profile and a deployment with
    the stack's deployment strategy;
  - locally: to the store of the running \`npm start\` (or, with neither, the file named by ${ENV.CONFIG_FILE}):
    an atomic write that every local worker picks up without restart.
The publisher stamps "version" (the next version number) and "publishedAt". An invalid file is refused
with every violation listed (exit 1) and nothing is published.`,
  options: {
    description: {
      type: 'string',
      value: 'TEXT',
      description: 'stored with the version (AppConfig description; the local history)',
    },
  },
  positionals: true,
  target: 'any',
  json: true,
  async run(ctx) {
    const file = ctx.positionals?.[0];
    const text = await readDocument(ctx, file, 'config set FILE');
    const config = validated(ctx, text, file === '-' ? 'stdin' : file!);
    if (config === undefined) {
      ctx.stderr.write('nothing was published\n');
      return EXIT_INVALID;
    }
    const { publisher } = await configPlace(ctx, 'set');
    try {
      const published = await publisher.publish(config, { description: stringOption(ctx, 'description') });
      // A numeric version came from an earlier publish (`cdcp config get` output): re-stamping it is expected.
      if (config.version !== '0' && versionNumber(config.version) === 0)
        ctx.stderr.write(`note: the file's version "${config.version}" was replaced by the publisher's\n`);
      ctx.stdout.write(
        ctx.json ? `${JSON.stringify(publishedJson(published))}\n` : `${describePublished(published)}\n`,
      );
      return 0;
    } catch (error) {
      if (error instanceof ConfigPublishError) throw new CliError(error.message, 1);
      throw error;
    }
  },
};

const get: Command = {
  path: ['config', 'get'],
  usage: 'config get [--stack NAME | --local]',
  summary: 'print the configuration published now, as JSON',
  help: `Prints the newest published configuration (a stack: the latest deployment of its AppConfig profile;
locally: the store of the running \`npm start\`) on stdout, and its version and publication time on stderr.
Exit 1 when the store holds a corrupt or invalid document: the instances then stay on their last good version.`,
  target: 'any',
  json: true,
  async run(ctx) {
    const { publisher, describe } = await configPlace(ctx, 'get');
    try {
      const current = await publisher.current();
      if (current === undefined)
        throw new CliError(`nothing is published in ${describe}; publish with \`cdcp config set FILE\``, 1);
      ctx.stdout.write(`${JSON.stringify(current.config, null, ctx.json ? undefined : 2)}\n`);
      ctx.stderr.write(`${describePublished(current)}\n`);
      return 0;
    } catch (error) {
      if (error instanceof ConfigValidationError || error instanceof ConfigPublishError)
        throw new CliError(
          `${error.message} Instances keep running their last good version; publish a valid one with \`cdcp config set FILE\`.`,
          1,
        );
      throw error;
    }
  },
};

/** The instance registry of a target's coordination table, judged with the published config's timings. */
function registryOf(target: Target, config: Config | undefined): InstanceRegistry {
  const instances = (config ?? defaultConfig()).instances;
  return new InstanceRegistry({
    store: new DynamoDbCoordinationStore({
      client: target.dynamodb,
      tableName: target.names.coordinationTable,
    }),
    failureDetectionMs: instances.failureDetectionMs,
    heartbeatIntervalMs: Math.floor(instances.failureDetectionMs / instances.heartbeatsPerWindow),
    ttlMs: Math.max(6 * 3_600_000, 10 * instances.failureDetectionMs),
    clockSkewAllowanceMs: STATUS_CLOCK_SKEW_ALLOWANCE_MS,
  });
}

function publishedJson(p: PublishedConfig) {
  return {
    version: p.version,
    publishedAtWallMs: p.publishedAtWallMs,
    target: p.target,
    deployment: p.deployment ?? null,
  };
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
  usage: 'config status [--json] [--wait SECONDS] [--stack NAME | --local]',
  summary: "each live instance's config version and how long the newest took to reach all",
  help: `Reads the newest published version (AppConfig or the local store) and the instance registry, and
prints each live instance with the version it reports in its heartbeat and when it applied it, then whether
all run the newest version and how long after publication the last of them applied it (wall clocks of
different machines: a measurement, accurate to their skew). With --json, one JSON document: the published
version and the per-instance report.`,
  options: {
    wait: {
      type: 'string',
      value: 'SECONDS',
      description: 'poll until every live instance runs the newest version; exit 1 if that takes longer',
    },
  },
  target: 'any',
  json: true,
  async run(ctx) {
    const raw = stringOption(ctx, 'wait');
    const waitSeconds = raw === undefined ? undefined : Number(raw);
    if (waitSeconds !== undefined && !(Number.isFinite(waitSeconds) && waitSeconds >= 0))
      throw new CliError(`--wait takes a number of seconds; received ${JSON.stringify(raw)}`);
    const place = await configPlace(ctx, 'status');
    if (place.target === undefined)
      throw new CliError(
        `config status reads the instance registry of a stack or of the running \`npm start\`; pass --stack NAME or start one`,
      );
    let published: PublishedConfig | undefined;
    try {
      published = await place.publisher.current();
    } catch (error) {
      if (!(error instanceof ConfigValidationError || error instanceof ConfigPublishError)) throw error;
      ctx.stderr.write(
        `warning: cannot read the published version: ${error.message.replace(/\s*\n\s*/g, ' ')}\n`,
      );
    }
    const registry = registryOf(place.target, published?.config);
    const deadline = Date.now() + (waitSeconds ?? 0) * 1000;
    for (;;) {
      const views = await registry.list();
      const live: InstanceRecord[] = views.filter((v) => v.alive).map((v) => v.instance);
      const report = configConvergence(live, published);
      const done = report.converged || waitSeconds === undefined || Date.now() >= deadline;
      if (done) {
        if (ctx.json)
          ctx.stdout.write(
            `${JSON.stringify({ published: published === undefined ? null : publishedJson(published), ...report }, null, 2)}\n`,
          );
        else ctx.stdout.write(`${formatStatus(report, published, views.length - live.length)}\n`);
        return waitSeconds !== undefined && !report.converged ? 1 : 0;
      }
      await systemClock.sleep(250);
    }
  },
};

const docs: Command = {
  path: ['config', 'docs'],
  usage: 'config docs [--write FILE]',
  summary: 'print the settings table (Markdown) generated from the schema',
  help: `Prints every setting with what it accepts, its default and its effect, as the Markdown table of
docs/configuration.md.`,
  options: {
    write: {
      type: 'string',
      value: 'FILE',
      description: 'replace the table between its markers in FILE instead',
    },
  },
  async run(ctx) {
    const values = { write: stringOption(ctx, 'write') };
    if (values.write === undefined) {
      ctx.stdout.write(`${settingsMarkdown()}\n`);
      return 0;
    }
    let document: string;
    try {
      document = readFileSync(values.write, 'utf8');
    } catch (error) {
      throw new CliError(`cannot read ${values.write}: ${messageOf(error)}`);
    }
    try {
      writeFileSync(values.write, replaceSettingsTable(document));
    } catch (error) {
      throw new CliError(`${values.write}: ${messageOf(error)}`);
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
