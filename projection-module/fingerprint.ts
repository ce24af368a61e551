import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { buildSync } from 'esbuild';
import { ProjectionModuleError } from './errors.js';
import { COMMON_BUILD_OPTIONS, firstBuildError } from './esbuild-settings.js';

/** Hex characters kept of the SHA-256: 64 bits, far beyond any number of deployed projection versions. */
const FINGERPRINT_HEX_LENGTH = 16;

interface ModuleFingerprint {
  /** Hash of the module's own source files: their paths relative to the module and their contents. */
  readonly fingerprint: string;
  /** The source files hashed, relative to the module's folder. */
  readonly files: readonly string[];
  /** The module's export names (`default` for a projection module). */
  readonly exports: readonly string[];
}

/**
 * Fingerprints a projection module: the SHA-256 of the module and every file it imports that is not a
 * package (nothing under node_modules, not `cdc-event-processor`), each as its path relative to the module's
 * folder and its content with line endings normalised. Type-only imports do not count (they leave no code).
 * The same sources give the same fingerprint on any machine, in any checkout folder, with any esbuild
 * version; a change to the module or to a helper file it imports changes it. Packages it imports are
 * identified by the lock file, not here.
 *
 * @example
 * ```ts
 * projectionFingerprint('projection.mjs').fingerprint; // '3f1c0d9a6b2e4d71'
 * ```
 */
function projectionFingerprint(entry: string): ModuleFingerprint {
  const absolute = resolve(entry);
  const base = dirname(absolute);
  let metafile: import('esbuild').Metafile;
  try {
    ({ metafile } = buildSync({
      ...COMMON_BUILD_OPTIONS,
      // Packages, this one included, stay out: only the module's own files are hashed.
      alias: {},
      entryPoints: [absolute],
      packages: 'external',
      write: false,
      metafile: true,
      absWorkingDir: base,
      outfile: 'fingerprint.mjs',
    }));
  } catch (error) {
    throw new ProjectionModuleError(
      `cannot build the projection module ${entry}: ${firstBuildError(error)}`,
      {
        entry,
        cause: error,
      },
    );
  }
  const files = Object.keys(metafile.inputs)
    .map((input) => resolve(base, input))
    .filter((file) => !file.split(sep).includes('node_modules'))
    .map((file) => ({ file, name: relative(base, file).split(sep).join('/') }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const hash = createHash('sha256');
  for (const { file, name } of files) {
    const content = readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
    hash.update(`${name}\0${content}\0`);
  }
  const output = Object.values(metafile.outputs)[0];
  return {
    fingerprint: hash.digest('hex').slice(0, FINGERPRINT_HEX_LENGTH),
    files: files.map((f) => (isAbsolute(f.name) ? f.file : f.name)),
    exports: output?.exports ?? [],
  };
}

export type { ModuleFingerprint };
export { FINGERPRINT_HEX_LENGTH, projectionFingerprint };
