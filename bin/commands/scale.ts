import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { Config } from '../../core/config/schema.js';
import { DynamoDbCoordinationStore } from '../../core/coordination/dynamodb-store.js';
import { InstanceRegistry } from '../../core/coordination/instance-registry.js';
import { LeaseClient } from '../../core/coordination/lease-client.js';
import {
  CloudWatchMetricsSource,
  ClusterManager,
  type DecisionRecord,
  DynamoDbAuditLog,
  EcsServiceControl,
  type FleetControl,
  hotKeysFromInstances,
  KinesisStreamControl,
  LambdaParallelizationControl,
  lagFromInstances,
  type MetricsSource,
  type ParallelizationControl,
  type Plan,
  policyFromConfig,
  type SheddingControl,
  StreamSampleMetricsSource,
  WorkerFleet,
} from '../../core/scaling/index.js';
import type { StackTarget, Target } from '../cli/target.js';
import { CliError, type Command, type CommandContext, flag, stringOption, targetOf } from './command.js';

/** Everything `scale plan` reads, for the running local pipeline or the deployed stack. */
interface ScalePlanner {
  readonly manager: ClusterManager;
  readonly describe: string;
  close(): void;
}

function readOnlyShedding(config: Config): SheddingControl {
  return {
    isActive: async () => config.shedding.active,
    set: async () => {
      throw new CliError('scale plan never changes shedding');
    },
  };
}

/**
 * A stack's worker fleet (containers), read-only: the ECS service's counts (DescribeServices), the workers'
 * heartbeats and leases. Undefined for a stack whose consumer is Lambda's mapping.
 */
function stackFleet(
  target: StackTarget,
  registry: InstanceRegistry,
  closers: (() => void)[],
): FleetControl | undefined {
  const fleet = target.document.fleet;
  if (fleet === undefined) return undefined;
  const ecs = new ECSClient(target.aws);
  closers.push(() => ecs.destroy());
  const service = new EcsServiceControl({ ecs, cluster: fleet.cluster, service: fleet.service });
  return new WorkerFleet({
    service: {
      describe: () => service.describe(),
      setDesiredCount: async () => {
        throw new CliError('scale plan never changes the worker fleet');
      },
    },
    registry,
    leases: new LeaseClient({
      store: new DynamoDbCoordinationStore({
        client: target.dynamodb,
        tableName: target.names.coordinationTable,
      }),
    }),
    streamName: target.names.streamName,
    minWorkers: fleet.minWorkers,
    maxWorkers: fleet.maxWorkers,
    taskCpuUnits: fleet.taskCpu,
  });
}

/**
 * The cluster manager's planner over a target: locally the load is sampled from the stream; on a stack it
 * comes from CloudWatch (GetMetricData) and the consumers' heartbeats, ParallelizationFactor from the event
 * source mapping (Lambda) and the worker fleet's size from its ECS service (containers).
 */
function scalePlanner(
  target: Target,
  config: Config,
  options: { readonly sampleMinutes: number; readonly functionName?: string },
): ScalePlanner {
  const heartbeatIntervalMs = config.instances.failureDetectionMs / config.instances.heartbeatsPerWindow;
  const registry = new InstanceRegistry({
    store: new DynamoDbCoordinationStore({
      client: target.dynamodb,
      tableName: target.names.coordinationTable,
    }),
    failureDetectionMs: config.instances.failureDetectionMs,
    heartbeatIntervalMs,
  });
  const streamName = target.names.streamName;
  const closers: (() => void)[] = [];
  let metrics: MetricsSource;
  let parallelization: ParallelizationControl | undefined;
  let fleet: FleetControl | undefined;
  if (target.kind === 'local') {
    metrics = new StreamSampleMetricsSource({
      kinesis: target.kinesis,
      streamName,
      maxWindowMs: options.sampleMinutes * 60_000,
      iteratorAgeMs: async () => lagFromInstances(await registry.listLive()),
    });
  } else {
    const cloudWatch = new CloudWatchClient(target.aws);
    const lambda = new LambdaClient(target.aws);
    closers.push(
      () => cloudWatch.destroy(),
      () => lambda.destroy(),
    );
    metrics = new CloudWatchMetricsSource({
      client: cloudWatch,
      streamName,
      functionName: options.functionName ?? target.document.consumerFunction,
      hotKeys: async () => hotKeysFromInstances(await registry.listLive(), { heartbeatIntervalMs }),
    });
    const mappingId = target.document.eventSourceMappingId;
    parallelization =
      mappingId === undefined ? undefined : new LambdaParallelizationControl({ lambda, uuid: mappingId });
    fleet = stackFleet(target, registry, closers);
  }
  const manager = new ClusterManager({
    stream: new KinesisStreamControl({ kinesis: target.kinesis, streamName }),
    metrics,
    audit: new DynamoDbAuditLog({ client: target.dynamodb, tableName: target.names.coordinationTable }),
    parallelization,
    shedding: readOnlyShedding(config),
    fleet,
    policy: policyFromConfig(config),
  });
  return {
    manager,
    describe: `${target.kind === 'local' ? 'the running local pipeline' : target.describe}: stream ${streamName}`,
    close: () => {
      for (const close of closers) close();
    },
  };
}

