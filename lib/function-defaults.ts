import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Function as LambdaFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type FunctionRole, functionCode, type ProjectionSource } from './function-code.js';

interface ProcessorFunctionProps {
  /** Which composition root the function runs. */
  readonly role: FunctionRole;
  /** The deployment's projection module; undefined: the built-in mirror projection. */
  readonly projection: ProjectionSource | undefined;
  readonly description: string;
  readonly memorySizeMiB: number;
  readonly timeoutSeconds: number;
  readonly logRetention: RetentionDays;
  readonly environment: Readonly<Record<string, string>>;
  /** X-Ray active tracing, and Powertools Tracer on; off: no tracing config, and the tracer told so. */
  readonly tracing: boolean;
}

/** Powertools Tracer's switch: set to false, the function's tracer makes no X-Ray call at all. */
const TRACE_ENABLED_VARIABLE = 'POWERTOOLS_TRACE_ENABLED';

/**
 * A Node.js 24 arm64 function with its own log group and its own role. The role has no managed policy
 * (AWSLambdaBasicExecutionRole grants log writes to every log group): it may write to its log group only,
 * and every other permission is added by the construct's grants; with tracing, Lambda's X-Ray actions
 * (`xray:PutTraceSegments`, `xray:PutTelemetryRecords`, which take no resource but `*`).
 */
class ProcessorFunction extends Construct {
  public readonly function: LambdaFunction;
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
    this.function = new LambdaFunction(this, 'Function', {
      code: functionCode(props.role, props.projection),
      handler: 'index.handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySizeMiB,
      timeout: Duration.seconds(props.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        [TRACE_ENABLED_VARIABLE]: String(props.tracing),
        ...props.environment,
      },
      tracing: props.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
    });
  }
}

export type { ProcessorFunctionProps };
export { ProcessorFunction, TRACE_ENABLED_VARIABLE };
