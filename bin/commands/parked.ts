import { Logger } from '@aws-lambda-powertools/logger';
import { configuredProjection } from '../../core/processing/projection.js';
import { ParkedReplayer, type ReplayOutcome } from '../../core/processing/replay.js';
import { AGGREGATE_PREFIX, type ParkedItem } from '../../core/state/parked-item.js';
import { ParkedStore } from '../../core/state/parked-store.js';
import { StateStore } from '../../core/state/state-store.js';
import { createProcessor } from '../../functions/consumer/create-handler.js';
import { PROJECTION_OPTION, targetProjection } from '../cli/projection.js';
import { type Command, type CommandContext, flag, stringOption, targetOf } from './command.js';

const AGGREGATE_OPTION = {
  aggregate: {
    type: 'string',
    value: 'ID',
    description: 'only this aggregate, for example public.orders#42',
  },
} as const;

function sortParked(items: ParkedItem[]): ParkedItem[] {
  return items.sort((a, b) => (a.pk === b.pk ? (a.sk < b.sk ? -1 : 1) : a.pk < b.pk ? -1 : 1));
}

const list: Command = {
  path: ['parked', 'list'],
  usage: 'parked list [--aggregate ID] [--reason CODE] [--json]',
  summary: 'list parked changes and records with their reasons',
  help: `Lists what the consumer parked: poison changes, changes parked behind a quarantine, changes of a paused
table (DEFERRED), and records that could not be decoded, each with its reason code and message, in source
order per aggregate. With --json, one JSON object per line with the full payload.`,
  options: {
    ...AGGREGATE_OPTION,
    reason: {
      type: 'string',
      value: 'CODE',
      description: 'only this reason (for example POISON, QUARANTINED, DEFERRED, NOT_JSON, MISSING_KEY)',
    },
  },
  target: 'any',
  json: true,
  async run(ctx) {
    const target = await targetOf(ctx);
    const aggregate = stringOption(ctx, 'aggregate');
    const reason = stringOption(ctx, 'reason');
    const store = new ParkedStore({ client: target.dynamodb, tableName: target.names.parkedTable });
    const items = sortParked(
      (aggregate === undefined ? await store.scanAll() : await store.listAggregate(aggregate)).filter(
        (i) => reason === undefined || i.reason === reason,
      ),
    );
    for (const item of items) {
      if (ctx.json) ctx.stdout.write(`${JSON.stringify(item)}\n`);
      else
        ctx.stdout.write(
          `${item.reason.padEnd(16)} ${(item.aggregateId ?? item.pk).padEnd(36)} ${item.change?.position ?? `seq ${item.record.sequenceNumber}`}  ${item.message}\n`,
        );
    }
    if (!ctx.json) {
      const aggregates = new Set(items.filter((i) => i.pk.startsWith(AGGREGATE_PREFIX)).map((i) => i.pk))
        .size;
      ctx.stderr.write(`${items.length} parked item(s), ${aggregates} aggregate(s)\n`);
    }
    return 0;
  },
};

/** `--dry-run`: what a replay would take up, per aggregate (or bad-input record), changing nothing. */
async function describeReplay(
  ctx: CommandContext,
  store: ParkedStore,
  aggregate: string | undefined,
): Promise<number> {
  const items = aggregate === undefined ? await store.scanAll() : await store.listAggregate(aggregate);
  const byTarget = new Map<string, number>();
  for (const item of items) {
    const key = item.aggregateId ?? item.pk;
    byTarget.set(key, (byTarget.get(key) ?? 0) + 1);
  }
  for (const [key, count] of [...byTarget].sort(([a], [b]) => (a < b ? -1 : 1)))
    ctx.stdout.write(
      ctx.json
        ? `${JSON.stringify({ target: key, parked: count, dryRun: true })}\n`
        : `would replay  ${key}: ${count} parked item(s)\n`,
    );
  ctx.stderr.write(
    `dry run: ${byTarget.size} target(s), ${items.length} parked item(s); nothing was changed\n`,
  );
  return 0;
}

function printOutcome(ctx: CommandContext, o: ReplayOutcome): void {
  if (ctx.json) ctx.stdout.write(`${JSON.stringify(o)}\n`);
  else
    ctx.stdout.write(
      `${o.lifted ? 'replayed' : 'still parked'}  ${o.target}: ${o.replayed} applied, ${o.skipped} already applied, ${o.remaining} remaining${o.error === undefined ? '' : ` (${o.error})`}\n`,
    );
}

const replay: Command = {
  path: ['parked', 'replay'],
  usage: 'parked replay [--aggregate ID] [--projection PATH] [--ignore-injected-faults] [--dry-run] [--yes]',
  summary: 'replay parked changes in order and lift quarantines',
  help: `Puts parked changes back through the consumer's apply path, in source order per aggregate, and lifts
each aggregate's quarantine once all its parked changes apply. A change that fails again stays parked with
the changes after it, and the quarantine stays. Bad-input records are decoded again with the current
configuration (for example after key columns were configured) and leave the store once they decode.

The changes are applied with the projection the target's consumers run, and only with it: the module named
by --projection (or recorded by the target) is fingerprinted and refused if it is not the deployed one.
Replaying every aggregate (no --aggregate) asks for confirmation, or --yes when not on a terminal.`,
  options: {
    ...AGGREGATE_OPTION,
    ...PROJECTION_OPTION,
    'ignore-injected-faults': {
      type: 'boolean',
      description:
        'replay changes made to fail by fault injection (--inject-poison) as ordinary changes, as if the fault had been fixed',
    },
  },
  target: 'any',
  json: true,
  destructive: true,
  async run(ctx) {
    const target = await targetOf(ctx);
    const aggregate = stringOption(ctx, 'aggregate');
    const parkedStore = new ParkedStore({ client: target.dynamodb, tableName: target.names.parkedTable });
    const { projection, identity } = await targetProjection(target, stringOption(ctx, 'projection'));
    ctx.stderr.write(`applying projection "${identity.name}" (${identity.fingerprint})\n`);
    if (ctx.dryRun) return describeReplay(ctx, parkedStore, aggregate);
    if (
      aggregate === undefined &&
      !(await ctx.confirm!(`replay every parked change on ${target.describe}`))
    ) {
      ctx.stderr.write('nothing was replayed\n');
      return 1;
    }
    const deployedConfig = await target.config();
    const config = flag(ctx, 'ignore-injected-faults')
      ? { ...deployedConfig, processing: { ...deployedConfig.processing, faultInjection: false } }
      : deployedConfig;
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    const replayer = new ParkedReplayer({
      stateStore: new StateStore({
        client: target.dynamodb,
        tableName: target.names.stateTable,
        tombstoneTtlSeconds: config.processing.tombstoneTtlSeconds,
      }),
      parkedStore,
      projection: configuredProjection(config, projection),
      processor: createProcessor({
        dynamodb: target.dynamodb,
        stateTable: target.names.stateTable,
        parkedTable: target.names.parkedTable,
        config,
        projection,
        logger: new Logger({ logLevel: 'CRITICAL' }),
      }),
    });
    const outcomes = await replayer.replayAll({ aggregateId: aggregate });
    for (const o of outcomes) printOutcome(ctx, o);
    const failed = outcomes.filter((o) => !o.lifted).length;
    ctx.stderr.write(`${outcomes.length - failed} of ${outcomes.length} replayed\n`);
    return failed === 0 ? 0 : 1;
  },
};

export { list as parkedList, replay as parkedReplay };
