import { describe, expect, it } from 'vitest';
import { emptyStats } from '../../../core/processing/batch-processor.js';
import { type AccountingInput, accountFor } from '../../../localstack/run/summary.js';
import type { WorkerRow } from '../../../localstack/run/worker-pool.js';

const worker = (state: WorkerRow['state']): WorkerRow => ({
  id: `worker-${state}`,
  pid: 1,
  state,
  startedAtWallMs: 0,
  leases: [],
  eventsPerSecond: 0,
  lagMs: 0,
  assigner: false,
  inFlight: 0,
  coordinationRequests: 0,
});

const input = (partial: Partial<AccountingInput>): AccountingInput => ({
  produced: 0,
  duplicatesInjected: 0,
  counted: emptyStats(),
  parked: 0,
  verifiedModel: undefined,
  workers: [],
  ...partial,
});

describe('Function: accountFor', () => {
  it('adds up after a verified drain with killed workers, and says where the consumers counted otherwise', () => {
    // 50,000 produced; the killed workers' last counts were lost, and their batches were delivered again.
    const result = accountFor(
      input({
        produced: 50_000,
        counted: { ...emptyStats(), applied: 49_846, duplicates: 208 },
        verifiedModel: { applied: 50_000, duplicates: 0, parked: 0, noChange: 0 },
        workers: [worker('killed'), worker('killed'), worker('running')],
      }),
    );

    expect(result).toMatchObject({
      applied: 50_000,
      duplicatesSkipped: 0,
      parked: 0,
      noChange: 0,
      inFlight: 0,
    });
    expect(result.accounting).toBe(
      '50,000 produced = 50,000 applied + 0 duplicates skipped + 0 parked + 0 without a change + 0 in flight',
    );
    expect(result.difference).toMatch(
      /^the consumers counted applied -154, duplicates \+208, parked 0 against the outcome: the counts of batches 2 killed or crashed worker\(s\) had not reported were lost with them/,
    );
    expect(result.difference).toContain('no change was lost or took effect twice');
  });

  it('counts injected duplicates parked behind a quarantine as parked, the others as skipped', () => {
    const result = accountFor(
      input({
        produced: 1_100,
        duplicatesInjected: 100,
        counted: { ...emptyStats(), applied: 980, duplicates: 97, parked: 23 },
        parked: 23,
        verifiedModel: { applied: 980, duplicates: 0, parked: 20, noChange: 0 },
      }),
    );

    expect(result).toMatchObject({ applied: 980, duplicatesSkipped: 97, parked: 23, inFlight: 0 });
    expect(result.difference).toBeUndefined();
  });

  it('uses what the consumers counted when the run was not verified, the rest in flight', () => {
    const result = accountFor(
      input({
        produced: 1_000,
        counted: { ...emptyStats(), applied: 700, duplicates: 10, tombstones: 5 },
        parked: 3,
      }),
    );

    expect(result).toMatchObject({
      applied: 700,
      duplicatesSkipped: 10,
      parked: 3,
      noChange: 5,
      inFlight: 282,
    });
    expect(result.accounting).toBe(
      '1,000 produced = 700 applied + 10 duplicates skipped + 3 parked + 5 without a change + 282 in flight',
    );
  });

  it('says so when records carry several changes', () => {
    const result = accountFor(
      input({ produced: 2, parked: 1, verifiedModel: { applied: 2, duplicates: 0, parked: 1, noChange: 0 } }),
    );

    expect(result.accounting).toBe(
      '2 records produced, holding 3 changes and undecodable records = 2 applied + 0 duplicates skipped + 1 parked + 0 without a change + 0 in flight',
    );
  });
});
