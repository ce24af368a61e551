import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REASON } from '../../../core/events/reason-codes.js';
import { recordParkedItem } from '../../../core/state/index.js';
import { debeziumEnvelope, orderChange } from '../../helpers/changes.js';
import { consumerUnderTest } from '../../helpers/consumer.js';
import { testClients, writeTestRuntimeFile } from '../../helpers/engines.js';
import { spawnScript } from '../../helpers/processes.js';

const clients = testClients();
afterAll(() => clients.destroy());

describe('cdcp failures list / redrive against a running local pipeline', () => {
  it('lists what the local event source mapping gave up on and redrives it through the fold', async () => {
    const consumer = await consumerUnderTest(clients);
    // What the local mapping parks when its retries run out: the whole record.
    const given = recordParkedItem(
      {
        data: Buffer.from(JSON.stringify(debeziumEnvelope(orderChange(5, 10, 'create'), 10))).toString(
          'base64',
        ),
        partitionKey: 'public.orders#5',
        sequenceNumber: '77',
        subSequenceNumber: 0,
        shardId: 'shardId-000000000000',
        approximateArrivalTimestamp: 1_700_000_000_000,
        eventSourceArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/test',
      },
      REASON.RETRIES_EXHAUSTED,
      'gave up after 10 retries',
      new Date(0),
    );
    await consumer.parked.put([given]);
    const runtimeFile = join(tmpdir(), `cdcp-runtime-failures-${process.pid}.json`);
    writeTestRuntimeFile(runtimeFile, consumer.names);
    const cdcp = async (...args: string[]) => {
      const run = spawnScript('bin/cdcp.ts', args, { CDCP_RUNTIME_FILE: runtimeFile });
      const { code } = await run.exited;
      return { code, stdout: run.stdout(), stderr: run.stderr() };
    };

    const list = await cdcp('failures', 'list');
    const dryRun = await cdcp('failures', 'redrive', '--dry-run');
    const redrive = await cdcp('failures', 'redrive', '--yes');
    rmSync(runtimeFile);

    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toBe('RETRIES_EXHAUSTED  shardId-000000000000 seq 77  gave up after 10 retries\n');
    expect(list.stderr).toContain('the local run parks the records its event source mapping gives up on');
    expect(dryRun.stdout).toBe('would redrive  shardId-000000000000 seq 77\n');
    expect(redrive.code, redrive.stderr).toBe(0);
    expect(redrive.stdout).toMatch(/^redriven {2}BAD#shardId-000000000000\/\d+#\d+: 1 applied/);
    expect(await consumer.state.get('public.orders#5')).toMatchObject({
      position: orderChange(5, 10).position,
    });
    expect(await consumer.parked.scanAll()).toEqual([]);
  });
});
