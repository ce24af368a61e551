/**
 * `cdcp`: the operator CLI. Each command lives in `bin/commands/<name>.ts` and exports a `Command`; this file
 * only dispatches. Commands are thin over `core/` and `localstack/`.
 */

import { CliError, type CommandContext } from './commands/command.js';
import { commands } from './commands/index.js';

function usage(): string {
  const lines = commands.map((c) => `  cdcp ${c.usage.padEnd(44)} ${c.summary}`);
  return `Usage:\n${lines.join('\n')}\n\nRun \`cdcp <command> --help\` for a command's options.`;
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(`${usage()}\n`);
    return argv.length === 0 ? 1 : 0;
  }
  // Longest matching command path first ("parked replay" before "parked").
  const sorted = [...commands].sort((a, b) => b.path.length - a.path.length);
  const command = sorted.find((c) => c.path.every((word, i) => argv[i] === word));
  if (command === undefined) {
    process.stderr.write(`cdcp: unknown command "${argv.join(' ')}".\n${usage()}\n`);
    return 2;
  }
  const context: CommandContext = {
    args: argv.slice(command.path.length),
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
  };
  if (context.args.includes('--help')) {
    process.stdout.write(`cdcp ${command.usage}\n\n${command.help ?? command.summary}\n`);
    return 0;
  }
  try {
    return await command.run(context);
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`cdcp ${command.path.join(' ')}: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
