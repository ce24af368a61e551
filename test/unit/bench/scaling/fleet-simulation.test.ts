import { beforeAll, describe, expect, it } from 'vitest';
import { type FleetOutcome, simulateFleet } from '../../../../bench/lib/scaling/fleet-simulation.js';

/** DynamoDB's limits: an item of at most 400 KB, a partition key of at most 1,000 write units per second. */
const ITEM_LIMIT_BYTES = 400 * 1024;
const PARTITION_WRITE_UNITS = 1_000;

describe('Function: simulateFleet (the real assigner on the in-memory table, manual clock)', () => {
  let small: FleetOutcome;
  let large: FleetOutcome;

  // A fleet of 10 workers on 40 shards and one 100 times larger: 1,000 workers on 4,096 shards, 32 groups.
  beforeAll(async () => {
    small = await simulateFleet({ workers: 10, shards: 40 });
    large = await simulateFleet({ workers: 1_000, shards: 4_096 });
  }, 60_000);

  it('keeps every worker, the assigner included, at or under 0.5 coordination requests per second at rest', () => {
    for (const outcome of [small, large]) {
      expect(outcome.followerAtRest).toBeLessThanOrEqual(0.5);
      expect(outcome.assignerAtRest).toBeLessThanOrEqual(0.5);
    }
    // The follower pays for its heartbeats and a minute's report and safety read, whatever the fleet.
    expect(large.followerAtRest).toBeLessThanOrEqual(small.followerAtRest);
  });

  it("bounds the assigner's requests per round at rest and after a death, 100 times the workers and shards", () => {
    // At rest: its safety reads, one Query page a minute, and the other groups once a minute.
    expect(small.assignerPagesPerRound).toBeLessThanOrEqual(0.1);
    expect(large.assignerPagesPerRound).toBeLessThanOrEqual(0.1);
    // A death: the successors took the dead worker's leases over; the assigner reads the leases and names new
    // successors for what the dead worker held or succeeded: a cost of the dead worker's leases, not the fleet's.
    expect(large.victimLeases).toBeLessThanOrEqual(2 * Math.ceil(large.shards / large.workers) + 2);
    expect(large.pagesOnDeath).toBeLessThanOrEqual(2 * small.pagesOnDeath);
    expect(large.pagesOnDeath).toBeLessThanOrEqual(large.victimLeases + 6);
  });

  it('keeps each membership item far within the item and partition limits at 1,000 workers', () => {
    expect(large.groups).toBe(32);
    expect(large.itemBytes).toBeLessThanOrEqual(ITEM_LIMIT_BYTES / 100);
    expect(large.writeUnitsPerKeyBusy).toBeLessThanOrEqual(PARTITION_WRITE_UNITS / 5);
  });
});
