import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** Bump when the cached file's shape changes, so old caches are not read. */
const CACHE_FORMAT = 'cdcp-template-v1';

/** Files outside the import graph that change the template: CDK settings and the CDK library's version. */
const EXTRA_INPUTS = ['cdk.json', 'package-lock.json'] as const;

const IMPORT_PATTERN = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

/** `./x.js` → `./x.ts` when the TypeScript source exists (NodeNext imports name the emitted file). */
function resolveSource(fromFile: string, specifier: string): string | undefined {
  const target = resolve(dirname(fromFile), specifier);
  for (const candidate of [target.replace(/\.js$/, '.ts'), target, `${target}.ts`, join(target, 'index.ts')])
    if (existsSync(candidate) && candidate.endsWith('.ts')) return candidate;
  return undefined;
}

/**
 * Every repository source file the CDK app imports, following relative imports from its entry: the files
 * whose change can change the template. Packages are covered by the lock file instead.
 */
function appSourceFiles(root: string, entry = 'bin/app.ts'): string[] {
  const seen = new Set<string>();
  const pending = [join(root, entry)];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(IMPORT_PATTERN)) {
      const source = resolveSource(file, match[1]!);
      if (source !== undefined && !source.split(sep).includes('node_modules')) pending.push(source);
    }
  }
  return [...seen].map((f) => relative(root, f)).sort();
}

/**
 * A hash of everything the synthesized template depends on: the app's source files, cdk.json, the lock
 * file, and the context the synthesis runs with.
 *
 * @example
 * ```ts
 * const { hash, files } = templateSourceHash('/repo', { cdcp: { shardCount: 4 } });
 * ```
 */
function templateSourceHash(
  root: string,
  context: Readonly<Record<string, unknown>> = {},
): {
  hash: string;
  files: string[];
} {
  const files = [...appSourceFiles(root), ...EXTRA_INPUTS.filter((f) => existsSync(join(root, f)))];
  const hash = createHash('sha256').update(CACHE_FORMAT).update('\0').update(JSON.stringify(context));
  for (const file of files)
    hash
      .update('\0')
      .update(file)
      .update('\0')
      .update(readFileSync(join(root, file)));
  return { hash: hash.digest('hex').slice(0, 32), files };
}

export { appSourceFiles, CACHE_FORMAT, templateSourceHash };
