import { type ParseArgsConfig, parseArgs } from 'node:util';

/** What a command gets: its arguments (after the command words) and the process's streams. */
interface CommandContext {
  readonly args: readonly string[];
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
}

interface Command {
  /** Command words, for example `['parked', 'replay']`. */
  readonly path: readonly string[];
  /** One-line usage after `cdcp`, for example `parked replay [--aggregate ID]`. */
  readonly usage: string;
  readonly summary: string;
  /** Longer help text for `--help`. */
  readonly help?: string;
  /** Returns the exit code. */
  run(context: CommandContext): Promise<number>;
}

/** A user-facing error: printed without a stack, with an exit code. Say what, the value and the fix. */
class CliError extends Error {
  public readonly exitCode: number;
  public constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** `util.parseArgs` with errors turned into {@link CliError}s. */
function parseOptions<T extends ParseArgsConfig['options']>(
  args: readonly string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals, strict: true });
  } catch (error) {
    throw new CliError(`${(error as Error).message}. Run with --help for the options.`);
  }
}

export type { Command, CommandContext };
export { CliError, parseOptions };
