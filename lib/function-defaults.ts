import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The repository root: the lock file and every function entry live under it. */
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Entry points of the functions, relative to the repository root. */
const FUNCTION_ENTRIES = {
  consumer: 'functions/consumer/handler.ts',
  clusterManager: 'functions/cluster-manager/handler.ts',
} as const;

/**
 * ESM bundles have no `require`; some dependencies still call it for Node built-ins, so the bundle
 * recreates it.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as cdcpCreateRequire } from 'node:module'; const require = cdcpCreateRequire(import.meta.url);";

/**
 * Bundled by the esbuild in node_modules, never Docker. The AWS SDK is bundled too rather than taken from
 * the runtime, so the deployed function runs the SDK versions the tests ran.
 */
const BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: 'node24',
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  externalModules: [],
  forceDockerBundling: false,
};

interface ProcessorFunctionProps {
  /** Key of {@link FUNCTION_ENTRIES}. */
  readonly entry: keyof typeof FUNCTION_ENTRIES;
  readonly description: string;
  readonly memorySizeMiB: number;
  readonly timeoutSeconds: number;
  readonly logRetention: RetentionDays;
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * A Node.js 24 arm64 function with its own log group and its own role. The role has no managed policy
 * (AWSLambdaBasicExecutionRole grants log writes to every log group): it may write to its log group only,
 * and every other permission is added by the construct's grants.
 */
class ProcessorFunction extends Construct {
  public readonly function: NodejsFunction;
  public readonly role: Role;
  public readonly logGroup: LogGroup;

  public constructor(scope: Construct, id: string, props: ProcessorFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      // Logs are diagnostics, not data: they go with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (log group, stream, tables and configuration of this stack only)`,
    });
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.function = new NodejsFunction(this, 'Function', {
      entry: `${PROJECT_ROOT}${FUNCTION_ENTRIES[props.entry]}`,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySizeMiB,
      timeout: Duration.seconds(props.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: BUNDLING,
    });
  }
}

export type { ProcessorFunctionProps };
export { BUNDLING, ESM_REQUIRE_BANNER, FUNCTION_ENTRIES, PROJECT_ROOT, ProcessorFunction };
