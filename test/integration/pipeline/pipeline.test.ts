import { describe, expect, inject, it } from 'vitest';
import type { Endpoints } from '../../../localstack/engines/engines.js';
import { runPipeline } from '../../../localstack/run/pipeline.js';
import { uniqueName } from '../../helpers/engines.js';

const endpoints = (kinesis: 'kinesalite' | 'kinesis-mock' = 'kinesalite'): Endpoints => ({
  dynamodb: inject('dynamodbEndpoint'),
  kinesis: inject(kinesis === 'kinesalite' ? 'kinesaliteEndpoint' : 'kinesisMockEndpoint'),
  kind: 'embedded',
  kinesisEngine: kinesis,
});

describe('Local pipeline (producer → Kinesis → event source mapping → handler → DynamoDB)', () => {
  it('keeps per-aggregate order with ParallelizationFactor 4 over 10,000 events, verified against the model', async () => {
    const summary = await runPipeline({
      events: 10_000,
      untilDrained: true,
      shards: 2,
      mapping: { batchSize: 100, parallelizationFactor: 4 },
      endpoints: endpoints(),
      prefix: uniqueName('pf4'),
      progress: false,
      seed: 11,
      aggregates: 2000,
    });
    expect(summary.differences).toBeUndefined();
    expect(summary).toMatchObject({ verified: true, produced: 10_000, applied: 10_000, parked: 0 });
  });

  it('absorbs duplicates and quarantines exactly the poisoned aggregates', async () => {
    const summary = await runPipeline({
      events: 3000,
      untilDrained: true,
      shards: 2,
      mapping: { batchSize: 50, parallelizationFactor: 2 },
      injectDuplicates: 0.2,
      injectPoison: 5,
      endpoints: endpoints(),
      prefix: uniqueName('poison'),
      progress: false,
      seed: 3,
      aggregates: 500,
      config: { processing: { maxAttempts: 2 } },
    });
    expect(summary.differences).toBeUndefined();
    expect(summary.verified).toBe(true);
    expect(summary.quarantinedAggregates).toBe(5);
    expect(summary.produced).toBeGreaterThan(3000);
    // Every produced record is accounted for: applied, skipped as a duplicate, or parked (a duplicate of a
    // quarantined aggregate's change is parked under its own sequence number).
    const { applied, duplicatesSkipped, parked, noChange, inFlight } = summary;
    expect(applied + duplicatesSkipped + parked + noChange + inFlight).toBe(summary.produced);
    expect(duplicatesSkipped + parked).toBeGreaterThanOrEqual(summary.produced - 3000);
  });

  it('runs on kinesis-mock too', async () => {
    const summary = await runPipeline({
      events: 1000,
      untilDrained: true,
      shards: 2,
      endpoints: endpoints('kinesis-mock'),
      prefix: uniqueName('mock'),
      progress: false,
      aggregates: 300,
    });
    expect(summary).toMatchObject({ verified: true, applied: 1000, engine: 'kinesis-mock' });
  });
});
