import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { REASON } from '../../core/events/reason-codes.js';
import { KinesisRangeReader, S3FailedBatchStore } from '../../core/processing/failed-batch-adapters.js';
import {
  type FailedBatch,
  FailedBatchRedriver,
  type RedriveOutcome,
} from '../../core/processing/failed-batches.js';
import { configuredProjection } from '../../core/processing/projection.js';
import { ParkedReplayer } from '../../core/processing/replay.js';
import type { ParkedItem } from '../../core/state/parked-item.js';
import { ParkedStore } from '../../core/state/parked-store.js';
import { createProcessor } from '../../functions/consumer/create-handler.js';
import { PROJECTION_OPTION, targetProjection } from '../cli/projection.js';
import { storesOf } from '../cli/stores.js';
import type { Target } from '../cli/target.js';
import { type Command, type CommandContext, stringOption, targetOf } from './command.js';

/** Reasons the local event source mapping parks the records it gives up on with (the parked store is its destination). */
const GIVEN_UP = new Set<string>([REASON.RETRIES_EXHAUSTED, REASON.RECORD_TOO_OLD]);

/** The failed batches of a deployed stack, in its on-failure bucket. */
function redriverOf(
  target: Extract<Target, { kind: 'aws' }>,
  processor?: ReturnType<typeof createProcessor>,
) {
  const s3 = new S3Client(target.aws);
  return {
    redriver: new FailedBatchRedriver({
      store: new S3FailedBatchStore({ client: s3, bucket: target.document.failedBatchesBucket }),
      reader: new KinesisRangeReader({ client: target.kinesis }),
      processor,
    }),
    close: () => s3.destroy(),
  };
}

/** Locally the event source mapping parks what it gives up on: those parked records, in arrival order. */
async function givenUpLocally(target: Target): Promise<ParkedItem[]> {
  const store = new ParkedStore({ client: target.dynamodb, tableName: target.names.parkedTable });
  return (await store.scanAll())
    .filter((i) => GIVEN_UP.has(i.reason))
    .sort((a, b) => (a.pk === b.pk ? (a.sk < b.sk ? -1 : 1) : a.pk < b.pk ? -1 : 1));
}

function batchLine(batch: FailedBatch): string {
  const records =
    batch.records === undefined
      ? `${batch.batchSize} record(s), to read from the stream`
      : `${batch.records.length} record(s)`;
  return `${batch.timestamp}  ${batch.condition.padEnd(24)} ${batch.shardId} ${batch.startSequenceNumber}..${batch.endSequenceNumber}  ${records}  ${batch.key}`;
}

const LOCAL_NOTE =
  'the local run parks the records its event source mapping gives up on (RETRIES_EXHAUSTED, RECORD_TOO_OLD) in the parked store, where a deployed stack keeps them in its failed-batches bucket';

const list: Command = {
  path: ['failures', 'list'],
  usage: 'failures list [--json]',
  summary: 'list the batches the event source mapping gave up on',
  help: `Lists the batches the consumer's event source mapping gave up on (its retries or the record age ran out)
and moved past. A deployed stack keeps them whole in its failed-batches bucket: when Lambda gave up, the shard
and sequence range, and how many records. Locally the event source mapping parks such records in the parked
store instead (reasons RETRIES_EXHAUSTED and RECORD_TOO_OLD); this lists those.`,
  target: 'any',
  json: true,
  async run(ctx) {
    const target = await targetOf(ctx);
    if (target.kind === 'local') {
      ctx.stderr.write(`${LOCAL_NOTE}\n`);
      const items = await givenUpLocally(target);
      for (const item of items)
        ctx.stdout.write(
          ctx.json
            ? `${JSON.stringify(item)}\n`
            : `${item.reason.padEnd(18)} ${item.record.shardId} seq ${item.record.sequenceNumber}  ${item.message}\n`,
        );
      ctx.stderr.write(`${items.length} record(s) given up on\n`);
      return 0;
    }
    const { redriver, close } = redriverOf(target);
    try {
      const batches = await redriver.list();
      for (const batch of batches)
        ctx.stdout.write(
          ctx.json
            ? `${JSON.stringify({ ...batch, records: batch.records?.length })}\n`
            : `${batchLine(batch)}\n`,
        );
      ctx.stderr.write(`${batches.length} failed batch(es) kept in ${target.document.failedBatchesBucket}\n`);
      return 0;
    } finally {
      close();
    }
  },
};

