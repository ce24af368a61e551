import { Logger } from '@aws-lambda-powertools/logger';
import { configuredProjection } from '../../core/processing/projection.js';
import { ParkedReplayer } from '../../core/processing/replay.js';
import { AGGREGATE_PREFIX } from '../../core/state/parked-item.js';
import { ParkedStore } from '../../core/state/parked-store.js';
import { StateStore } from '../../core/state/state-store.js';
import { createProcessor } from '../../functions/consumer/create-handler.js';
import { type Command, parseOptions } from './command.js';
import { resolveTarget } from './target.js';

const list: Command = {
  path: ['parked', 'list'],
  usage: 'parked list [--aggregate ID] [--reason CODE] [--json]',
  summary: 'list parked changes and records with their reasons',
  help: `Lists what the consumer parked: poison changes, changes parked behind a quarantine, and records that
could not be decoded, each with its reason code and message, in source order per aggregate.

  --aggregate ID   only this aggregate
  --reason CODE    only this reason (for example POISON, QUARANTINED, NOT_JSON, MISSING_KEY)
  --json           one JSON object per line, with the full payload`,
  async run(ctx) {
    const { values } = parseOptions(ctx.args, {
      aggregate: { type: 'string' },
      reason: { type: 'string' },
      json: { type: 'boolean' },
    });
    const target = resolveTarget(ctx.env);
    try {
      const store = new ParkedStore({ client: target.dynamodb, tableName: target.parkedTable });
      const items = (
        values.aggregate === undefined ? await store.scanAll() : await store.listAggregate(values.aggregate)
      ).filter((i) => values.reason === undefined || i.reason === values.reason);
      items.sort((a, b) => (a.pk === b.pk ? (a.sk < b.sk ? -1 : 1) : a.pk < b.pk ? -1 : 1));
      for (const item of items) {
        if (values.json) ctx.stdout.write(`${JSON.stringify(item)}\n`);
        else
          ctx.stdout.write(
            `${item.reason.padEnd(16)} ${(item.aggregateId ?? item.pk).padEnd(36)} ${item.change?.position ?? `seq ${item.record.sequenceNumber}`}  ${item.message}\n`,
          );
      }
      if (!values.json) {
        const aggregates = new Set(items.filter((i) => i.pk.startsWith(AGGREGATE_PREFIX)).map((i) => i.pk))
          .size;
        ctx.stderr.write(`${items.length} parked item(s), ${aggregates} aggregate(s)\n`);
      }
      return 0;
    } finally {
      target.close();
    }
  },
};

const replay: Command = {
  path: ['parked', 'replay'],
  usage: 'parked replay [--aggregate ID] [--ignore-injected-faults]',
  summary: 'replay parked changes in order and lift quarantines',
  help: `Puts parked changes back through the consumer's apply path, in source order per aggregate, and lifts
each aggregate's quarantine once all its parked changes apply. A change that fails again stays parked with
the changes after it, and the quarantine stays. Bad-input records are decoded again with the current
configuration (for example after key columns were configured) and leave the store once they decode.

  --aggregate ID              only this aggregate
  --ignore-injected-faults    replay changes made to fail by fault injection (--inject-poison) as ordinary
                              changes, as if the fault had been fixed`,
  async run(ctx) {
    const { values } = parseOptions(ctx.args, {
      aggregate: { type: 'string' },
      'ignore-injected-faults': { type: 'boolean' },
    });
    const target = resolveTarget(ctx.env);
    try {
      const config = values['ignore-injected-faults']
        ? { ...target.config, processing: { ...target.config.processing, faultInjection: false } }
        : target.config;
      process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
      const replayer = new ParkedReplayer({
        stateStore: new StateStore({
          client: target.dynamodb,
          tableName: target.stateTable,
          tombstoneTtlSeconds: config.processing.tombstoneTtlSeconds,
        }),
        parkedStore: new ParkedStore({ client: target.dynamodb, tableName: target.parkedTable }),
        projection: configuredProjection(config),
        processor: createProcessor({
          dynamodb: target.dynamodb,
          stateTable: target.stateTable,
          parkedTable: target.parkedTable,
          config,
          logger: new Logger({ logLevel: 'CRITICAL' }),
        }),
      });
      const outcomes = await replayer.replayAll({ aggregateId: values.aggregate });
      let failed = 0;
      for (const o of outcomes) {
        if (!o.lifted) failed++;
        ctx.stdout.write(
          `${o.lifted ? 'replayed' : 'still parked'}  ${o.target}: ${o.replayed} applied, ${o.skipped} already applied, ${o.remaining} remaining${o.error === undefined ? '' : ` (${o.error})`}\n`,
        );
      }
      ctx.stderr.write(`${outcomes.length - failed} of ${outcomes.length} replayed\n`);
      return failed === 0 ? 0 : 1;
    } finally {
      target.close();
    }
  },
};

export { list as parkedList, replay as parkedReplay };
