import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../../core/esm/lambda-event.js';
import { FAULT_INJECTION_COLUMN } from '../../../core/processing/projection.js';
import { ParkedStore } from '../../../core/state/parked-store.js';
import { StateStore } from '../../../core/state/state-store.js';
import { createConfigFollowingHandler } from '../../../functions/consumer/follow-config.js';
import { FileConfigSource, LocalConfigStore } from '../../../localstack/config/index.js';
import { provision, resourceNames } from '../../../localstack/provision.js';
import { orderChange } from '../../helpers/changes.js';
import { changeRecord, kinesisEvent } from '../../helpers/consumer.js';
import { testClients, uniqueName } from '../../helpers/engines.js';
import { eventually } from '../../helpers/eventually.js';

const clients = testClients();
const folder = mkdtempSync(join(tmpdir(), 'cdcp-follow-'));
afterAll(() => {
  clients.destroy();
  rmSync(folder, { recursive: true, force: true });
});

describe('Function: createConfigFollowingHandler', () => {
  it('runs each batch under the config in force, and a published change applies without restart', async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    const names = resourceNames(uniqueName('cfg'));
    await provision(clients, names, { shardCount: 1 });
    const store = new LocalConfigStore({ path: join(folder, 'config.json') });
    await store.publish({ processing: { faultInjection: false, maxAttempts: 1 } });
    const source = await FileConfigSource.open({ path: store.path });
    const handler = createConfigFollowingHandler({
      dynamodb: clients.dynamodb,
      stateTable: names.stateTable,
      parkedTable: names.parkedTable,
      configSource: source,
      logger: new Logger({ logLevel: 'CRITICAL' }),
      metrics: new Metrics({ namespace: 'test' }),
    });
    const state = new StateStore({
      client: clients.dynamodb,
      tableName: names.stateTable,
      tombstoneTtlSeconds: 3600,
    });
    const parked = new ParkedStore({ client: clients.dynamodb, tableName: names.parkedTable });
    const context = lambdaContext('config-test', 60_000);
    const marked = (id: number, lsn: number) =>
      orderChange(id, lsn, 'update', { id, [FAULT_INJECTION_COLUMN]: 'boom' });

    // Version 1: fault injection off, so the marker is an ordinary column.
    const before = await handler(kinesisEvent([changeRecord(marked(1, 10), 10, 1)]), context);
    expect(before.batchItemFailures).toEqual([]);
    expect((await state.get('public.orders#1'))?.state).toEqual({ id: 1, [FAULT_INJECTION_COLUMN]: 'boom' });

    // Version 2 turns it on; the running handler picks it up at its next batch.
    await store.publish({ processing: { faultInjection: true, maxAttempts: 1 } });
    await eventually('the source to run version 2', async () =>
      source.current().version === '2' ? true : undefined,
    );
    const after = await handler(kinesisEvent([changeRecord(marked(2, 20), 20, 2)]), context);

    expect(after.batchItemFailures).toEqual([]);
    expect(await state.get('public.orders#2')).toMatchObject({ quarantine: expect.anything() });
    const poison = await parked.listAggregate('public.orders#2');
    expect(poison.map((p) => p.reason)).toEqual(['POISON']);
    expect(poison[0]!.message).toBe('ProjectionError: injected fault: boom');
    await source.close();
  });
});
