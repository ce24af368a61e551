import { Duration } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { CpuArchitecture, type ICluster } from 'aws-cdk-lib/aws-ecs';
import { ASSIGNMENT_STRATEGIES, type AssignmentStrategy } from '../core/config/schema.js';
import { WORKER } from '../core/constants.js';
import { CdcProcessorPropsError } from './errors.js';

/** How workers read their shards: GetRecords, or enhanced fan-out (SubscribeToShard) through one consumer. */
type WorkerReader = 'polling' | 'fan-out';

/** The container fleet's settings ({@link ShardConsumer.containers}). Every one is optional. */
interface ContainerConsumerProps {
  /**
   * The ECS cluster the workers run in (its VPC is theirs).
   * @default a cluster created here, with Container Insights, in a VPC created here (or `vpc`)
   */
  readonly cluster?: ICluster;
  /**
   * The VPC of the cluster created here; ignored with `cluster`.
   * @default a VPC created here: two availability zones, public subnets only, no NAT gateway (the tasks reach
   * AWS through an internet gateway with public IPs; no inbound rule admits anything), a DynamoDB gateway
   * endpoint, and flow logs of rejected traffic
   */
  readonly vpc?: IVpc;
  /** Where the tasks run. @default the public subnets of a VPC created here; your VPC's private subnets otherwise */
  readonly vpcSubnets?: SubnetSelection;
  /** Give each task a public IP (needed in public subnets without a NAT gateway). @default true in the VPC created here, false otherwise */
  readonly assignPublicIp?: boolean;
  /** Security groups of the tasks. @default one created here: no inbound rule, all outbound (HTTPS to AWS) */
  readonly securityGroups?: readonly ISecurityGroup[];
  /** Fewest workers the cluster manager keeps (also the count after a fresh deploy within one run). @default 2 */
  readonly minWorkers?: number;
  /** Most workers the cluster manager runs; it never runs more than the stream has shards. @default 10 */
  readonly maxWorkers?: number;
  /**
   * CPU units of one task (Fargate's sizes: 256, 512, 1024, 2048, 4096). A worker's JavaScript uses at most
   * about one core, so more than 1024 buys little. @default 1024
   */
  readonly cpu?: number;
  /** Memory of one task in MiB, within what Fargate allows for `cpu`. @default 2048 */
  readonly memoryLimitMiB?: number;
  /** The tasks' CPU architecture; the image is built for it. @default CpuArchitecture.ARM64 (Graviton, cheaper per vCPU-hour) */
  readonly cpuArchitecture?: CpuArchitecture;
  /**
   * How the elected assigner divides shard leases among workers; sets `config.leases.assignment` of the
   * deployed configuration (`cdcp config set` changes it later, without a deploy).
   * @default the configuration's, `least-loaded` unless set there
   */
  readonly assignment?: AssignmentStrategy;
  /**
   * `polling` (GetRecords; readers of a stream share its 2 MB/s per shard) or `fan-out` (enhanced fan-out: a
   * stream consumer registered by this stack, 2 MB/s per shard of its own, about $0.015 per shard-hour and
   * $0.013 per GB more). @default 'polling'
   */
  readonly reader?: WorkerReader;
  /** The enhanced fan-out consumer's name (unique among the stream's consumers). @default 'cdcp-workers' */
  readonly fanOutConsumerName?: string;
  /**
   * The longest a worker's graceful hand-off after SIGTERM may take; the task's stop timeout is this plus 10
   * seconds, within Fargate's 120. @default Duration.seconds(25)
   */
  readonly workerStopTimeout?: Duration;
  /** Container Insights on the cluster created here (per-task CPU and memory). @default true */
  readonly containerInsights?: boolean;
  /**
   * Build arguments of the worker image: `NODE_IMAGE` (the build stage, Node.js 24) and `RUNTIME_IMAGE` (the
   * final stage, distroless Node.js 24), for a registry mirror of your own.
   * @default the Dockerfile's: public.ecr.aws/docker/library/node:24-bookworm-slim and gcr.io/distroless/nodejs24-debian12:nonroot
   */
  readonly imageBuildArgs?: Readonly<Record<string, string>>;
}

