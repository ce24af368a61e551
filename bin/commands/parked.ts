import { Logger } from '@aws-lambda-powertools/logger';
import { REASON, type ReasonCode } from '../../core/events/reason-codes.js';
import { conflictPolicies } from '../../core/processing/conflict-policies.js';
import { ParkedDiscarder } from '../../core/processing/discard.js';
import { configuredProjection, mirrorProjection } from '../../core/processing/projection.js';
import { ParkedReplayer, type ReplayOutcome } from '../../core/processing/replay.js';
import { AGGREGATE_PREFIX, type ParkedItem } from '../../core/state/parked-item.js';
import { ParkedStore } from '../../core/state/parked-store.js';
import { createProcessor } from '../../functions/consumer/create-handler.js';
import { PROJECTION_OPTION, targetProjection } from '../cli/projection.js';
import { storesOf } from '../cli/stores.js';
import { CliError, type Command, type CommandContext, flag, stringOption, targetOf } from './command.js';

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
  else if (o.waitsForDiscard) ctx.stdout.write(`waits for discard  ${o.target}: ${o.error}\n`);
  else
    ctx.stdout.write(
      `${o.lifted ? 'replayed' : 'still parked'}  ${o.target}: ${o.replayed} applied, ${o.skipped} already applied, ${o.remaining} remaining${o.error === undefined ? '' : ` (${o.error})`}\n`,
    );
}

/** One line of what a discard removes (or would remove). */
function discardLine(item: ParkedItem): string {
  return `${item.reason.padEnd(16)} ${(item.aggregateId ?? item.pk).padEnd(36)} ${item.change?.position ?? `seq ${item.record.sequenceNumber}`}  ${item.message}`;
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
      stateStore: storesOf(target, config).stateStore,
      parkedStore,
      projection: configuredProjection(config, projection),
      conflictPolicy: conflictPolicies(config, projection ?? mirrorProjection),
      processor: createProcessor({
        dynamodb: target.dynamodb,
        stateTable: target.names.stateTable,
        parkedTable: target.names.parkedTable,
        coordinationTable: target.names.coordinationTable,
        config,
        projection,
        logger: new Logger({ logLevel: 'CRITICAL' }),
      }),
    });
    const outcomes = await replayer.replayAll({ aggregateId: aggregate });
    for (const o of outcomes) printOutcome(ctx, o);
    // A truncate or a logical message is never replayed: it waits for `parked discard`, and is no failure.
    const waiting = outcomes.filter((o) => o.waitsForDiscard).length;
    const failed = outcomes.filter((o) => !o.lifted && !o.waitsForDiscard).length;
    ctx.stderr.write(
      `${outcomes.length - failed - waiting} of ${outcomes.length - waiting} replayed${waiting === 0 ? '' : `; ${waiting} record(s) wait for \`cdcp parked discard\``}\n`,
    );
    return failed === 0 ? 0 : 1;
  },
};

/** `--key PK/SK`, as `parked replay` prints a record's target; the sort key never holds a `/`. */
function keyOf(value: string | undefined): { pk: string; sk: string } | undefined {
  if (value === undefined) return undefined;
  const slash = value.lastIndexOf('/');
  if (slash <= 0 || slash === value.length - 1)
    throw new CliError(
      `--key must be PK/SK, as \`cdcp parked replay\` prints a record and \`cdcp parked list --json\` shows pk and sk; received ${JSON.stringify(value)}`,
    );
  return { pk: value.slice(0, slash), sk: value.slice(slash + 1) };
}

function reasonOf(value: string | undefined): ReasonCode | undefined {
  if (value === undefined) return undefined;
  if (Object.hasOwn(REASON, value)) return value as ReasonCode;
  throw new CliError(
    `--reason must be a reason code (${Object.values(REASON).join(', ')}); received ${JSON.stringify(value)}`,
  );
}

const discard: Command = {
  path: ['parked', 'discard'],
  usage: 'parked discard (--aggregate ID | --reason CODE | --key PK/SK) [--dry-run] [--yes]',
  summary: 'remove parked changes for good, printing what it removes',
  help: `Removes parked items that no replay should apply, for good: an acknowledged TRUNCATE or LOGICAL_MESSAGE
(which a replay never applies), a change an operator has decided to drop. Name what to remove: an aggregate,
a reason, one item by its keys (as \`parked replay\` prints a record, or pk/sk of \`parked list --json\`), or
several of them (items must match all). It prints every item it removes (or, with --dry-run, would remove).
An aggregate left with nothing parked has its quarantine lifted, so that its next changes apply.`,
  options: {
    ...AGGREGATE_OPTION,
    reason: {
      type: 'string',
      value: 'CODE',
      description: 'only items parked with this reason, for example TRUNCATE',
    },
    key: { type: 'string', value: 'PK/SK', description: 'one item, by its keys' },
  },
  target: 'any',
  json: true,
  destructive: true,
  async run(ctx) {
    const filter = {
      aggregateId: stringOption(ctx, 'aggregate'),
      reason: reasonOf(stringOption(ctx, 'reason')),
      key: keyOf(stringOption(ctx, 'key')),
    };
    if (filter.aggregateId === undefined && filter.reason === undefined && filter.key === undefined)
      throw new CliError(
        'parked discard removes what you name: pass --aggregate ID, --reason CODE or --key PK/SK',
      );
    const target = await targetOf(ctx);
    const config = await target.config();
    const discarder = new ParkedDiscarder(storesOf(target, config));
    const items = await discarder.select(filter);
    const verb = ctx.dryRun ? 'would discard' : 'discarded';
    if (items.length === 0) {
      ctx.stderr.write('nothing parked matches; nothing was discarded\n');
      return 0;
    }
    if (
      !ctx.dryRun &&
      !(await ctx.confirm!(`discard ${items.length} parked item(s) on ${target.describe}`))
    ) {
      ctx.stderr.write('nothing was discarded\n');
      return 1;
    }
    const { lifted } = ctx.dryRun ? { lifted: [] } : await discarder.discard(items);
    for (const item of items)
      ctx.stdout.write(
        ctx.json
          ? `${JSON.stringify({ ...item, discarded: !ctx.dryRun })}\n`
          : `${verb}  ${discardLine(item)}\n`,
      );
    for (const aggregateId of lifted)
      ctx.stderr.write(`lifted the quarantine of ${aggregateId}: nothing is parked behind it\n`);
    ctx.stderr.write(`${verb} ${items.length} parked item(s)${ctx.dryRun ? '; nothing was changed' : ''}\n`);
    return 0;
  },
};

export { discard as parkedDiscard, list as parkedList, replay as parkedReplay };
