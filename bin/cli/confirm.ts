import { createInterface } from 'node:readline/promises';
import { CliError } from './command.js';

interface ConfirmOptions {
  readonly dryRun: boolean;
  readonly yes: boolean;
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream;
}

/**
 * The one gate of destructive commands: `--dry-run` never acts; `--yes` always does; on a terminal the
 * operator is asked; anywhere else (a script, CI, a pipe) the command refuses rather than guess.
 */
async function confirmAction(action: string, options: ConfirmOptions): Promise<boolean> {
  if (options.dryRun) return false;
  if (options.yes) return true;
  if (options.stdin.isTTY !== true)
    throw new CliError(
      `refusing to ${action} without --yes: standard input is not a terminal to ask on (or pass --dry-run to see what would change)`,
    );
  const prompt = createInterface({ input: options.stdin, output: options.stderr });
  try {
    const answer = await prompt.question(`${action}? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}

export { confirmAction };
