/**
 * The container image's program: `cdcp worker` and nothing else, with the deployment's projection built in.
 * The construct bundles it with esbuild at synthesis (`lib/worker-image.ts`) from a generated entry that
 * imports the projection module and calls {@link runWorkerImage}; the image runs `node worker.mjs worker`.
 * It imports none of the rest of the CLI (targets, local runs, the projection loader), so the bundle needs no
 * node_modules and no package.json beside it.
 */

import { messageOf } from '../../core/errors.js';
import { commandHelp } from '../cli/options.js';
import { CliError } from '../commands/command.js';
import { createWorkerCommand } from '../commands/worker.js';
import type { WorkerProjection } from './dependencies.js';

const HELP_FLAGS = new Set(['--help', '-h']);

/**
 * Runs `cdcp worker` with `argv` (the image's command: `worker` then flags, or flags alone) and resolves with
 * the exit code: 0 after a clean hand-off, 2 for a setting to fix, 1 for a failed or timed-out run. Errors are
 * one line on stderr, as `cdcp` prints them.
 *
 * @example
 * ```ts
 * process.exitCode = await runWorkerImage(process.argv.slice(2), { projection, identity });
 * ```
 */
async function runWorkerImage(
  argv: readonly string[],
  builtInProjection: WorkerProjection,
  io: {
    readonly stdout: NodeJS.WritableStream;
    readonly stderr: NodeJS.WritableStream;
    readonly stdin: NodeJS.ReadableStream;
    readonly env: NodeJS.ProcessEnv;
  } = process,
): Promise<number> {
  const command = createWorkerCommand(builtInProjection);
  const args = argv[0] === 'worker' ? argv.slice(1) : argv;
  if (args.some((a) => HELP_FLAGS.has(a))) {
    io.stdout.write(
      `${commandHelp(command)}\n\nBuilt with the projection ${JSON.stringify(builtInProjection.identity)}.\n`,
    );
    return 0;
  }
  try {
    return await command.run({ args, ...io });
  } catch (error) {
    const message = messageOf(error).replace(/\s*\n\s*/g, ' ');
    io.stderr.write(`cdcp worker: ${message}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}

export { runWorkerImage };
