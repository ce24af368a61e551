import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../projection-module/package-paths.js';
import { CliError, type Command, type CommandContext } from './command.js';
import { confirmAction } from './confirm.js';
import { commandHelp, parseCommandArgs, parsesOwnArguments } from './options.js';
import { resolveTarget, type Target } from './target.js';

/** The process's streams and environment (tests pass their own). */
interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
}

const HELP_FLAGS = new Set(['--help', '-h']);

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string })
    .version;
}

const words = (command: Command) => command.path.join(' ');

/** The commands under a group (`['parked']`), or every command for the root. */
function commandsUnder(commands: readonly Command[], group: readonly string[]): Command[] {
  return commands.filter((c) => c.path.length > group.length && group.every((w, i) => c.path[i] === w));
}

function listing(commands: readonly Command[], group: readonly string[]): string {
  const title =
    group.length === 0
      ? 'Usage: cdcp <command> [options]'
      : `Usage: cdcp ${group.join(' ')} <command> [options]`;
  const lines = commandsUnder(commands, group).map((c) => `  cdcp ${words(c).padEnd(24)} ${c.summary}`);
  const footer =
    group.length === 0
      ? '\n\nEvery command takes -h / --help; `cdcp --version` prints the version.'
      : `\n\nRun \`cdcp ${group.join(' ')} <command> --help\` for a command's options.`;
  return `${title}\n\nCommands:\n${lines.join('\n')}${footer}`;
}

/** The command the arguments name: the longest matching command path. */
function findCommand(commands: readonly Command[], argv: readonly string[]): Command | undefined {
  return [...commands]
    .sort((a, b) => b.path.length - a.path.length)
    .find((c) => c.path.every((word, i) => argv[i] === word));
}

/** The longest prefix of the arguments that is a group (a path some command extends). */
function findGroup(commands: readonly Command[], argv: readonly string[]): string[] {
  const group: string[] = [];
  for (const word of argv) {
    if (commandsUnder(commands, [...group, word]).length === 0) break;
    group.push(word);
  }
  return group;
}

/**
 * Builds the context a command runs with: parsed options, a lazily resolved target, the confirmation gate.
 * `dispose` closes the target's clients if the command resolved one.
 */
function contextFor(
  command: Command,
  args: readonly string[],
  io: Io,
  name: string,
): { readonly context: CommandContext; dispose(): Promise<void> } {
  if (parsesOwnArguments(command)) return { context: { args, ...io }, dispose: async () => {} };
  const { values, positionals } = parseCommandArgs(command, args);
  let target: Promise<Target> | undefined;
  const context: CommandContext = {
    args,
    ...io,
    values: values as CommandContext['values'] & object,
    positionals,
    json: values.json === true,
    dryRun: values['dry-run'] === true,
    target: () => {
      if (command.target === undefined) throw new Error(`${name} declares no target`);
      target ??= resolveTarget(
        command.target,
        {
          stack: values.stack as string | undefined,
          region: values.region as string | undefined,
          profile: values.profile as string | undefined,
          local: values.local as boolean | undefined,
        },
        io.env,
      ).then((resolved) => {
        io.stderr.write(`${name}: acting on ${resolved.describe}\n`);
        return resolved;
      });
      return target;
    },
    confirm: (action) =>
      confirmAction(action, {
        dryRun: values['dry-run'] === true,
        yes: values.yes === true,
        stdin: io.stdin,
        stderr: io.stderr,
      }),
  };
  return {
    context,
    dispose: async () => {
      await target?.then(
        (t) => t.close(),
        () => {},
      );
    },
  };
}

/** An error as one line on stderr: a CliError's message, any other error's name and message (and `--debug` hint). */
function reportError(io: Io, name: string, error: unknown, debug: boolean): number {
  const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();
  if (error instanceof CliError) {
    io.stderr.write(`${name}: ${oneLine(error.message)}\n`);
    if (debug && error.stack !== undefined) io.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  const e = error instanceof Error ? error : new Error(String(error));
  io.stderr.write(
    `${name}: ${e.name === 'Error' ? '' : `${e.name}: `}${oneLine(e.message)}${debug ? '' : ' (run with --debug for the stack trace)'}\n`,
  );
  if (debug) io.stderr.write(`${e.stack ?? ''}\n`);
  return 1;
}

/** The words after a group that name no command: `frobnicate` in `cdcp parked frobnicate`. */
function unknownWord(commands: readonly Command[], group: readonly string[], io: Io, wanted: string): number {
  const known = new Set(commandsUnder(commands, group).map((c) => c.path[group.length]));
  const name = ['cdcp', ...group].join(' ');
  io.stderr.write(
    `${name}: unknown command "${wanted}"; the commands are ${[...known].join(', ')} (run \`${name} --help\`)\n`,
  );
  return 2;
}

/**
 * `cdcp`'s dispatcher: `--version`; `cdcp` and `cdcp <group>` list commands; `-h`/`--help` anywhere shows the
 * command's help; unknown words are a one-line error; a command's errors are one line on stderr (the stack
 * trace with `--debug`). A command gets its declared options parsed, `--json`, `--dry-run`/`--yes` and
 * `--stack`/`--region`/`--profile`/`--local` as it declares them (docs/cli.md, "Adding a command").
 */
async function dispatch(commands: readonly Command[], argv: readonly string[], io: Io): Promise<number> {
  const debug = argv.includes('--debug');
  const args = argv.filter((a) => a !== '--debug');
  if (args.length === 1 && args[0] === '--version') {
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const command = findCommand(commands, args);
  if (command === undefined) {
    const group = findGroup(commands, args);
    const after = args.slice(group.length);
    const wanted = after.find((a) => !a.startsWith('-'));
    if (wanted !== undefined) return unknownWord(commands, group, io, wanted);
    io.stdout.write(`${listing(commands, group)}\n`);
    return after.every((a) => HELP_FLAGS.has(a)) ? 0 : 2;
  }
  const rest = args.slice(command.path.length);
  const subcommands = commandsUnder(commands, command.path);
  if (
    subcommands.length > 0 &&
    command.positionals !== true &&
    rest[0] !== undefined &&
    !rest[0].startsWith('-')
  )
    return unknownWord(commands, command.path, io, rest[0]);
  const name = `cdcp ${words(command)}`;
  if (rest.some((a) => HELP_FLAGS.has(a))) {
    io.stdout.write(`${commandHelp(command)}\n`);
    if (subcommands.length > 0) io.stdout.write(`\n${listing(commands, command.path).split('\n\n')[1]}\n`);
    return 0;
  }
  let dispose = async () => {};
  try {
    const built = contextFor(command, rest, io, name);
    dispose = built.dispose;
    return await command.run(built.context);
  } catch (error) {
    return reportError(io, name, error, debug);
  } finally {
    await dispose();
  }
}

export type { Io };
export { dispatch, packageVersion };
