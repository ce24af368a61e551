import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { mirrorProjection, type Projection } from '../../core/processing/projection.js';
import { ProjectionModuleError } from '../../projection-module/errors.js';
import {
  BUILTIN_FINGERPRINT,
  describeProjection,
  type ProjectionIdentity,
  sameProjection,
} from '../../projection-module/identity.js';
import type { LoadedProjection } from '../../projection-module/load.js';
import { CliError } from './command.js';
import type { Target } from './target.js';

/** The `--projection` option of the commands that apply changes (`parked replay`, `failures redrive`). */
const PROJECTION_OPTION = {
  projection: {
    type: 'string',
    value: 'PATH',
    description:
      "the projection module the target's consumers run (default: the module the target records, if it is here); refused when it is not that module",
  },
} as const;

async function load(path: string): Promise<LoadedProjection> {
  // Loaded on use: esbuild is needed only by the commands that apply changes.
  const { loadProjectionModule } = await import('../../projection-module/load.js');
  try {
    return await loadProjectionModule(path);
  } catch (error) {
    if (error instanceof ProjectionModuleError) throw new CliError(error.message, 1);
    throw error;
  }
}

/**
 * The projection a command that applies changes must use: exactly the one the target's consumers run. With
 * `--projection PATH` the module is loaded and its fingerprint compared with the target's; without it, the
 * module the target records (the stack's `projectionEntry`, relative to this folder, or the local run's) is
 * loaded and compared the same way. Any difference is refused with what to pass: a replay never applies a
 * projection other than the deployed one.
 *
 * @example
 * ```ts
 * const { projection } = await targetProjection(await ctx.target(), stringOption(ctx, 'projection'));
 * ```
 */
async function targetProjection(
  target: Target,
  path: string | undefined,
): Promise<{ readonly projection: Projection; readonly identity: ProjectionIdentity }> {
  const deployed = target.projection;
  const builtin = deployed.fingerprint === BUILTIN_FINGERPRINT;
  if (path === undefined && builtin) return { projection: mirrorProjection, identity: deployed };
  if (path !== undefined && builtin)
    throw new CliError(
      `${target.describe} runs ${describeProjection(deployed)}, not the module ${path}; drop --projection (or deploy the module first)`,
    );
  const candidate = path ?? deployed.entry!;
  if (path === undefined && !existsSync(resolve(candidate)))
    throw new CliError(
      `${target.describe} runs ${describeProjection(deployed)}, which is not at ${resolve(candidate)}; pass --projection PATH to that module`,
    );
  const loaded = await load(candidate);
  if (!sameProjection(loaded.identity, deployed))
    throw new CliError(
      `${path === undefined ? 'the module' : '--projection'} ${candidate} is ${describeProjection(loaded.identity)}, but ${target.describe} runs ${describeProjection(deployed)}; ` +
        'pass --projection with the module the consumers were deployed with, or deploy this one first',
    );
  return loaded;
}

export { PROJECTION_OPTION, targetProjection };
