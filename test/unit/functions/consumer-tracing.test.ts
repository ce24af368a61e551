/**
 * The consumer's X-Ray adapter of the processing tracing port, on the real X-Ray SDK (through Powertools
 * Tracer) with an in-memory root segment: nothing is sent, the segment tree is inspected.
 */
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Request } from '@middy/core';
import type { KinesisStreamEvent } from 'aws-lambda';
import { Segment, type Subsegment } from 'aws-xray-sdk-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../core/coordination/clock.js';
import { messageOf } from '../../../core/errors.js';
import { noTracing } from '../../../core/processing/tracing.js';
import { annotateBatch, xrayProcessingTracer } from '../../../functions/consumer/tracing.js';
import { kinesisEvent, seq } from '../../helpers/consumer.js';

const LAMBDA_ENV = 'AWS_EXECUTION_ENV';
let previousEnv: string | undefined;
let tracer: Tracer;

beforeAll(() => {
  // Powertools Tracer turns itself off outside Lambda; this environment variable is how it knows.
  previousEnv = process.env[LAMBDA_ENV];
  process.env[LAMBDA_ENV] = 'AWS_Lambda_nodejs24.x';
  tracer = new Tracer({ serviceName: 'test', captureHTTPsRequests: false });
});

afterAll(() => {
  if (previousEnv === undefined) delete process.env[LAMBDA_ENV];
  else process.env[LAMBDA_ENV] = previousEnv;
});

/** Runs `fn` with a fresh root segment as the current one, and returns that segment's handler subsegment. */
async function underHandler(fn: () => Promise<void>): Promise<Subsegment> {
  const root = new Segment('consumer');
  const handler = root.addNewSubsegment('## index.handler');
  await tracer.provider.getNamespace().runPromise(async () => {
    tracer.provider.setSegment(handler);
    await fn();
  });
  return handler;
}

interface Node {
  readonly name: string;
  readonly annotations?: Record<string, unknown>;
  readonly children: Node[];
  readonly closed: boolean;
  readonly fault: boolean;
}

/** The subsegment tree, as names, annotations and state. */
function tree(segment: Subsegment): Node[] {
  return (segment.subsegments ?? []).map((s) => {
    const raw = s as unknown as { annotations?: Record<string, unknown>; end_time?: number; fault?: boolean };
    return {
      name: s.name,
      ...(raw.annotations === undefined ? {} : { annotations: raw.annotations }),
      children: tree(s),
      closed: raw.end_time !== undefined,
      fault: raw.fault === true,
    };
  });
}

describe('Function: xrayProcessingTracer', () => {
  it('opens a closed subsegment per step, nested in the step it runs in, with its annotations', async () => {
    const port = xrayProcessingTracer(tracer);

    const handler = await underHandler(async () => {
      port.traceSync('decode', () => 'decoded');
      await port.trace('aggregate', async () => {
        port.annotate('aggregateId', 'public.orders#1');
        port.traceSync('fold', () => 1);
        await port.trace('write', async () => systemClock.sleep(1));
      });
    });

    expect(tree(handler)).toEqual([
      { name: '### decode', children: [], closed: true, fault: false },
      {
        name: '### aggregate',
        annotations: { aggregateId: 'public.orders#1' },
        children: [
          { name: '### fold', children: [], closed: true, fault: false },
          { name: '### write', children: [], closed: true, fault: false },
        ],
        closed: true,
        fault: false,
      },
    ]);
  });

  it('keeps concurrent aggregates apart: each step and annotation lands under its own aggregate', async () => {
    const port = xrayProcessingTracer(tracer);
    const aggregate = (id: string, delays: readonly number[]) =>
      port.trace('aggregate', async () => {
        await systemClock.sleep(delays[0]!);
        port.annotate('aggregateId', id);
        port.traceSync('fold', () => id);
        await port.trace('write', async () => systemClock.sleep(delays[1]!));
      });

    const handler = await underHandler(async () => {
      await Promise.all([aggregate('a', [5, 1]), aggregate('b', [1, 8]), aggregate('c', [3, 3])]);
    });

    const aggregates = tree(handler);
    expect(aggregates.map((a) => a.annotations)).toEqual([
      { aggregateId: 'a' },
      { aggregateId: 'b' },
      { aggregateId: 'c' },
    ]);
    for (const a of aggregates) expect(a.children.map((c) => c.name)).toEqual(['### fold', '### write']);
  });

  it('passes results and errors through, closing a failed step with a fault', async () => {
    const port = xrayProcessingTracer(tracer);
    const results: unknown[] = [];

    const handler = await underHandler(async () => {
      results.push(port.traceSync('fold', () => 42));
      results.push(await port.trace('read', async () => 'item'));
      await port
        .trace('write', async () => {
          throw new Error('throttled');
        })
        .catch((error: Error) => results.push(error.message));
      try {
        port.traceSync('decode', () => {
          throw new Error('bad record');
        });
      } catch (error) {
        results.push(messageOf(error));
      }
    });

    expect(results).toEqual([42, 'item', 'throttled', 'bad record']);
    expect(tree(handler).map((n) => [n.name, n.closed, n.fault])).toEqual([
      ['### fold', true, false],
      ['### read', true, false],
      ['### write', true, true],
      ['### decode', true, true],
    ]);
  });

  it('is the no-op port when tracing is off', () => {
    expect(xrayProcessingTracer(new Tracer({ serviceName: 'test', enabled: false }))).toBe(noTracing);
  });
});

describe('Function: annotateBatch', () => {
  it("annotates the handler's subsegment with the shard and the record count", async () => {
    const event: KinesisStreamEvent = kinesisEvent(
      [1, 2, 3].map((n) => ({ data: '{}', partitionKey: 'k', sequenceNumber: seq(n) })),
      'shardId-000000000007',
    );

    const handler = await underHandler(async () => {
      await annotateBatch(tracer).before!({ event } as Request<KinesisStreamEvent>);
    });

    expect((handler as unknown as { annotations: unknown }).annotations).toEqual({
      shardId: 'shardId-000000000007',
      records: 3,
    });
  });
});
