import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { Config } from '../../core/config/schema.js';
import { ENV } from '../../core/constants.js';
import { DynamoDbCoordinationStore } from '../../core/coordination/dynamodb-store.js';
import { InstanceRegistry } from '../../core/coordination/instance-registry.js';
import {
  type AuditLog,
  CloudWatchMetricsSource,
  ClusterManager,
  type DecisionRecord,
  DynamoDbAuditLog,
  hotKeysFromInstances,
  InMemoryAuditLog,
  KinesisStreamControl,
  LambdaParallelizationControl,
  lagFromInstances,
  type MetricsSource,
  type ParallelizationControl,
  type Plan,
  policyFromConfig,
  type SheddingControl,
  StreamSampleMetricsSource,
} from '../../core/scaling/index.js';
import { localClients } from '../../localstack/clients.js';
import { readRuntimeFile } from '../../localstack/run/runtime-file.js';
import { CliError, type Command, type CommandContext, parseOptions } from './command.js';
import { resolveTarget } from './target.js';

/** Everything `scale plan` reads, for the running local pipeline or the deployed stack. */
interface ScaleTarget {
  readonly kind: 'local' | 'aws';
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

function scaleTarget(
  env: NodeJS.ProcessEnv,
  options: { readonly sampleMinutes: number; readonly functionName?: string },
): ScaleTarget {
  const target = resolveTarget(env);
  const config = target.config;
  const heartbeatIntervalMs = config.instances.failureDetectionMs / config.instances.heartbeatsPerWindow;
  const registry =
    target.coordinationTable === undefined
      ? undefined
      : new InstanceRegistry({
          store: new DynamoDbCoordinationStore({
            client: target.dynamodb,
            tableName: target.coordinationTable,
          }),
          failureDetectionMs: config.instances.failureDetectionMs,
          heartbeatIntervalMs,
        });
  const audit: AuditLog =
    target.coordinationTable === undefined
      ? new InMemoryAuditLog()
      : new DynamoDbAuditLog({ client: target.dynamodb, tableName: target.coordinationTable });
  let kinesis: KinesisClient;
  let streamName: string;
  let metrics: MetricsSource;
  let parallelization: ParallelizationControl | undefined;
  const closers: (() => void)[] = [() => target.close()];
  if (target.kind === 'local') {
    const runtime = readRuntimeFile();
    if (runtime === undefined)
      throw new CliError('the local pipeline stopped while `scale plan` started; run it again');
    const clients = localClients(runtime.endpoints);
    closers.push(() => clients.destroy());
    kinesis = clients.kinesis;
    streamName = runtime.names.streamName;
    metrics = new StreamSampleMetricsSource({
      kinesis,
      streamName,
      maxWindowMs: options.sampleMinutes * 60_000,
      iteratorAgeMs: async () =>
        registry === undefined ? undefined : lagFromInstances(await registry.listLive()),
    });
  } else {
    const name = env[ENV.STREAM_NAME];
    if (!name)
      throw new CliError(
        `${ENV.STREAM_NAME} is not set (received ${JSON.stringify(name ?? null)}): name the deployed stream (the stack's output) to plan for it`,
      );
    streamName = name;
    kinesis = new KinesisClient({});
    const cloudWatch = new CloudWatchClient({});
    closers.push(
      () => kinesis.destroy(),
      () => cloudWatch.destroy(),
    );
    metrics = new CloudWatchMetricsSource({
      client: cloudWatch,
      streamName,
      functionName: options.functionName,
      hotKeys: async () =>
        registry === undefined
          ? []
          : hotKeysFromInstances(await registry.listLive(), { heartbeatIntervalMs }),
    });
    const mapping = env[ENV.EVENT_SOURCE_MAPPING_ID];
    if (mapping) {
      const lambda = new LambdaClient({});
      closers.push(() => lambda.destroy());
      parallelization = new LambdaParallelizationControl({ lambda, uuid: mapping });
    }
  }
  const manager = new ClusterManager({
    stream: new KinesisStreamControl({ kinesis, streamName }),
    metrics,
    audit,
    parallelization,
    shedding: readOnlyShedding(config),
    policy: policyFromConfig(config),
  });
  return {
    kind: target.kind,
    manager,
    describe: `${target.kind === 'local' ? 'the running local pipeline' : 'AWS'}: stream ${streamName}`,
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
  }
}

const planCommand: Command = {
  path: ['scale', 'plan'],
  usage: 'scale plan [--json] [--sample-minutes N] [--function NAME]',
  summary: 'what the cluster manager would do now, without acting',
  help: `Reads the stream, its load and the audit log's last 24 hours, and prints the cluster manager's plan
with its reasons, what a rule or limit held back, and hot partition keys. Nothing is changed.

Against the running local pipeline (npm start in this folder) the load is measured by reading the stream's
recent records; against AWS (CDCP_STREAM_NAME, CDCP_COORDINATION_TABLE, and CDCP_EVENT_SOURCE_MAPPING_ID for
ParallelizationFactor) it comes from CloudWatch and the consumers' heartbeats.

  --json               the plan as one JSON object
  --sample-minutes N   local only: minutes of the stream to read (default 10; the quiet window needs 30)
  --function NAME      AWS only: the consumer function, for Lambda's IteratorAge, errors and throttles`,
  async run(ctx) {
    const { values } = parseOptions(ctx.args, {
      json: { type: 'boolean' },
      'sample-minutes': { type: 'string' },
      function: { type: 'string' },
    });
    const sampleMinutes = values['sample-minutes'] === undefined ? 10 : Number(values['sample-minutes']);
    if (!Number.isInteger(sampleMinutes) || sampleMinutes < 1 || sampleMinutes > 120)
      throw new CliError(
        `--sample-minutes must be a whole number from 1 to 120; received ${JSON.stringify(values['sample-minutes'])}`,
      );
    const target = scaleTarget(ctx.env, { sampleMinutes, functionName: values.function });
    try {
      const { plan } = await target.manager.plan();
      if (values.json) ctx.stdout.write(`${JSON.stringify(plan)}\n`);
      else printPlan(ctx, plan, target.describe);
      return 0;
    } finally {
      target.close();
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

  --since D    how far back: 30m, 6h, 7d (default 24h)
  --limit N    at most N decisions (default 50)
  --actions    only decisions with actions
  --json       one JSON object per decision: inputs, plan, outcomes, housekeeping`,
  async run(ctx) {
    const { values } = parseOptions(ctx.args, {
      since: { type: 'string' },
      limit: { type: 'string' },
      actions: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    const sinceMs = parseDuration(values.since);
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1)
      throw new CliError(`--limit must be a whole number ≥ 1; received ${JSON.stringify(values.limit)}`);
    const target = resolveTarget(ctx.env);
    try {
      if (target.coordinationTable === undefined)
        throw new CliError(
          `${ENV.COORDINATION_TABLE} is not set (received null): name the coordination table, where the audit log is kept`,
        );
      const audit = new DynamoDbAuditLog({ client: target.dynamodb, tableName: target.coordinationTable });
      const decisions = (
        await audit.list({ sinceWallMs: Date.now() - sinceMs, limit: values.actions ? undefined : limit })
      )
        .filter((d) => !values.actions || d.plan.actions.length > 0)
        .slice(0, limit);
      for (const d of decisions) {
        if (values.json) ctx.stdout.write(`${JSON.stringify(d)}\n`);
        else printDecision(ctx, d);
      }
      if (!values.json)
        ctx.stderr.write(
          `${decisions.length} decision(s) since ${new Date(Date.now() - sinceMs).toISOString()}\n`,
        );
      return 0;
    } finally {
      target.close();
    }
  },
};

export { historyCommand as scaleHistory, planCommand as scalePlan };
