import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import type { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { ContainerImage } from 'aws-cdk-lib/aws-ecs';
import type { IConstruct } from 'constructs';
import { buildSync } from 'esbuild';
import { ProjectionModuleError } from '../projection-module/errors.js';
import { COMMON_BUILD_OPTIONS, firstBuildError } from '../projection-module/esbuild-settings.js';
import { MIRROR_IDENTITY } from '../projection-module/identity.js';
import { PACKAGE_ROOT, packageModule } from '../projection-module/package-paths.js';
import type { ProjectionSource } from './function-code.js';

/**
 * How the Dockerfile's final stage lays the worker out, and what the task definition must agree with: the
 * staged context's `worker/` folder is copied to `/app`, the distroless Node.js 24 image runs
 * `node /app/worker.mjs` as its non-root user, and the task's command is `worker`.
 */
const WORKER_IMAGE = {
  /** The build context's folder holding the bundle. */
  contextFolder: 'worker',
  bundleFile: 'worker.mjs',
  appDir: '/app',
  /** Node.js in the distroless image (it has no shell and no PATH lookup for an exec-form health check). */
  node: '/nodejs/bin/node',
  /** The distroless image's `nonroot` user and group. */
  user: '65532:65532',
  command: ['worker'],
} as const;

/** The files of the repository (and of the package) the build context takes besides the bundle. */
const CONTEXT_FILES = ['Dockerfile', '.dockerignore'] as const;

/**
 * Modules the worker's program reaches only in local runs, left out of the image: the projection loader (it
 * needs esbuild; the image's projection is built in) and the watched local config store. esbuild keeps their
 * dynamic imports as they are written, never run in the image.
 */
const LOCAL_ONLY_MODULES = ['projection-module/load', 'localstack/config/file-config-source'] as const;

/**
 * The entry of the worker's bundle: the image's program, called once with the deployment's projection built in
 * (checked by the same function every loader uses) and its identity, so the worker can check it against the
 * task's CDCP_PROJECTION. Generated, not a file: esbuild reads it from stdin.
 */
function workerBundleEntry(projection: ProjectionSource | undefined): string {
  const lines = [`import { runWorkerImage } from ${JSON.stringify(packageModule('bin/worker/image'))};`];
  if (projection === undefined)
    lines.push(`const builtIn = { projection: undefined, identity: ${JSON.stringify(MIRROR_IDENTITY)} };`);
  else
    lines.push(
      `import * as projectionModule from ${JSON.stringify(projection.path)};`,
      `import { projectionFromModule } from ${JSON.stringify(packageModule('projection-module/projection-export'))};`,
      `const identity = ${JSON.stringify(projection.identity)};`,
      'const builtIn = { projection: projectionFromModule(projectionModule, identity.entry), identity };',
    );
  lines.push('process.exitCode = await runWorkerImage(process.argv.slice(2), builtIn);');
  return `${lines.join('\n')}\n`;
}

/**
 * Bundles `cdcp worker` with the projection into `<outputDir>/worker.mjs` (and its source map), with the
 * package's esbuild settings, offline and in this process: every dependency, the AWS SDK included, is in the
 * one file, so the image needs no node_modules.
 */
function bundleWorker(projection: ProjectionSource | undefined, outputDir: string): void {
  try {
    buildSync({
      ...COMMON_BUILD_OPTIONS,
      stdin: {
        contents: workerBundleEntry(projection),
        resolveDir: PACKAGE_ROOT,
        sourcefile: 'cdcp-worker-entry.mjs',
        loader: 'js',
      },
      external: [...COMMON_BUILD_OPTIONS.external, ...LOCAL_ONLY_MODULES.map((m) => packageModule(m))],
      outfile: join(outputDir, WORKER_IMAGE.bundleFile),
      target: 'node24',
      minify: true,
      sourcemap: true,
      sourcesContent: false,
    });
  } catch (error) {
    throw new ProjectionModuleError(
      `cannot bundle the worker image${projection === undefined ? '' : ` with ${projection.identity.entry}`}: ${firstBuildError(error)}`,
      { cause: error },
    );
  }
}

/**
 * Lays out the image's build context in `dir`: the Dockerfile and .dockerignore of this package, and the
 * worker's bundle in `worker/` (left out with `bundle: false`: a stack excluded from bundling, as infra tests
 * synthesize, gets the context without running esbuild).
 *
 * @example
 * ```ts
 * stageWorkerImage(dir, projection); // dir/Dockerfile, dir/.dockerignore, dir/worker/worker.mjs(.map)
 * ```
 */
function stageWorkerImage(
  dir: string,
  projection: ProjectionSource | undefined,
  options: { readonly bundle?: boolean } = {},
): void {
  for (const file of CONTEXT_FILES) copyFileSync(join(PACKAGE_ROOT, file), join(dir, file));
  const bundleDir = join(dir, WORKER_IMAGE.contextFolder);
  mkdirSync(bundleDir, { recursive: true });
  if (options.bundle ?? true) bundleWorker(projection, bundleDir);
  else
    writeFileSync(
      join(bundleDir, 'NOT-BUNDLED.txt'),
      'This stack was synthesized without bundling (aws:cdk:bundling-stacks): the worker was not bundled.\n',
    );
}

/** Where staged contexts are kept, one folder per content: every synthesis of the same image finds it there. */
const STAGED_CONTEXTS = join(tmpdir(), 'cdcp-worker-images');

/** A hash of a folder's files: their paths and contents. */
function folderHash(dir: string): string {
  const hash = createHash('sha256');
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else
        hash
          .update(`${relative(dir, path)}\0`)
          .update(readFileSync(path))
          .update('\0');
    }
  };
  walk(dir);
  return hash.digest('hex').slice(0, 32);
}

/**
 * Stages the image's context in a fresh folder, then keeps it under its content's hash: a synthesis that builds
 * the same image (every test, every `cdk synth` of an unchanged app) reuses the folder instead of leaving one
 * more behind, and nothing depends on this process exiting cleanly.
 */
function stagedContext(projection: ProjectionSource | undefined, bundle: boolean): string {
  mkdirSync(STAGED_CONTEXTS, { recursive: true });
  const work = mkdtempSync(join(STAGED_CONTEXTS, 'staging-'));
  try {
    stageWorkerImage(work, projection, { bundle });
    const dir = join(STAGED_CONTEXTS, folderHash(work));
    if (!existsSync(dir))
      try {
        renameSync(work, dir);
      } catch (error) {
        // Another synthesis staged the same content at the same moment: theirs is as good.
        if (!existsSync(dir)) throw error;
      }
    return dir;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The worker's container image: its context staged at synthesis (the bundle built by esbuild, never Docker)
 * and built by the CDK CLI from the Dockerfile at deploy time, for `platform`. The asset's hash is its
 * context's, so a deploy builds and pushes a new image exactly when the worker, its projection or the
 * Dockerfile changed.
 */
function workerImage(
  scope: IConstruct,
  projection: ProjectionSource | undefined,
  platform: Platform,
  buildArgs?: Readonly<Record<string, string>>,
) {
  const dir = stagedContext(projection, Stack.of(scope).bundlingRequired);
  return ContainerImage.fromAsset(dir, {
    platform,
    ...(buildArgs === undefined ? {} : { buildArgs: { ...buildArgs } }),
  });
}

export { stageWorkerImage, WORKER_IMAGE, workerBundleEntry, workerImage };
