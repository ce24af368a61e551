/**
 * `cdcp`: the operator CLI. Each command lives in `bin/commands/<name>.ts` and exports a `Command`, listed in
 * `bin/commands/index.ts`; `bin/cli/` is the shared machinery (groups, help, targets, output, safety, errors).
 */

import { dispatch } from './cli/dispatch.js';
import { commands } from './commands/index.js';

process.exitCode = await dispatch(commands, process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
