import { join, relative, resolve } from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { buildSync } from 'esbuild';
import { messageOf } from '../core/errors.js';
import { ProjectionModuleError } from '../projection-module/errors.js';
import { COMMON_BUILD_OPTIONS } from '../projection-module/esbuild-settings.js';
import type { ProjectionIdentity } from '../projection-module/identity.js';
import { PACKAGE_ROOT, packageModule } from '../projection-module/package-paths.js';

/** The composition roots of the two functions and the factory each exports. */
const FUNCTION_ROOTS = {
  consumer: { module: 'functions/consumer/handler', factory: 'consumerLambdaHandler' },
  clusterManager: { module: 'functions/cluster-manager/handler', factory: 'clusterManagerLambdaHandler' },
} as const;

type FunctionRole = keyof typeof FUNCTION_ROOTS;

/** The file Lambda loads (`index.handler` finds `index.mjs`): an ES module. */
const BUNDLE_FILE = 'index.mjs';

/** A projection module the functions are built with: its absolute path and its identity. */
interface ProjectionSource {
  readonly path: string;
  readonly identity: ProjectionIdentity;
}

/**
 * The entry of a function's bundle: the composition root's factory, called once at module scope with the
 * deployment's projection (checked by the same function every loader uses), exported as `handler`. Generated,
 * not a file: esbuild reads it from stdin, so nothing is written into the package or the project.
 */
function bundleEntry(role: FunctionRole, projection: ProjectionSource | undefined): string {
  const root = FUNCTION_ROOTS[role];
  const lines = [`import { ${root.factory} } from ${JSON.stringify(packageModule(root.module))};`];
  if (projection === undefined) lines.push(`export const handler = ${root.factory}();`);
  else
    lines.push(
      `import * as projectionModule from ${JSON.stringify(projection.path)};`,
      `import { projectionFromModule } from ${JSON.stringify(packageModule('projection-module/projection-export'))};`,
      `export const handler = ${root.factory}(projectionFromModule(projectionModule, ${JSON.stringify(projection.identity.entry)}));`,
    );
  return `${lines.join('\n')}\n`;
}

/**
 * Bundles a function with the esbuild this package depends on, in this process, never Docker. No lock file
 * and no project root are involved: the entry imports the package's modules and the projection module by
 * absolute path, and esbuild resolves each one's dependencies from where it lies, so the same code bundles in
 * this repository and in a project that installed the package (npm, pnpm, workspaces or a link). The AWS SDK is
 * bundled too rather than taken from the runtime, so the function runs the SDK versions the tests ran.
 */
function bundleFunction(
  role: FunctionRole,
  projection: ProjectionSource | undefined,
  outputDir: string,
): void {
  try {
    buildSync({
      ...COMMON_BUILD_OPTIONS,
      stdin: {
        contents: bundleEntry(role, projection),
        resolveDir: PACKAGE_ROOT,
        sourcefile: `cdcp-${role}-entry.mjs`,
        loader: 'js',
      },
      outfile: join(outputDir, BUNDLE_FILE),
      target: 'node24',
      minify: true,
      sourcemap: true,
      sourcesContent: false,
    });
  } catch (error) {
    const reason = (error as { errors?: { text: string }[] }).errors?.[0]?.text ?? messageOf(error);
    throw new ProjectionModuleError(
      `cannot bundle the ${role} function${projection === undefined ? '' : ` with ${projection.identity.entry}`}: ${reason}`,
      { cause: error },
    );
  }
}

/**
 * The code of one of the processor's functions, bundled at synthesis (skipped, like every asset bundling, for
 * stacks excluded with the `aws:cdk:bundling-stacks` context). The asset hash is the bundle's, so a deploy
 * updates a function exactly when its code changed.
 */
function functionCode(role: FunctionRole, projection: ProjectionSource | undefined): Code {
  return Code.fromAsset(PACKAGE_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never used: local bundling always succeeds or throws. CDK requires an image for the Docker fallback.
      image: DockerImage.fromRegistry('cdcp-bundles-locally-with-esbuild'),
      // CDK caches bundles per process by the asset's options, in which `local` (a function) does not count:
      // this tells the two functions, and two projection modules, apart.
      environment: {
        CDCP_BUNDLE: `${role}:${projection === undefined ? 'builtin' : `${projection.path}:${projection.identity.fingerprint}`}`,
      },
      local: {
        tryBundle(outputDir) {
          bundleFunction(role, projection, outputDir);
          return true;
        },
      },
    },
  });
}

/** A projection entry as the construct records it: relative to the CDK app's folder when inside it. */
function displayEntry(path: string, cwd = process.cwd()): string {
  const absolute = resolve(cwd, path);
  const fromApp = relative(cwd, absolute);
  return fromApp.startsWith('..') ? absolute : fromApp.split('\\').join('/');
}

export type { FunctionRole, ProjectionSource };
export { displayEntry, functionCode };