/** The container fleet's settings, checked, with every default filled in. */
interface ResolvedContainerProps {
  readonly cluster: ICluster | undefined;
  readonly vpc: IVpc | undefined;
  readonly vpcSubnets: SubnetSelection | undefined;
  readonly assignPublicIp: boolean | undefined;
  readonly securityGroups: readonly ISecurityGroup[] | undefined;
  readonly minWorkers: number;
  readonly maxWorkers: number;
  readonly cpu: number;
  readonly memoryLimitMiB: number;
  readonly cpuArchitecture: CpuArchitecture;
  readonly assignment: AssignmentStrategy | undefined;
  readonly reader: WorkerReader;
  readonly fanOutConsumerName: string;
  readonly workerStopTimeoutSeconds: number;
  /** The task's stop timeout: ECS sends SIGKILL this long after SIGTERM. */
  readonly stopTimeoutSeconds: number;
  readonly containerInsights: boolean;
  readonly imageBuildArgs: Readonly<Record<string, string>> | undefined;
}

/** Seconds ECS waits after SIGTERM beyond the worker's own timeout: its exit and the last log lines. */
const STOP_MARGIN_SECONDS = 10;
/** Fargate's longest container stop timeout. */
const FARGATE_MAX_STOP_TIMEOUT_SECONDS = 120;
/** Memory Fargate allows per CPU size, in MiB (Amazon ECS developer guide, "Task CPU and memory"). */
const FARGATE_MEMORY: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096),
  1024: range(2048, 8192),
  2048: range(4096, 16_384),
  4096: range(8192, 30_720),
};

/** min..max MiB in steps of 1 GiB. */
function range(min: number, max: number): number[] {
  return Array.from({ length: (max - min) / 1024 + 1 }, (_, i) => min + i * 1024);
}
const FAN_OUT_CONSUMER_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;

const prop = (name: string) => `consumer.${name}`;

function wholeIn(name: string, value: number, min: number, max: number, fix = ''): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new CdcProcessorPropsError(prop(name), value, `must be an integer in ${min}..${max}${fix}`);
  return value;
}

/** CPU and memory: a Fargate size. */
function taskSize(props: ContainerConsumerProps) {
  const cpu = props.cpu ?? 1024;
  const sizes = Object.keys(FARGATE_MEMORY).map(Number);
  const memory = Object.hasOwn(FARGATE_MEMORY, cpu) ? FARGATE_MEMORY[cpu] : undefined;
  if (memory === undefined)
    throw new CdcProcessorPropsError(prop('cpu'), cpu, `must be a Fargate CPU size: ${sizes.join(', ')}`);
  const memoryLimitMiB = props.memoryLimitMiB ?? Math.max(memory[0]!, 2048);
  if (!memory.includes(memoryLimitMiB))
    throw new CdcProcessorPropsError(
      prop('memoryLimitMiB'),
      memoryLimitMiB,
      `must be one of Fargate's sizes for cpu ${cpu}: ${memory.length > 3 ? `${memory[0]}..${memory.at(-1)} in steps of 1024` : memory.join(', ')}`,
    );
  return { cpu, memoryLimitMiB };
}

/** The worker's stop timeout, whole seconds, leaving the margin within Fargate's maximum. */
function stopTimeouts(props: ContainerConsumerProps) {
  const value = props.workerStopTimeout ?? Duration.millis(WORKER.stopTimeoutMs);
  const max = FARGATE_MAX_STOP_TIMEOUT_SECONDS - STOP_MARGIN_SECONDS;
  let seconds: number | undefined;
  try {
    seconds = value instanceof Duration ? value.toSeconds() : undefined;
  } catch {
    seconds = undefined;
  }
  if (seconds === undefined || !Number.isInteger(seconds) || seconds < 1 || seconds > max)
    throw new CdcProcessorPropsError(
      prop('workerStopTimeout'),
      value,
      `must be a Duration of whole seconds in 1..${max}: ECS stops a Fargate task at most ${FARGATE_MAX_STOP_TIMEOUT_SECONDS} s after SIGTERM, and the worker needs ${STOP_MARGIN_SECONDS} s of it to exit`,
    );
  return { workerStopTimeoutSeconds: seconds, stopTimeoutSeconds: seconds + STOP_MARGIN_SECONDS };
}

