import { Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  type IVpc,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import {
  AwsLogDriverMode,
  Cluster,
  type ContainerDefinition,
  ContainerInsights,
  CpuArchitecture,
  FargateService,
  FargateTaskDefinition,
  type ICluster,
  LogDrivers,
  OperatingSystemFamily,
  PropagatedTagSource,
} from 'aws-cdk-lib/aws-ecs';
import { Grant, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import { StreamConsumer } from 'aws-cdk-lib/aws-kinesis';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV, WORKER } from '../core/constants.js';
import { HAND_OFF_KEYS_PK_PREFIX, INSTANCE_PK, SHARD_LEASE_PK_PREFIX } from '../core/coordination/keys.js';
import type { ProjectionIdentity } from '../projection-module/identity.js';
import {
  KEY_DECRYPT_ACTIONS,
  STREAM_FAN_OUT_ACTIONS,
  WORKER_COORDINATION_ACTIONS,
  WORKER_SHARD_ACTIONS,
  WORKER_STREAM_POLL_ACTIONS,
} from './actions.js';
import type { ProjectionSource } from './function-code.js';
import { grantReadConfig, grantTableReadWrite } from './grants.js';
import type { ProcessorConfig } from './processor-config.js';
import type { StartingPosition } from './props.js';
import type { ResolvedContainerProps } from './shard-consumer.js';
import { WORKER_IMAGE, workerImage } from './worker-image.js';

/** The event source mapping's settings, which the workers' mapping takes with Lambda's names and ranges. */
interface WorkerMapping {
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly parallelizationFactor: number;
  readonly retryAttempts: number;
  /** -1: never. */
  readonly maxRecordAgeSeconds: number;
  readonly startingPosition: StartingPosition;
}

interface WorkerServiceProps {
  readonly settings: ResolvedContainerProps;
  /** The deployment's projection module, bundled into the image; undefined: the built-in mirror. */
  readonly projection: ProjectionSource | undefined;
  readonly projectionIdentity: ProjectionIdentity;
  readonly stream: IStream;
  readonly stateTable: ITable;
  readonly parkedTable: ITable;
  readonly coordinationTable: ITable;
  readonly config: ProcessorConfig;
  /** The configuration deployed with the stack: the workers' until AppConfig first answers. */
  readonly configJson: string;
  readonly mapping: WorkerMapping;
  readonly logRetention: RetentionDays;
}

/**
 * `cdcp worker` as an ECS Fargate service: the image built from this package's Dockerfile around the worker
 * bundled with the deployment's projection; a task definition whose container runs as a non-root user on a
 * read-only root filesystem, is configured by environment only, answers the health check on its health
 * endpoint and gets the stop timeout its graceful hand-off needs; a least-privilege task role; its own log
 * group; the service with a deployment circuit breaker that rolls back. Its desired count is left to the
 * cluster manager (the template omits it, so a deploy never resets it).
 */
class WorkerService extends Construct {
  public readonly cluster: ICluster;
  /** The VPC created here, when neither a cluster nor a VPC was given. */
  public readonly vpc: Vpc | undefined;
  public readonly taskDefinition: FargateTaskDefinition;
  public readonly container: ContainerDefinition;
  public readonly service: FargateService;
  public readonly taskRole: Role;
  public readonly logGroup: LogGroup;
  /** The enhanced fan-out consumer registered for the fleet (`reader: 'fan-out'`). */
  public readonly fanOutConsumer: StreamConsumer | undefined;
  /** CPU units of one task. */
  public readonly taskCpu: number;
  /** The bounds the cluster manager sizes the fleet within. */
  public readonly minWorkers: number;
  public readonly maxWorkers: number;

  public constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id);
    const s = props.settings;
    this.taskCpu = s.cpu;
    this.minWorkers = s.minWorkers;
    this.maxWorkers = s.maxWorkers;
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      // Logs are diagnostics, not data: they go with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.fanOutConsumer =
      s.reader === 'fan-out'
        ? new StreamConsumer(this, 'FanOutConsumer', {
            stream: props.stream,
            streamConsumerName: s.fanOutConsumerName,
          })
        : undefined;
    this.taskRole = new Role(this, 'TaskRole', {
      assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com'),
      description:
        'cdc-event-processor worker: its instance and shard-lease items, the stream, the state and parked tables, the configuration',
    });
    this.#grantTaskRole(props);
    ({ cluster: this.cluster, vpc: this.vpc } = this.#cluster(s, props.logRetention));
    ({ taskDefinition: this.taskDefinition, container: this.container } = this.#taskDefinition(props));
    this.service = this.#service(s);
  }

  /**
   * What a worker calls, and nothing more (docs/cluster.md): its own instance item and the stream's lease and
   * hand-off-keys partitions of the coordination table (dynamodb:LeadingKeys), the stream's read actions (or, with enhanced
   * fan-out, subscribing through the fleet's consumer), item reads and writes on the state and parked tables
   * (the consumer handler's), and this profile's configuration.
   */
  #grantTaskRole(props: WorkerServiceProps): void {
    const grantee = this.taskRole;
    Grant.addToPrincipal({
      grantee,
      actions: [...WORKER_COORDINATION_ACTIONS],
      resourceArns: [props.coordinationTable.tableArn],
      conditions: {
        'ForAllValues:StringEquals': {
          'dynamodb:LeadingKeys': [
            INSTANCE_PK,
            `${SHARD_LEASE_PK_PREFIX}${props.stream.streamName}`,
            `${HAND_OFF_KEYS_PK_PREFIX}${props.stream.streamName}`,
          ],
        },
      },
    });
    Grant.addToPrincipal({
      grantee,
      actions:
        this.fanOutConsumer === undefined ? [...WORKER_STREAM_POLL_ACTIONS] : [...WORKER_SHARD_ACTIONS],
      resourceArns: [props.stream.streamArn],
    });
    if (this.fanOutConsumer !== undefined)
      Grant.addToPrincipal({
        grantee,
        actions: [...STREAM_FAN_OUT_ACTIONS],
        resourceArns: [this.fanOutConsumer.streamConsumerArn],
      });
    const key = props.stream.encryptionKey;
    if (key !== undefined)
      Grant.addToPrincipal({ grantee, actions: [...KEY_DECRYPT_ACTIONS], resourceArns: [key.keyArn] });
    grantTableReadWrite(grantee, [props.stateTable, props.parkedTable]);
    grantReadConfig(grantee, props.config);
  }

  /** The cluster given, or one created here (with a VPC of its own unless one was given). */
  #cluster(
    s: ResolvedContainerProps,
    logRetention: RetentionDays,
  ): { cluster: ICluster; vpc: Vpc | undefined } {
    if (s.cluster !== undefined) return { cluster: s.cluster, vpc: undefined };
    const vpc = s.vpc === undefined ? this.#vpc(logRetention) : undefined;
    const cluster = new Cluster(this, 'Cluster', {
      vpc: s.vpc ?? (vpc as IVpc),
      containerInsightsV2: s.containerInsights ? ContainerInsights.ENABLED : ContainerInsights.DISABLED,
    });
    if (!s.containerInsights)
      Validations.of(cluster).acknowledge({
        id: 'AwsSolutions-ECS4',
        reason:
          'The deployer passed containerInsights: false. The fleet dashboard still shows the service CPU and ' +
          'memory ECS publishes for free; Container Insights adds per-task figures at a price per task.',
      });
    return { cluster, vpc };
  }

  /**
   * A VPC for the workers alone: two availability zones, public subnets and no NAT gateway (a NAT gateway costs
   * more per hour than a small fleet), so the tasks reach AWS with public IPs through the internet gateway; their
   * security group admits nothing inbound. DynamoDB traffic stays on a gateway endpoint (free). Rejected traffic
   * goes to flow logs.
   */
  #vpc(logRetention: RetentionDays): Vpc {
    const vpc = new Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'workers', subnetType: SubnetType.PUBLIC }],
      gatewayEndpoints: { DynamoDb: { service: GatewayVpcEndpointAwsService.DYNAMODB } },
    });
    const flowLogs = new LogGroup(this, 'FlowLogs', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    vpc.addFlowLog('RejectedTraffic', {
      trafficType: FlowLogTrafficType.REJECT,
      destination: FlowLogDestination.toCloudWatchLogs(flowLogs),
    });
    return vpc;
  }

  #taskDefinition(props: WorkerServiceProps) {
    const s = props.settings;
    const taskDefinition = new FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: s.cpu,
      memoryLimitMiB: s.memoryLimitMiB,
      runtimePlatform: {
        cpuArchitecture: s.cpuArchitecture,
        operatingSystemFamily: OperatingSystemFamily.LINUX,
      },
      taskRole: this.taskRole,
    });
    const container = taskDefinition.addContainer('Worker', {
      containerName: 'worker',
      image: workerImage(
        this,
        props.projection,
        s.cpuArchitecture === CpuArchitecture.ARM64 ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
        s.imageBuildArgs,
      ),
      command: [...WORKER_IMAGE.command],
      environment: this.#environment(props),
      user: WORKER_IMAGE.user,
      readonlyRootFilesystem: true,
      essential: true,
      // ECS sends SIGTERM, waits this long, then SIGKILL: the worker's own timeout plus its exit.
      stopTimeout: Duration.seconds(s.stopTimeoutSeconds),
      healthCheck: {
        // The image has no shell and no curl: Node.js asks the worker's health endpoint (200 while its
        // heartbeat is current, 503 otherwise).
        command: [
          'CMD',
          WORKER_IMAGE.node,
          '-e',
          `fetch('http://127.0.0.1:${WORKER.healthPort}${WORKER.healthPath}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
        ],
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        retries: 3,
        // Registration and the first heartbeat take seconds; AppConfig's first answer and the shard list more.
        startPeriod: Duration.seconds(60),
      },
      logging: LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: 'worker',
        // A log backlog never blocks the worker's stdout (and with it its heartbeats).
        mode: AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
    });
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The worker is configured by environment only, as `cdcp worker` is everywhere: table, stream and ' +
        'consumer names, AppConfig ids, the projection identity, the mapping settings and the configuration ' +
        'deployed with the stack. None is a secret; the task role gives access, and AppConfig carries every change.',
    });
    Validations.of(taskDefinition.obtainExecutionRole()).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'The execution role pulls the worker image from the CDK assets repository: ecr:GetAuthorizationToken ' +
        'has no resource-level permissions (the Service Authorization Reference lists no resource type for ' +
        'it), so it is granted on "*"; the pull actions themselves are on that one repository, and the log ' +
        "writes on the workers' log group.",
    });
    return { taskDefinition, container };
  }

  /** `cdcp worker`'s settings (docs/cluster.md), the same names the local runs and the tests use. */
  #environment(props: WorkerServiceProps): Record<string, string> {
    const s = props.settings;
    const m = props.mapping;
    return {
      [ENV.STREAM_NAME]: props.stream.streamName,
      [ENV.STREAM_ARN]: props.stream.streamArn,
      [ENV.STATE_TABLE]: props.stateTable.tableName,
      [ENV.PARKED_TABLE]: props.parkedTable.tableName,
      [ENV.COORDINATION_TABLE]: props.coordinationTable.tableName,
      [ENV.APPCONFIG_APPLICATION_ID]: props.config.application.applicationId,
      [ENV.APPCONFIG_ENVIRONMENT_ID]: props.config.environment.environmentId,
      [ENV.APPCONFIG_PROFILE_ID]: props.config.profile.configurationProfileId,
      [ENV.CONFIG_JSON]: props.configJson,
      [ENV.PROJECTION]: JSON.stringify(props.projectionIdentity),
      [ENV.AWS_REGION]: Stack.of(this).region,
      [ENV.WORKER_HEALTH_PORT]: String(WORKER.healthPort),
      [ENV.WORKER_STOP_TIMEOUT_MS]: String(s.workerStopTimeoutSeconds * 1000),
      [ENV.WORKER_READER]: s.reader,
      ...(s.reader === 'fan-out' ? { [ENV.WORKER_FAN_OUT_CONSUMER]: s.fanOutConsumerName } : {}),
      [ENV.WORKER_BATCH_SIZE]: String(m.batchSize),
      [ENV.WORKER_BATCHING_WINDOW_MS]: String(m.maxBatchingWindowSeconds * 1000),
      [ENV.WORKER_PARALLELIZATION_FACTOR]: String(m.parallelizationFactor),
      [ENV.WORKER_MAX_RETRY_ATTEMPTS]: String(m.retryAttempts),
      [ENV.WORKER_MAX_RECORD_AGE_SECONDS]: String(m.maxRecordAgeSeconds),
      [ENV.WORKER_STARTING_POSITION]: m.startingPosition,
      [ENV.LOG_LEVEL]: 'INFO',
    };
  }

  #service(s: ResolvedContainerProps): FargateService {
    const created = s.cluster === undefined && s.vpc === undefined;
    const service = new FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      // No desiredCount: CloudFormation then starts the service with one task and leaves the count alone on
      // every later update, so a deploy never undoes the cluster manager's sizing (it raises the count to
      // minWorkers at its first run).
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      vpcSubnets: s.vpcSubnets ?? (created ? { subnetType: SubnetType.PUBLIC } : undefined),
      assignPublicIp: s.assignPublicIp ?? created,
      securityGroups: s.securityGroups === undefined ? undefined : [...s.securityGroups],
      propagateTags: PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
    });
    return service;
  }
}

export type { WorkerMapping, WorkerServiceProps };
export { WorkerService };
