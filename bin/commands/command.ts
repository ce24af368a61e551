/** What every command file imports: the command shape, its context, its error, and argument parsing. */
export type { Command, CommandContext, OptionSpec, OptionSpecs } from '../cli/command.js';
export { CliError, flag, stringOption, targetOf } from '../cli/command.js';
export { parseOptions } from '../cli/options.js';
