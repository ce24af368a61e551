/**
 * `cdcp worker`: one worker of a fleet reading the stream through shard leases — an ECS task's command, and
 * what `npm start -- --workers N` starts N of. Its composition root is `bin/worker/`; this file registers it.
 */

import { messageOf } from '../../core/errors.js';
import type { WorkerProjection } from '../worker/dependencies.js';
import { parseWorkerSettings, settingsHelp, WorkerSettingsError } from '../worker/settings.js';
import { CliError, type Command } from './command.js';

const HELP = `Runs one worker until SIGTERM: it registers in the coordination table and heartbeats, holds shard leases
(renewed by its heartbeat), runs the elected assigner, reads its shards with Lambda's event source mapping
semantics and applies them with the consumer's handler. SIGTERM finishes the batches in flight, checkpoints and
releases every lease (the assigner gives them to the others at once) within the stop timeout, then exits 0.
GET /health answers 200 while the worker's heartbeat is current, 503 otherwise.

Configured by flags or environment variables only (a flag wins). Credentials and region come from the AWS SDK's
default chain (an ECS task role works as is); AWS_ENDPOINT_URL, or AWS_ENDPOINT_URL_DYNAMODB and
AWS_ENDPOINT_URL_KINESIS, point it at LocalStack or local engines. Configuration: the AppConfig profile when its
three ids are set (last good version kept, as in the Lambda consumer), else CDCP_CONFIG_JSON, else the defaults;
LOG_LEVEL sets the log level (default INFO).

${settingsHelp()}`;

/**
 * The `cdcp worker` command; `builtInProjection` is the projection a program was built with (the container
 * image's bundle), which `--projection` then cannot replace.
 */
function createWorkerCommand(builtInProjection?: WorkerProjection): Command {
  return {
    path: ['worker'],
    usage: 'worker [--reader polling|fan-out] [options]',
    summary: 'run one worker of a fleet: leases, assigner, event source mapping, health',
    help: HELP,
    async run(ctx) {
      let settings: ReturnType<typeof parseWorkerSettings>;
      try {
        settings = parseWorkerSettings(ctx.args, ctx.env);
      } catch (error) {
        if (error instanceof WorkerSettingsError) throw new CliError(error.message);
        throw error;
      }
      // Loaded only here: the rest of the CLI does not need the worker's dependencies.
      const { runWorker } = await import('../worker/main.js');
      let code: number;
      try {
        code = await runWorker(settings, { env: ctx.env, signals: process, builtInProjection });
      } catch (error) {
        // The log has the stack; the person at the terminal gets one line.
        throw new CliError(
          error instanceof WorkerSettingsError ? error.message : `the worker failed: ${messageOf(error)}`,
          1,
        );
      }
      // A stopped worker ends its process even if some handle (an idle socket, a timer) is left behind.
      setTimeout(() => process.exit(code), 2_000).unref();
      return code;
    },
  };
}

const workerCommand = createWorkerCommand();

export { createWorkerCommand, workerCommand };
