import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ENV } from '../../core/constants.js';
import { messageOf } from '../../core/errors.js';
import { CliError, type Command, type OptionSpecs } from './command.js';

/** Where a command acts: every command with a `target` takes these. */
const TARGET_OPTIONS = {
  stack: {
    type: 'string',
    value: 'NAME',
    description: `the deployed stack to act on, found through its CloudFormation outputs (default: $${ENV.STACK})`,
  },
  region: { type: 'string', value: 'REGION', description: "the stack's region (default: the AWS SDK's)" },
  profile: { type: 'string', value: 'NAME', description: "the AWS profile to use (default: the AWS SDK's)" },
  local: {
    type: 'boolean',
    description: 'act on the `npm start` running in this folder (the default when no stack is named)',
  },
} as const satisfies OptionSpecs;

const JSON_OPTION = {
  json: { type: 'boolean', description: 'print the data as JSON (one document, or one per line for lists)' },
} as const satisfies OptionSpecs;

const DESTRUCTIVE_OPTIONS = {
  'dry-run': { type: 'boolean', description: 'say what would change, and change nothing' },
  yes: {
    type: 'boolean',
    short: 'y',
    description: 'go ahead without asking (required when standard input is not a terminal)',
  },
} as const satisfies OptionSpecs;

/** Every command takes these; the dispatcher handles them. */
const GLOBAL_OPTIONS = {
  debug: { type: 'boolean', description: 'print the stack trace of an error' },
  help: { type: 'boolean', short: 'h', description: 'this help' },
} as const satisfies OptionSpecs;

/** The option groups a command has, in the order `--help` lists them. */
function optionGroups(command: Command): [string, OptionSpecs][] {
  const groups: [string, OptionSpecs][] = [];
  if (command.options !== undefined && Object.keys(command.options).length > 0)
    groups.push(['Options', command.options]);
  if (command.json) groups.push(['Output', JSON_OPTION]);
  if (command.destructive) groups.push(['Safety', DESTRUCTIVE_OPTIONS]);
  if (command.target === 'any') groups.push(['Target', TARGET_OPTIONS]);
  groups.push(['Global', GLOBAL_OPTIONS]);
  return groups;
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** What {@link parseOptions} returns: each option's value typed by its declaration. */
interface ParsedOptions<T extends OptionsConfig> {
  readonly values: {
    [K in keyof T]?: T[K]['multiple'] extends true
      ? T[K]['type'] extends 'string'
        ? string[]
        : boolean[]
      : T[K]['type'] extends 'string'
        ? string
        : boolean;
  };
  readonly positionals: string[];
}

/** `util.parseArgs` with errors turned into {@link CliError}s. */
function parseOptions<T extends OptionsConfig>(
  args: readonly string[],
  options: T,
  allowPositionals = false,
): ParsedOptions<T> {
  try {
    return parseArgs({ args: [...args], options, allowPositionals, strict: true }) as ParsedOptions<T>;
  } catch (error) {
    throw new CliError(`${messageOf(error)}. Run with --help for the options.`);
  }
}

/**
 * A command that declares nothing (no options, target, output, safety or positionals) parses its own arguments
 * and documents them in its help text.
 */
function parsesOwnArguments(command: Command): boolean {
  return (
    command.options === undefined &&
    command.target === undefined &&
    !command.json &&
    !command.destructive &&
    command.positionals !== true
  );
}

/** Parses a declared command's arguments: its options and the common ones it has. */
function parseCommandArgs(command: Command, args: readonly string[]) {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [, specs] of optionGroups(command))
    for (const [name, spec] of Object.entries(specs))
      options[name] = {
        type: spec.type,
        ...(spec.multiple ? { multiple: true } : {}),
        ...(spec.short ? { short: spec.short } : {}),
      };
  return parseOptions(args, options, command.positionals === true);
}

function optionLine(name: string, spec: OptionSpecs[string]): string {
  const flag = `${spec.short === undefined ? '' : `-${spec.short}, `}--${name}${spec.value === undefined ? '' : ` ${spec.value}`}${spec.multiple ? ' ...' : ''}`;
  return `  ${flag.padEnd(26)} ${spec.description}`;
}

/** The `--help` of a command: usage, help text, then each option group. */
function commandHelp(command: Command): string {
  const lines = [`Usage: cdcp ${command.usage}`, '', command.help ?? command.summary];
  if (parsesOwnArguments(command)) {
    // Commands that parse their own arguments document them in their help text; only the globals are added.
    lines.push('', 'Global:', ...Object.entries(GLOBAL_OPTIONS).map(([n, s]) => optionLine(n, s)));
    return lines.join('\n');
  }
  for (const [title, specs] of optionGroups(command))
    lines.push('', `${title}:`, ...Object.entries(specs).map(([n, s]) => optionLine(n, s)));
  return lines.join('\n');
}

export {
  commandHelp,
  DESTRUCTIVE_OPTIONS,
  GLOBAL_OPTIONS,
  JSON_OPTION,
  optionGroups,
  parseCommandArgs,
  parseOptions,
  parsesOwnArguments,
  TARGET_OPTIONS,
};
