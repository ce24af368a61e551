import type { BuildOptions } from 'esbuild';
import { messageOf } from '../core/errors.js';
import { RUNTIME_ENTRY } from './package-paths.js';

/** The package name a projection module imports its helpers and types from. */
const PACKAGE_NAME = 'cdc-event-processor';

/**
 * ESM bundles have no `require`; some dependencies still call it for Node built-ins, so the bundle recreates
 * it. The Lambda bundles and the bundles `cdcp` loads a projection from share it.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as cdcpCreateRequire } from 'node:module'; const require = cdcpCreateRequire(import.meta.url);";

/**
 * Left out of every bundle: `@datadog/sketches-js` (the latency percentiles) requires `protobufjs/minimal` only
 * inside its protobuf serialisation, which this package never calls, and does not declare it as a dependency;
 * bundled, it could not be resolved in a project that installs this package.
 */
const UNUSED_OPTIONAL_MODULES = ['protobufjs/minimal'];

/**
 * What every bundle of this package shares: ESM for Node, the `require` banner, the modules left out, and
 * `import … from 'cdc-event-processor'` resolved to this copy of the package, whether a projection module sits
 * in this repository (where the package is not installed under its own name) or in a project that installed
 * it: one copy of the runtime in every bundle. (An alias, not a plugin: the construct bundles synchronously,
 * and esbuild runs plugins only in its asynchronous API.)
 */
const COMMON_BUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  mainFields: ['module', 'main'],
  banner: { js: ESM_REQUIRE_BANNER },
  alias: { [PACKAGE_NAME]: RUNTIME_ENTRY },
  external: UNUSED_OPTIONAL_MODULES,
  logLevel: 'silent',
} as const satisfies BuildOptions;

/** esbuild's first error as one line: `file:line:column: text`. */
function firstBuildError(error: unknown): string {
  const errors = (
    error as {
      errors?: { text: string; location?: { file: string; line: number; column: number } | null }[];
    }
  ).errors;
  const first = errors?.[0];
  if (first === undefined) return messageOf(error);
  // esbuild gives `location: null` for an error that has no place in a file (a missing entry point).
  const at =
    first.location === undefined || first.location === null
      ? ''
      : `${first.location.file}:${first.location.line}:${first.location.column}: `;
  return `${at}${first.text}`;
}

export { COMMON_BUILD_OPTIONS, ESM_REQUIRE_BANNER, firstBuildError, PACKAGE_NAME };
