import type { Target, TargetKind } from './target.js';

/** A declared option: `--name VALUE` (string) or `--name` (boolean), with its line of help. */
interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** Repeatable (`--key A --key B`); the value is then a list. */
  readonly multiple?: boolean;
  /** One-letter alias (`-h`). */
  readonly short?: string;
  /** Placeholder of the value in help: `--aggregate ID`. */
  readonly value?: string;
  readonly description: string;
}

type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** What a command gets: its parsed options, the process's streams, and the shared services. */
interface CommandContext {
  /** The arguments after the command words (without `--debug`); commands without declared `options` parse them. */
  readonly args: readonly string[];
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
  /** Parsed options (declared and common), for commands that declare `options`. */
  readonly values?: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals?: readonly string[];
  /** `--json` was given (commands with `json: true`). */
  readonly json?: boolean;
  /** `--dry-run` was given (commands with `destructive: true`): say what would change, change nothing. */
  readonly dryRun?: boolean;
  /**
   * Where the command acts (commands with `target`), resolved once from `--stack`/`--local`; the first call
   * says on stderr which target it is.
   */
  target?(): Promise<Target>;
  /**
   * Destructive commands call this before acting: false under `--dry-run`; true with `--yes`; on a terminal,
   * asks; otherwise refuses with an error naming `--yes`.
   */
  confirm?(action: string): Promise<boolean>;
}

interface Command {
  /** Command words, for example `['parked', 'replay']`. */
  readonly path: readonly string[];
  /** One-line usage after `cdcp`, for example `parked replay [--aggregate ID]`. */
  readonly usage: string;
  readonly summary: string;
  /** Longer help text for `--help`, shown above the options. */
  readonly help?: string;
  /**
   * The command's own options. Declared, they are parsed (with the common ones below) and listed in `--help`;
   * undeclared, the command parses `args` itself (with {@link parseOptions}) and documents them in `help`.
   */
  readonly options?: OptionSpecs;
  /** Takes positional arguments (`FILE`, `ID`). @default false */
  readonly positionals?: boolean;
  /**
   * Acts on a deployed stack or the local run: adds `--stack`, `--region`, `--profile` and `--local`, and
   * `ctx.target()`. `local` commands act on the running `npm start` only.
   */
  readonly target?: TargetKind;
  /** Prints data: adds `--json`. */
  readonly json?: boolean;
  /** Changes or removes data an operator cannot get back: adds `--dry-run` and `--yes`, and `ctx.confirm()`. */
  readonly destructive?: boolean;
  /** Returns the exit code. */
  run(context: CommandContext): Promise<number>;
}

/** A user-facing error: printed as one line without a stack, with an exit code. Say what, the value and the fix. */
class CliError extends Error {
  public readonly exitCode: number;
  public constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A declared string option's value. */
function stringOption(context: CommandContext, name: string): string | undefined {
  const value = context.values?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** Whether a declared boolean option was given. */
function flag(context: CommandContext, name: string): boolean {
  return context.values?.[name] === true;
}

/** The target of a command that declares one. */
async function targetOf(context: CommandContext): Promise<Target> {
  if (context.target === undefined) throw new Error('the command declares no target');
  return context.target();
}

export type { Command, CommandContext, OptionSpec, OptionSpecs };
export { CliError, flag, stringOption, targetOf };