function printRedrive(ctx: CommandContext, o: RedriveOutcome): void {
  if (ctx.json) ctx.stdout.write(`${JSON.stringify({ ...o, batch: { ...o.batch, records: undefined } })}\n`);
  else
    ctx.stdout.write(
      `${o.settled ? 'redriven' : 'still kept'}  ${o.batch.key}: ${o.records} record(s) from the ${o.source}${o.stats === undefined ? '' : `, ${o.stats.applied} applied, ${o.stats.duplicates} already applied, ${o.stats.parked} parked`}${o.error === undefined ? '' : ` (${o.error})`}\n`,
    );
}

const redrive: Command = {
  path: ['failures', 'redrive'],
  usage: 'failures redrive [--projection PATH] [--dry-run] [--yes]',
  summary: 'apply the batches the event source mapping gave up on, in order',
  help: `Puts the batches the consumer's event source mapping gave up on back through the consumer's fold and
conditional write, oldest first, each batch's records in sequence order: a change already applied is skipped
by its position, a bad record is parked with its reason. A batch whose records all settle leaves the bucket;
one that fails again stays for the next redrive. Records come from the batch's payload, or are read again from
the stream by the batch's shard and sequence range while the stream still holds them. Locally it replays the
records the event source mapping parked as RETRIES_EXHAUSTED or RECORD_TOO_OLD. Fix what made the batch fail
first; --dry-run shows what it would take up.`,
  options: { ...PROJECTION_OPTION },
  target: 'any',
  json: true,
  destructive: true,
  async run(ctx) {
    const target = await targetOf(ctx);
    const { projection, identity } = await targetProjection(target, stringOption(ctx, 'projection'));
    ctx.stderr.write(`applying projection "${identity.name}" (${identity.fingerprint})\n`);
    const config = await target.config();
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    const processor = createProcessor({
      dynamodb: target.dynamodb,
      stateTable: target.names.stateTable,
      parkedTable: target.names.parkedTable,
      coordinationTable: target.names.coordinationTable,
      config,
      projection,
      logger: new Logger({ logLevel: 'CRITICAL' }),
    });
    if (target.kind === 'local')
      return redriveLocally(ctx, target, processor, configuredProjection(config, projection));
    const { redriver, close } = redriverOf(target, processor);
    try {
      const batches = await redriver.list();
      if (ctx.dryRun) {
        for (const batch of batches) ctx.stdout.write(`would redrive  ${batchLine(batch)}\n`);
        ctx.stderr.write(`dry run: ${batches.length} failed batch(es); nothing was changed\n`);
        return 0;
      }
      if (
        batches.length > 0 &&
        !(await ctx.confirm!(`redrive ${batches.length} failed batch(es) on ${target.describe}`))
      ) {
        ctx.stderr.write('nothing was redriven\n');
        return 1;
      }
      const outcomes = await redriver.redrive(batches);
      for (const o of outcomes) printRedrive(ctx, o);
      const failed = outcomes.filter((o) => !o.settled).length;
      ctx.stderr.write(`${outcomes.length - failed} of ${outcomes.length} failed batch(es) redriven\n`);
      return failed === 0 ? 0 : 1;
    } finally {
      close();
    }
  },
};

/** Locally: replays the records the event source mapping parked when it gave up, as `parked replay` does. */
async function redriveLocally(
  ctx: CommandContext,
  target: Target,
  processor: ReturnType<typeof createProcessor>,
  projection: ReturnType<typeof configuredProjection>,
): Promise<number> {
  ctx.stderr.write(`${LOCAL_NOTE}\n`);
  const items = await givenUpLocally(target);
  if (ctx.dryRun) {
    for (const item of items)
      ctx.stdout.write(`would redrive  ${item.record.shardId} seq ${item.record.sequenceNumber}\n`);
    ctx.stderr.write(`dry run: ${items.length} record(s); nothing was changed\n`);
    return 0;
  }
  if (items.length > 0 && !(await ctx.confirm!(`redrive ${items.length} record(s) on ${target.describe}`))) {
    ctx.stderr.write('nothing was redriven\n');
    return 1;
  }
  const config = await target.config();
  const replayer = new ParkedReplayer({
    ...storesOf(target, config),
    projection,
    processor,
  });
  let failed = 0;
  for (const item of items) {
    const o = await replayer.replayRecord(item);
    if (!o.lifted) failed++;
    ctx.stdout.write(
      ctx.json
        ? `${JSON.stringify(o)}\n`
        : `${o.lifted ? 'redriven' : 'still parked'}  ${o.target}: ${o.replayed} applied, ${o.skipped} already applied${o.error === undefined ? '' : ` (${o.error})`}\n`,
    );
  }
  ctx.stderr.write(`${items.length - failed} of ${items.length} record(s) redriven\n`);
  return failed === 0 ? 0 : 1;
}

export { list as failuresList, redrive as failuresRedrive };
