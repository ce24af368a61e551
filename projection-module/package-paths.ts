import { existsSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where this package's files are, whether it runs from the repository's TypeScript sources (through tsx or
 * vitest) or from the compiled JavaScript of an installed package: the package root holds `package.json`, and
 * a module's siblings have the extension of the module asking (`.ts` in the repository, `.js` in `dist/`).
 */
const HERE = fileURLToPath(import.meta.url);
const SOURCE_EXTENSION = extname(HERE);

function findPackageRoot(start: string): string {
  for (let dir = dirname(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

/** The folder holding this package's package.json. */
const PACKAGE_ROOT = findPackageRoot(HERE);

/** The folder of the modules: the package root for the sources, `dist/` once compiled. */
const MODULES_ROOT = join(dirname(HERE), '..');

/** Absolute path of one of the package's modules, given without extension: `functions/consumer/handler`. */
function packageModule(pathWithoutExtension: string): string {
  return join(MODULES_ROOT, `${pathWithoutExtension}${SOURCE_EXTENSION}`);
}

/** The package's runtime entry (`import … from 'cdc-event-processor'`). */
const RUNTIME_ENTRY = packageModule('runtime/index');

export { MODULES_ROOT, PACKAGE_ROOT, packageModule, RUNTIME_ENTRY, SOURCE_EXTENSION };
