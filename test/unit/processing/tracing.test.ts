import { describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../../core/events/change.js';
import { createDecodeContext } from '../../../core/events/decode-context.js';
import { createDefaultRegistry } from '../../../core/events/default-registry.js';
import { BatchProcessor } from '../../../core/processing/batch-processor.js';
import {
  FAULT_INJECTION_COLUMN,
  mirrorProjection,
  withFaultInjection,
} from '../../../core/processing/projection.js';
import {
  annotateAggregate,
  noTracing,
  TRACED_AGGREGATES_PER_BATCH,
} from '../../../core/processing/tracing.js';
import { toStreamRecords } from '../../../functions/consumer/create-handler.js';
import { orderChange, pending } from '../../helpers/changes.js';
import { changeRecord, kinesisEvent, type TestRecord } from '../../helpers/consumer.js';
import { RecordingTracer } from '../../helpers/recording-tracer.js';
import { stateTwins } from '../../helpers/state-twins.js';

const at = (change: ChangeEvent, lsn: number, n: number) => changeRecord(change, lsn, n);

function setup(
  options: { readonly needsPreviousState?: boolean; readonly aggregateConcurrency?: number } = {},
) {
  const twins = stateTwins();
  const tracer = new RecordingTracer();
  const processor = new BatchProcessor({
    registry: createDefaultRegistry(),
    decodeContext: createDecodeContext(),
    stateStore: twins.stateStore,
    parkedStore: twins.parkedStore,
    projection: withFaultInjection({
      ...mirrorProjection,
      needsPreviousState: options.needsPreviousState ?? false,
    }),
    maxAttempts: 3,
    aggregateConcurrency: options.aggregateConcurrency ?? 4,
    now: twins.now,
    tracer,
  });
  return {
    ...twins,
    tracer,
    process: (records: readonly TestRecord[]) => processor.process(toStreamRecords(kinesisEvent(records))),
  };
}

/** One create per aggregate 1..n, at LSN 10 + id. */
const creates = (n: number) =>
  Array.from({ length: n }, (_, i) => at(orderChange(i + 1, 10 + i, 'create'), 10 + i, i + 1));

describe('Tracing port: BatchProcessor', () => {
  it('traces the batch decode, then each aggregate with its decode, fold and write', async () => {
    const t = setup();

    await t.process([
      at(orderChange(1, 10, 'create'), 10, 1),
      at(orderChange(2, 11, 'create'), 11, 2),
      at(orderChange(1, 12), 12, 3),
    ]);

    expect(t.tracer.names()).toEqual(['decode', 'aggregate', 'aggregate']);
    for (const step of t.tracer.all('aggregate'))
      expect(t.tracer.names(step)).toEqual(['decode', 'fold', 'write']);
    expect(t.tracer.all('aggregate').map((s) => s.annotations)).toEqual([
      { aggregateId: 'public.orders#1', txId: '10' },
      { aggregateId: 'public.orders#2', txId: '11' },
    ]);
    expect([...t.tracer.all('aggregate'), ...t.tracer.all('write')].every((s) => s.ended && !s.failed)).toBe(
      true,
    );
  });

  it('keeps each aggregate’s steps under its own step while aggregates run concurrently', async () => {
    const t = setup({ aggregateConcurrency: 8, needsPreviousState: true });

    await t.process(creates(8));

    expect(t.tracer.names()).toEqual(['decode', 'read', ...Array(8).fill('aggregate')]);
    for (const step of t.tracer.all('aggregate')) {
      expect(t.tracer.names(step)).toEqual(['decode', 'fold', 'write']);
      expect(step.annotations.aggregateId).toMatch(/^public\.orders#\d$/);
    }
  });

  it(`traces the first ${TRACED_AGGREGATES_PER_BATCH} aggregates of a batch and applies the others untraced`, async () => {
    const t = setup({ aggregateConcurrency: 32 });

    const result = await t.process(creates(TRACED_AGGREGATES_PER_BATCH + 5));

    expect(result.stats.applied).toBe(TRACED_AGGREGATES_PER_BATCH + 5);
    expect(t.tracer.all('aggregate')).toHaveLength(TRACED_AGGREGATES_PER_BATCH);
    expect(t.tracer.all('write')).toHaveLength(TRACED_AGGREGATES_PER_BATCH);
    expect(t.tracer.all('aggregate').at(-1)?.annotations.aggregateId).toBe(
      `public.orders#${TRACED_AGGREGATES_PER_BATCH}`,
    );
  });

  it('ends a write step that failed as failed, and the aggregate fails as before', async () => {
    const t = setup();
    // Throttled on every try the applier makes: it retries transient errors before giving up.
    t.stateStore.inject({ kind: 'throttle', operations: ['write'], times: 10 });

    const result = await t.process([at(orderChange(1, 10, 'create'), 10, 1)]);

    expect(result.stats.failedAggregates).toBe(1);
    const [write] = t.tracer.all('write');
    expect(write).toMatchObject({ ended: true, failed: true });
  });

  it('shows a refused change as the blind fold, the read of the item, the fold that counts the attempt and its write', async () => {
    const t = setup();
    const poisoned = orderChange(1, 10, 'update', { id: 1, [FAULT_INJECTION_COLUMN]: 'x' });

    const result = await t.process([at(poisoned, 10, 1)]);

    expect(result.stats.failedAggregates).toBe(1);
    const [aggregate] = t.tracer.all('aggregate');
    expect(t.tracer.names(aggregate)).toEqual(['decode', 'fold', 'read', 'fold', 'write']);
  });
});

describe('Function: annotateAggregate', () => {
  it('annotates the aggregate and its first change’s transaction, cutting long values', () => {
    const tracer = new RecordingTracer();
    const id = `public.orders#${'9'.repeat(300)}`;

    annotateAggregate(tracer, id, [pending({ ...orderChange(1, 10), txId: '771' }, '1')]);

    expect(tracer.root.annotations).toEqual({ aggregateId: id.slice(0, 250), txId: '771' });
  });

  it('leaves the transaction out when the format carries none', () => {
    const tracer = new RecordingTracer();

    annotateAggregate(tracer, 'public.orders#1', [pending({ ...orderChange(1, 10), txId: null }, '1')]);

    expect(tracer.root.annotations).toEqual({ aggregateId: 'public.orders#1' });
  });
});

describe('Tracing port: noTracing', () => {
  it('runs the steps as plain calls and passes their results and errors through', async () => {
    expect(noTracing.traceSync('fold', () => 3)).toBe(3);
    await expect(noTracing.trace('write', async () => 'ok')).resolves.toBe('ok');
    await expect(
      noTracing.trace('write', async () => {
        throw new Error('lost');
      }),
    ).rejects.toThrow('lost');
    expect(() => noTracing.annotate('aggregateId', 'a')).not.toThrow();
  });
});
