/** The charts drawn from benchmark results: from the committed results, and from results made up here. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { consumerCostChart } from '../../../bench/lib/consumer-cost-chart.js';
import { type FailoverData, failoverChart, killsOf } from '../../../bench/lib/failover-chart.js';

const committed = (name: string) => JSON.parse(readFileSync(`bench/results/${name}.json`, 'utf8'));

const settings = { leaseMs: 10_000, heartbeatMs: 2_500, workers: 4, shards: 16 };

describe('Function: killsOf', () => {
  it('takes the kills as recorded', () => {
    const kills = [
      { shardMs: [9_000, 11_000], assigner: false },
      { shardMs: [15_000], assigner: true },
    ];
    expect(
      killsOf({ shardMs: [9_000, 11_000, 15_000], killMs: [11_000, 15_000], assignerKills: 1, kills }),
    ).toEqual(kills);
  });

  it('cuts results recorded before kills were kept into equal groups that end at each kill’s last shard', () => {
    const { failover } = committed('cluster').data as { failover: FailoverData };
    const kills = killsOf({ ...failover, kills: undefined });
    expect(kills).toHaveLength(failover.killMs.length);
    expect(kills.map((k) => Math.max(...k.shardMs))).toEqual(failover.killMs);
    expect(kills.flatMap((k) => k.shardMs)).toEqual(failover.shardMs);
  });

  it('refuses figures that do not divide into the kills, saying to run the benchmark again', () => {
    expect(() => killsOf({ shardMs: [1, 2, 3], killMs: [2, 3], assignerKills: 0 })).toThrow(
      'cluster results: 3 shard times do not divide into the 2 kills; run `npm run bench -- cluster` again',
    );
    expect(() => killsOf({ shardMs: [5, 1, 2, 3], killMs: [2, 3], assignerKills: 0 })).toThrow(
      'do not divide',
    );
  });
});

describe('Function: failoverChart', () => {
  it('draws a row and a dot per shard for each kill, the assigner kills apart, with the p50 over every shard', () => {
    const svg = failoverChart({
      measuredAt: '2026-12-01T00:00:00.000Z',
      settings,
      data: {
        failover: {
          shardMs: [10_000, 11_000, 16_000],
          killMs: [11_000, 16_000],
          assignerKills: 1,
          kills: [
            { shardMs: [10_000, 11_000], assigner: false },
            { shardMs: [16_000], assigner: true },
          ],
        },
      },
    });

    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(3);
    expect(svg).toContain('kill 2 (the assigner)');
    expect(svg).toContain('every shard: p50 11.0 s, p99 16.0 s, max 16.0 s');
    expect(svg).toContain('target p50: lease + heartbeat (12.5 s)');
  });

  it('draws the committed results, the assigner kills found from its own shard times, against the targets', () => {
    const result = committed('cluster');
    const svg = failoverChart(result);
    expect(svg.match(/<circle /g)).toHaveLength(40);
    expect(svg.match(/ \(the assigner\)<\/text>/g)).toHaveLength(result.data.failover.assignerKills);
    expect(svg).toContain('target p50 (5 s)');
    expect(svg).not.toContain('NaN');
  });

  it('says how many kills hit the assigner when results recorded neither kills nor its shard times', () => {
    const { failover } = committed('cluster').data as { failover: FailoverData };
    const svg = failoverChart({
      measuredAt: '2026-12-01T00:00:00.000Z',
      settings,
      data: { failover: { ...failover, kills: undefined, assignerShardMs: undefined } },
    });
    expect(svg).toContain(`${failover.assignerKills} of the kills hit the assigner`);
  });
});

describe('Function: consumerCostChart', () => {
  it('draws each variant with the ratios of the committed results', () => {
    const result = committed('consumer-cost');
    const svg = consumerCostChart(result);
    const [first] = result.data as {
      ours: { requestsPerEvent: number };
      baseline: { requestsPerEvent: number };
    }[];
    expect(svg).toContain(
      `${(first!.baseline.requestsPerEvent / first!.ours.requestsPerEvent).toFixed(1)}× fewer`,
    );
    expect(svg.match(/<rect x="190"/g)).toHaveLength(result.data.length * 2 * 3);
    expect(svg).toContain('zipf s=1.1, batch 1,000');
  });
});
