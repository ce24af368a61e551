import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { messageOf } from '../core/errors.js';
import type { Projection } from '../core/processing/projection.js';
import { ProjectionModuleError } from './errors.js';
import { COMMON_BUILD_OPTIONS, firstBuildError } from './esbuild-settings.js';
import { projectionFingerprint } from './fingerprint.js';
import type { ProjectionIdentity } from './identity.js';
import { packageModule } from './package-paths.js';
import { projectionFromModule } from './projection-export.js';

interface LoadedProjection {
  readonly projection: Projection;
  readonly identity: ProjectionIdentity;
}

/**
 * Bundles a module (an entry file, or generated code that imports one) into a self-contained ES module in a
 * fresh temporary folder. TypeScript and JavaScript alike: esbuild compiles TypeScript, so an installed `cdcp`
 * (plain Node) loads `projection.ts` too. `dispose` removes the folder.
 */
function bundleToTemporaryFile(
  input: { readonly entry: string } | { readonly stdin: string },
  displayEntry: string,
): { readonly file: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'cdcp-projection-'));
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  const file = join(dir, 'projection.mjs');
  try {
    buildSync({
      ...COMMON_BUILD_OPTIONS,
      ...('entry' in input
        ? { entryPoints: [resolve(input.entry)] }
        : {
            stdin: {
              contents: input.stdin,
              resolveDir: process.cwd(),
              loader: 'js',
              sourcefile: 'probe.mjs',
            },
          }),
      outfile: file,
      write: true,
    });
  } catch (error) {
    dispose();
    throw new ProjectionModuleError(
      `cannot build the projection module ${displayEntry}: ${firstBuildError(error)}`,
      { entry: displayEntry, cause: error },
    );
  }
  return { file, dispose };
}

/**
 * Loads a projection module as the deployed functions do: bundled by esbuild, its default export checked, and
 * its identity (name and source fingerprint) computed. `cdcp parked replay`, `cdcp failures redrive` and
 * `npm start -- --projection` load projections through here.
 *
 * @example
 * ```ts
 * const { projection, identity } = await loadProjectionModule('./projection.ts');
 * ```
 */
async function loadProjectionModule(entry: string): Promise<LoadedProjection> {
  const { fingerprint } = projectionFingerprint(entry);
  const bundle = bundleToTemporaryFile({ entry }, entry);
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(bundle.file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new ProjectionModuleError(
      `the projection module ${entry} failed while loading: ${messageOf(error)}`,
      { entry, cause: error },
    );
  } finally {
    bundle.dispose();
  }
  const projection = projectionFromModule(namespace, entry);
  return { projection, identity: { name: projection.name, fingerprint, entry: resolve(entry) } };
}

/** What the synthesis-time check prints: the projection's name, or the one-line reason it is not one. */
type ProbeResult = { readonly name: string } | { readonly error: string };

/**
 * The identity of a projection module, synchronously, for the construct (CDK synthesizes synchronously): the
 * module is bundled with the same check {@link loadProjectionModule} makes and imported in a short-lived Node
 * process, which prints the projection's name or why the default export is not a projection.
 */
function probeProjectionModuleSync(entry: string, displayEntry = entry): ProjectionIdentity {
  const { fingerprint } = projectionFingerprint(entry);
  const stdin = [
    `import * as projectionModule from ${JSON.stringify(resolve(entry))};`,
    `import { projectionFromModule } from ${JSON.stringify(packageModule('projection-module/projection-export'))};`,
    'let result;',
    `try { result = { name: projectionFromModule(projectionModule, ${JSON.stringify(displayEntry)}).name }; }`,
    'catch (error) { result = { error: error.message }; }',
    'export { result };',
  ].join('\n');
  const probe = (file: string): ProbeResult => {
    const script = `const m = await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(JSON.stringify(m.result));`;
    let output: string;
    try {
      output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NODE_OPTIONS: '' },
      });
    } catch (error) {
      const stderr = String((error as { stderr?: string }).stderr ?? '')
        .trim()
        .split('\n');
      const reason = stderr.find((line) => /Error/.test(line)) ?? stderr[0] ?? messageOf(error);
      return { error: `the projection module ${displayEntry} failed while loading: ${reason}` };
    }
    return JSON.parse(output) as ProbeResult;
  };
  const bundle = bundleToTemporaryFile({ stdin }, displayEntry);
  let result: ProbeResult;
  try {
    result = probe(bundle.file);
  } finally {
    bundle.dispose();
  }
  if ('error' in result) throw new ProjectionModuleError(result.error, { entry: displayEntry });
  return { name: result.name, fingerprint, entry: displayEntry };
}

export type { LoadedProjection };
export { loadProjectionModule, probeProjectionModuleSync };
