import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CfnTemplate } from './cfn-template.js';
import { templateSourceHash } from './source-hash.js';

/** The repository root (this file is `localstack/template/template-cache.ts`). */
const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface LoadTemplateOptions {
  /** Repository root: where cdk.json, bin/app.ts and the sources live. @default this repository */
  readonly root?: string;
  /** Where synthesized templates are cached. @default `<root>/.cdcp/template` */
  readonly cacheDir?: string;
  /**
   * Extra context for the synthesis, on top of cdk.json's (e.g. `{ cdcp: { shardCount: 4 } }` to change a
   * prop). Part of the cache key.
   */
  readonly context?: Readonly<Record<string, unknown>>;
}

interface LoadedTemplate {
  readonly template: CfnTemplate;
  /** Hash of the sources and context the template was synthesized from; the cache key. */
  readonly hash: string;
  /** The cached template file. */
  readonly path: string;
  /** True when the template came from the cache, false when it was synthesized now. */
  readonly cached: boolean;
  /** Time to hash the sources and read the cache, plus synthesis time on a miss. */
  readonly durationMs: number;
}

function cdkJsonContext(root: string): Record<string, unknown> {
  try {
    const cdkJson = JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as {
      context?: Record<string, unknown>;
    };
    return cdkJson.context ?? {};
  } catch {
    return {};
  }
}

/**
 * Synthesizes the CDK app in this process, as `cdk synth` would, but without bundling the functions (local
 * runs do not deploy them) and without cdk-nag (it runs in `cdk synth` and the infra tests). The app module
 * is imported only here, so a cached run never loads aws-cdk-lib.
 */
async function synthesize(context: Readonly<Record<string, unknown>>): Promise<CfnTemplate> {
  const { createApp } = await import('../../lib/app.js');
  const outdir = mkdtempSync(join(tmpdir(), 'cdcp-synth-'));
  try {
    const { app, stack } = createApp({
      app: { outdir, context: { ...context, 'aws:cdk:bundling-stacks': [] } },
      nag: false,
    });
    const assembly = app.synth();
    return assembly.getStackArtifact(stack.artifactId).template as CfnTemplate;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * The template of the CDK app, from `.cdcp/template/<hash>.json` while the sources it depends on (the app's
 * import graph, cdk.json, package-lock.json) and the context are unchanged, or synthesized in-process and
 * cached. Only the latest template is kept.
 *
 * @example
 * ```ts
 * const { template, cached } = await loadTemplate();
 * ```
 */
async function loadTemplate(options: LoadTemplateOptions = {}): Promise<LoadedTemplate> {
  const started = performance.now();
  const root = options.root ?? REPOSITORY_ROOT;
  const cacheDir = options.cacheDir ?? join(root, '.cdcp', 'template');
  const context = { ...cdkJsonContext(root), ...options.context };
  const { hash } = templateSourceHash(root, context);
  const path = join(cacheDir, `${hash}.json`);
  try {
    const template = JSON.parse(readFileSync(path, 'utf8')) as CfnTemplate;
    return { template, hash, path, cached: true, durationMs: performance.now() - started };
  } catch {
    // Not cached (or unreadable): synthesize.
  }
  const template = await synthesize(context);
  mkdirSync(cacheDir, { recursive: true });
  // Write then rename, so a concurrent reader never sees half a file.
  const partial = `${path}.${process.pid}.tmp`;
  writeFileSync(partial, `${JSON.stringify(template, null, 1)}\n`);
  renameSync(partial, path);
  for (const name of readdirSync(cacheDir))
    if (name.endsWith('.json') && name !== `${hash}.json`) rmSync(join(cacheDir, name), { force: true });
  return { template, hash, path, cached: false, durationMs: performance.now() - started };
}

export type { LoadedTemplate, LoadTemplateOptions };
export { loadTemplate, REPOSITORY_ROOT };