/** The Dockerfile's two arguments, and nothing else. */
function imageBuildArgs(args: Readonly<Record<string, string>> | undefined) {
  if (args === undefined) return undefined;
  for (const [name, value] of Object.entries(args))
    if ((name !== 'NODE_IMAGE' && name !== 'RUNTIME_IMAGE') || typeof value !== 'string' || value === '')
      throw new CdcProcessorPropsError(
        prop(`imageBuildArgs.${name}`),
        value,
        'must be NODE_IMAGE or RUNTIME_IMAGE with an image reference (the Dockerfile takes no other argument)',
      );
  return args;
}

function resolveContainerProps(props: ContainerConsumerProps): ResolvedContainerProps {
  const minWorkers = wholeIn('minWorkers', props.minWorkers ?? 2, 1, 1000);
  const maxWorkers = wholeIn(
    'maxWorkers',
    props.maxWorkers ?? Math.max(10, minWorkers),
    minWorkers,
    1000,
    ' and at least minWorkers',
  );
  const reader = props.reader ?? 'polling';
  if (reader !== 'polling' && reader !== 'fan-out')
    throw new CdcProcessorPropsError(prop('reader'), reader, "must be 'polling' or 'fan-out'");
  if (
    props.assignment !== undefined &&
    !(ASSIGNMENT_STRATEGIES as readonly string[]).includes(props.assignment)
  )
    throw new CdcProcessorPropsError(
      prop('assignment'),
      props.assignment,
      `must be one of ${ASSIGNMENT_STRATEGIES.join(', ')}`,
    );
  const fanOutConsumerName = props.fanOutConsumerName ?? WORKER.fanOutConsumerName;
  if (!FAN_OUT_CONSUMER_NAME.test(fanOutConsumerName))
    throw new CdcProcessorPropsError(
      prop('fanOutConsumerName'),
      fanOutConsumerName,
      "must be 1 to 128 letters, digits, '_', '.' or '-' (Kinesis' consumer names)",
    );
  if (props.cluster !== undefined && props.vpc !== undefined)
    throw new CdcProcessorPropsError(
      prop('vpc'),
      props.vpc,
      'applies only to a cluster created here; with `cluster` given, the tasks run in its VPC',
    );
  return {
    cluster: props.cluster,
    vpc: props.vpc,
    vpcSubnets: props.vpcSubnets,
    assignPublicIp: props.assignPublicIp,
    securityGroups: props.securityGroups,
    minWorkers,
    maxWorkers,
    ...taskSize(props),
    cpuArchitecture: props.cpuArchitecture ?? CpuArchitecture.ARM64,
    assignment: props.assignment,
    reader,
    fanOutConsumerName,
    ...stopTimeouts(props),
    containerInsights: props.containerInsights ?? true,
    imageBuildArgs: imageBuildArgs(props.imageBuildArgs),
  };
}

/**
 * What consumes the stream: Lambda's event source mapping (the default), or a fleet of `cdcp worker` tasks on
 * ECS Fargate that divide the shards through leases in the coordination table (docs/cluster.md). Both run the
 * one consumer handler with the deployment's projection; the cluster manager sizes either (ParallelizationFactor,
 * or the number of workers).
 *
 * @example
 * ```ts
 * new CdcProcessor(this, 'Cdc', { consumer: ShardConsumer.containers({ minWorkers: 2, maxWorkers: 8 }) });
 * ```
 */
abstract class ShardConsumer {
  /** Lambda's event source mapping, configured by the processor's consumer and mapping props. */
  public static lambda(): ShardConsumer {
    return new LambdaShardConsumer();
  }

  /** A fleet of worker containers on ECS Fargate; the mapping props (batch size, retries, ...) apply to it too. */
  public static containers(props: ContainerConsumerProps = {}): ShardConsumer {
    return new ContainerShardConsumer(resolveContainerProps(props));
  }

  public abstract readonly kind: 'lambda' | 'containers';
}

class LambdaShardConsumer extends ShardConsumer {
  public readonly kind = 'lambda';
}

class ContainerShardConsumer extends ShardConsumer {
  public readonly kind = 'containers';

  public constructor(public readonly settings: ResolvedContainerProps) {
    super();
  }
}

export type { ContainerConsumerProps, ResolvedContainerProps, WorkerReader };
export { ContainerShardConsumer, ShardConsumer };
