import { describe, expect, inject, it } from 'vitest';
import { runPipeline } from '../../../localstack/run/pipeline.js';
import { uniqueName } from '../../helpers/engines.js';

describe('The cluster manager on a local run with a load spike (kinesis-mock)', () => {
  it('reshards the hot shard during the spike and the run still verifies against its model', async () => {
    const summary = await runPipeline({
      events: 3000,
      rate: 20,
      loadProfile: 'spike',
      // Local engines never throttle: a low per-shard capacity makes the spike overload the stream.
      clusterManager: { intervalMs: 2000, recordsPerShard: 40 },
      untilDrained: true,
      shards: 2,
      endpoints: {
        dynamodb: inject('dynamodbEndpoint'),
        kinesis: inject('kinesisMockEndpoint'),
        kind: 'embedded',
        kinesisEngine: 'kinesis-mock',
      },
      prefix: uniqueName('spike'),
      progress: false,
      aggregates: 500,
    });
    expect(summary.differences).toBeUndefined();
    expect(summary.verified).toBe(true);
    const resharding = (summary.scalingActions ?? []).filter(
      (a) => ['split-shard', 'update-shard-count'].includes(a.kind) && a.status === 'applied',
    );
    expect(resharding.length, JSON.stringify(summary.scalingActions)).toBeGreaterThan(0);
  });
});
