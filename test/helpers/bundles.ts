import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { CfnTemplate } from '../../localstack/template/cfn-template.js';

const run = promisify(execFile);

/** A function of a synthesized template: its logical id, the asset folder of its code, its environment. */
interface FunctionArtifact {
  readonly logicalId: string;
  /** The folder `cdk deploy` zips and uploads. */
  readonly assetDir: string;
  /** `index.mjs` in that folder. */
  readonly bundle: string;
  readonly bundleBytes: number;
  /** The function's environment as the template declares it (intrinsics unresolved). */
  readonly environment: Readonly<Record<string, unknown>>;
  readonly handler: string;
  readonly runtime: string;
}

interface FunctionResource {
  readonly Type: string;
  readonly Properties: {
    readonly Code?: { readonly S3Key?: string };
    readonly Handler?: string;
    readonly Runtime?: string;
    readonly Description?: string;
    readonly Environment?: { readonly Variables?: Record<string, unknown> };
  };
}

/**
 * The function whose description starts with `description` in a template synthesized with bundling into
 * `outdir`: its code is the asset `asset.<hash>` named by its S3 key `<hash>.zip`.
 */
function functionArtifact(template: CfnTemplate, outdir: string, description: string): FunctionArtifact {
  const entries = Object.entries(template.Resources as Record<string, FunctionResource>).filter(
    ([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.Description?.startsWith(description),
  );
  if (entries.length !== 1)
    throw new Error(`expected one function described "${description}", found ${entries.length}`);
  const [logicalId, resource] = entries[0]!;
  const key = resource.Properties.Code?.S3Key;
  if (typeof key !== 'string' || !key.endsWith('.zip'))
    throw new Error(`${logicalId} has no asset S3 key: ${key}`);
  const assetDir = join(outdir, `asset.${key.slice(0, -'.zip'.length)}`);
  const bundle = join(assetDir, 'index.mjs');
  return {
    logicalId,
    assetDir,
    bundle,
    bundleBytes: statSync(bundle).size,
    environment: resource.Properties.Environment?.Variables ?? {},
    handler: resource.Properties.Handler ?? '',
    runtime: resource.Properties.Runtime ?? '',
  };
}

/**
 * The template's environment with every `{ Ref }` replaced by `refs[logicalId]`; variables whose reference
 * has no local counterpart (AppConfig ids, the mapping id: no engine serves them) are left out.
 */
function resolveEnvironment(
  environment: Readonly<Record<string, unknown>>,
  refs: Readonly<Record<string, string>>,
): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(environment)) {
    if (typeof value === 'string') resolved[name] = value;
    else {
      const ref = (value as { Ref?: string }).Ref;
      if (ref !== undefined && Object.hasOwn(refs, ref)) resolved[name] = refs[ref]!;
    }
  }
  return resolved;
}

/** What a bundle did when run as Lambda runs it. */
interface BundleRun<R> {
  /** Milliseconds to import the bundle in a fresh Node process: the module part of a cold start. */
  readonly importMs: number;
  readonly results: readonly R[];
}

/**
 * Runs a function bundle as Lambda's Node.js runtime does, in a fresh process: imports `index.mjs` as an ES
 * module with only `environment` (plus PATH), takes its `handler` export and invokes it once per event, in
 * order, with a Lambda-like context.
 */
async function invokeBundle<R = unknown>(
  bundle: string,
  environment: Readonly<Record<string, string>>,
  events: readonly unknown[],
): Promise<BundleRun<R>> {
  const script = `
    const started = performance.now();
    const { handler } = await import(${JSON.stringify(pathToFileURL(bundle).href)});
    const importMs = performance.now() - started;
    if (typeof handler !== 'function') throw new Error('the bundle exports no handler function');
    const events = JSON.parse(process.env.CDCP_TEST_EVENTS);
    const results = [];
    for (const [i, event] of events.entries())
      results.push(await handler(event, {
        functionName: 'bundle-test', functionVersion: '$LATEST', awsRequestId: 'request-' + i,
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bundle-test',
        memoryLimitInMB: '1024', logGroupName: '/aws/lambda/bundle-test', logStreamName: 'test',
        callbackWaitsForEmptyEventLoop: false, getRemainingTimeInMillis: () => 60000,
        done() {}, fail() {}, succeed() {},
      }));
    process.stdout.write('\\n' + JSON.stringify({ importMs, results }) + '\\n');
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, ...environment, CDCP_TEST_EVENTS: JSON.stringify(events) },
    maxBuffer: 64 * 1024 * 1024,
  });
  const last = stdout.trim().split('\n').at(-1)!;
  return JSON.parse(last) as BundleRun<R>;
}

/** Credentials, region and endpoints that point the AWS SDK inside a bundle at local engines. */
function localAwsEnvironment(endpoints: Readonly<Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  };
  for (const [service, url] of Object.entries(endpoints))
    env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] = url;
  return env;
}

export type { BundleRun, FunctionArtifact };
export { functionArtifact, invokeBundle, localAwsEnvironment, resolveEnvironment };