function printPlan(ctx: CommandContext, plan: Plan, describe: string): void {
  const s = plan.summary;
  const out = (line = '') => ctx.stdout.write(`${line}\n`);
  out(`Plan for ${describe} at ${new Date(plan.atWallMs).toISOString()} (nothing is changed)`);
  out(
    `  ${s.openShards} open shards, demand ${s.demandShards} shard-units (${Math.round(s.utilization * 100)}% of their write limits), ` +
      `hottest ${s.hottestShard === undefined ? '—' : `${s.hottestShard.shardId} at ${Math.round(s.hottestShard.utilization * 100)}%`}`,
  );
  out(
    `  iterator age ${s.iteratorAgeMs === undefined ? 'unknown' : `${Math.round(s.iteratorAgeMs / 1000)} s`}, ` +
      `ParallelizationFactor ${s.parallelizationFactor ?? 'unknown'}, shedding ${s.sheddingActive ? 'on' : 'off'}, ` +
      `UpdateShardCount ${s.updateShardCountCallsLast24h} used / ${s.updateShardCountCallsLeft} left in 24 h`,
  );
  if (s.fleet !== undefined) {
    const f = s.fleet;
    out(
      `  workers: ${f.desiredWorkers} desired (${f.minWorkers}…${f.maxWorkers}), ${f.runningWorkers} running, ${f.liveWorkers} live, ` +
        `${f.idleWorkers} without a shard; load ${f.load === undefined ? 'not reported yet' : `${f.load} workers' worth of CPU`}` +
        `${f.busiest === undefined ? '' : `, busiest ${f.busiest.instanceId} at ${Math.round(f.busiest.cpuUtilization * 100)}% with ${f.busiest.leases} lease(s)`}`,
    );
  }
  out();
  if (plan.actions.length === 0) out('Actions: none');
  else {
    out('Actions:');
    for (const a of plan.actions) out(`  ${describeAction(a)}\n      ${a.reason}`);
  }
  out();
  out('Why:');
  for (const r of plan.reasons) out(`  - ${r}`);
  if (plan.blocked.length > 0) {
    out();
    out('Held back:');
    for (const b of plan.blocked) out(`  - ${b.wanted}: ${b.rule} (${b.detail})`);
  }
  if (plan.hotKeys.length > 0) {
    out();
    out('Hot partition keys:');
    for (const h of plan.hotKeys)
      out(
        `  - ${JSON.stringify(h.partitionKey)} on ${h.shardId ?? '?'}: ${Math.round(h.shardShare * 100)}% of a shard. ${h.advice}`,
      );
  }
}

function describeAction(a: Plan['actions'][number]): string {
  switch (a.kind) {
    case 'update-shard-count':
      return `UpdateShardCount ${a.fromShards} → ${a.toShards}`;
    case 'split-shard':
      return `SplitShard ${a.shardId} at ${a.newStartingHashKey} (${Math.round(a.lowerShare * 100)}% / ${Math.round(a.upperShare * 100)}%)`;
    case 'merge-shards':
      return `MergeShards ${a.shardId} + ${a.adjacentShardId}`;
    case 'set-parallelization-factor':
      return `ParallelizationFactor ${a.from} → ${a.to}`;
    case 'set-shedding':
      return `shedding ${a.active ? 'on' : 'off'}`;
    case 'set-worker-count':
      return `workers ${a.from} → ${a.to} (ECS desired count)`;
  }
}

const planCommand: Command = {
  path: ['scale', 'plan'],
  usage: 'scale plan [--json] [--sample-minutes N] [--function NAME]',
  summary: 'what the cluster manager would do now, without acting',
  help: `Reads the stream, its load and the audit log's last 24 hours, and prints the cluster manager's plan
with its reasons, what a rule or limit held back, and hot partition keys. Nothing is changed.

Against the running local pipeline (npm start in this folder) the load is measured by reading the stream's
recent records; against a stack it comes from CloudWatch, the consumers' heartbeats and the event source
mapping (ParallelizationFactor), or, for a stack whose consumer is a worker fleet, the ECS service's counts
and each worker's CPU and leases (the fleet's size within its minimum and maximum).`,
  options: {
    'sample-minutes': {
      type: 'string',
      value: 'N',
      description: 'local only: minutes of the stream to read (default 10; the quiet window needs 30)',
    },
    function: {
      type: 'string',
      value: 'NAME',
      description:
        "stack only: the consumer function for Lambda's IteratorAge, errors and throttles (default: the stack's)",
    },
  },
  target: 'any',
  json: true,
  async run(ctx) {
    const raw = stringOption(ctx, 'sample-minutes');
    const sampleMinutes = raw === undefined ? 10 : Number(raw);
    if (!Number.isInteger(sampleMinutes) || sampleMinutes < 1 || sampleMinutes > 120)
      throw new CliError(
        `--sample-minutes must be a whole number from 1 to 120; received ${JSON.stringify(raw)}`,
      );
    const target = await targetOf(ctx);
    const planner = scalePlanner(target, await target.config(), {
      sampleMinutes,
      functionName: stringOption(ctx, 'function'),
    });
    try {
      const { plan } = await planner.manager.plan();
      if (ctx.json) ctx.stdout.write(`${JSON.stringify(plan)}\n`);
      else printPlan(ctx, plan, planner.describe);
      return 0;
    } finally {
      planner.close();
    }
  },
};

function parseDuration(value: string | undefined): number {
  if (value === undefined) return 24 * 3_600_000;
  const match = /^(\d+)(m|h|d)$/.exec(value);
  if (match === null)
    throw new CliError(`--since must be a duration like 30m, 6h or 7d; received ${JSON.stringify(value)}`);
  return Number(match[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'm' | 'h' | 'd'];
}

function printDecision(ctx: CommandContext, d: DecisionRecord): void {
  const outcomes = d.outcomes;
  const acts =
    d.plan.actions.length === 0
      ? 'no action'
      : d.plan.actions
          .map(
            (a, i) =>
              `${describeAction(a)} → ${outcomes?.[i]?.status ?? (d.acting ? 'no outcome (interrupted)' : 'planned only')}`,
          )
          .join('; ');
  ctx.stdout.write(
    `${d.id}  term ${d.term}  ${d.leaderId}${d.acting ? '' : '  (not acting)'}  ${d.plan.summary.openShards} shards, ` +
      `${Math.round(d.plan.summary.utilization * 100)}%  ${acts}\n`,
  );
}

const historyCommand: Command = {
  path: ['scale', 'history'],
  usage: 'scale history [--since 24h] [--limit N] [--actions] [--json]',
  summary: "the cluster manager's audit log",
  help: `Lists the cluster manager's decisions, newest first: when, the leadership term that made it (its fence),
the leader, the shard count and utilisation it saw, each action and its outcome (applied, already-done,
skipped, refused, failed, not-acting; "no outcome" marks a run interrupted after it claimed the decision).
With --json, one JSON object per decision: inputs, plan, outcomes, housekeeping.`,
  options: {
    since: { type: 'string', value: 'D', description: 'how far back: 30m, 6h, 7d (default 24h)' },
    limit: { type: 'string', value: 'N', description: 'at most N decisions (default 50)' },
    actions: { type: 'boolean', description: 'only decisions with actions' },
  },
  target: 'any',
  json: true,
  async run(ctx) {
    const sinceMs = parseDuration(stringOption(ctx, 'since'));
    const rawLimit = stringOption(ctx, 'limit');
    const limit = rawLimit === undefined ? 50 : Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1)
      throw new CliError(`--limit must be a whole number ≥ 1; received ${JSON.stringify(rawLimit)}`);
    const actionsOnly = flag(ctx, 'actions');
    const target = await targetOf(ctx);
    const audit = new DynamoDbAuditLog({
      client: target.dynamodb,
      tableName: target.names.coordinationTable,
    });
    const decisions = (
      await audit.list({ sinceWallMs: Date.now() - sinceMs, limit: actionsOnly ? undefined : limit })
    )
      .filter((d) => !actionsOnly || d.plan.actions.length > 0)
      .slice(0, limit);
    for (const d of decisions) {
      if (ctx.json) ctx.stdout.write(`${JSON.stringify(d)}\n`);
      else printDecision(ctx, d);
    }
    if (!ctx.json)
      ctx.stderr.write(
        `${decisions.length} decision(s) since ${new Date(Date.now() - sinceMs).toISOString()}\n`,
      );
    return 0;
  },
};

export { describeAction, historyCommand as scaleHistory, planCommand as scalePlan, printPlan };
