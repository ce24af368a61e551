import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../core/config/schema.js';
import { ENV } from '../../../core/constants.js';
import type { ChangeEvent } from '../../../core/events/change.js';
import { LEASES_PER_PAGE, restLeaseReadInterval, workerTimings } from '../../../core/workers/timings.js';
import { parseRunArgs } from '../../../localstack/run/args.js';
import {
  APPLIED_CHANGES_FIELD,
  countingProjection,
  EffectCounts,
} from '../../../localstack/run/effect-audit.js';
import { workerLine } from '../../../localstack/run/progress.js';
import type { StateRow } from '../../../localstack/run/state-scan.js';
import { workerCommand } from '../../../localstack/run/worker-pool.js';

const change = (aggregateId: string, op: ChangeEvent['op'], n: number): ChangeEvent =>
  ({
    aggregateId,
    op,
    position: `p${n}`,
    after: op === 'delete' ? null : { id: aggregateId, n },
  }) as ChangeEvent;

describe('Function: parseRunArgs (workers)', () => {
  it('takes --workers and --assignment, and runs one in-process worker by default', () => {
    expect(parseRunArgs([])).toMatchObject({ workers: 0, assignment: undefined });
    expect(parseRunArgs(['--workers', '4', '--assignment', 'bounded-load'])).toMatchObject({
      workers: 4,
      assignment: 'bounded-load',
    });
  });

  it('names the value received and what is allowed', () => {
    expect(() => parseRunArgs(['--workers', '33'])).toThrow(
      '--workers must be an integer from 0 to 32; received "33"',
    );
    expect(() => parseRunArgs(['--assignment', 'random'])).toThrow(
      '--assignment must be one of round-robin, least-loaded, adaptive, bounded-load; received "random"',
    );
  });
});

describe('Function: parseRunArgs (--reader)', () => {
  it('reads by polling unless told otherwise; fan-out runs in worker processes only', () => {
    expect(parseRunArgs([]).reader).toBe('polling');
    expect(parseRunArgs(['--workers', '2', '--reader', 'fan-out']).reader).toBe('fan-out');
    expect(() => parseRunArgs(['--reader', 'fan-out'])).toThrow(
      '--reader fan-out runs in worker processes: add --workers N (N ≥ 1)',
    );
    expect(() => parseRunArgs(['--reader', 'efo'])).toThrow(
      '--reader must be polling or fan-out; received "efo"',
    );
  });
});

describe('npm start -- --projection PATH --workers N', () => {
  const spec = {
    endpoints: { dynamodb: 'http://127.0.0.1:1', kinesis: 'http://127.0.0.1:2' },
    names: { stateTable: 's', parkedTable: 'p', coordinationTable: 'c', streamName: 'changes' },
    streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/changes',
    config: parseConfig({}),
    mapping: {},
  };
  const identity = { name: 'change-count', fingerprint: '0123456789abcdef', entry: '/app/projection.mjs' };

  it('is accepted, and every worker process loads the module and must have its identity', () => {
    expect(parseRunArgs(['--projection', 'projection.mjs', '--workers', '2'])).toMatchObject({
      projection: 'projection.mjs',
      workers: 2,
    });
    const { env } = workerCommand({ ...spec, projection: identity }, 'worker-1');

    expect(env[ENV.WORKER_PROJECTION_MODULE]).toBe('/app/projection.mjs');
    expect(JSON.parse(env[ENV.PROJECTION]!)).toEqual(identity);
  });

  it('gives workers the counting projection for an effect audit, and nothing without a module', () => {
    const audit = workerCommand({ ...spec, projection: identity, auditEffects: true }, 'worker-1').env;
    const none = workerCommand(spec, 'worker-1').env;

    expect(audit[ENV.WORKER_PROJECTION_MODULE]).toMatch(/counting-projection\.ts$/);
    expect(audit[ENV.PROJECTION]).toBeUndefined();
    expect([none[ENV.WORKER_PROJECTION_MODULE], none[ENV.PROJECTION]]).toEqual([undefined, undefined]);
  });
});

describe('Function: workerTimings', () => {
  it('derives every interval from the lease duration: half a lease at rest, a quarter while busy', () => {
    const config = parseConfig({ leases: { failureDetectionMs: 4_500 } });
    expect(workerTimings(config.leases)).toEqual({
      leaseDurationMs: 4_500,
      heartbeatIntervalMs: 1_125,
      restHeartbeatIntervalMs: 2_250,
      fastPollMs: 250,
      shardSyncMs: 1_500,
      reportIntervalMs: 60_000,
      busyReportIntervalMs: 10_000,
      restLeaseReadMs: 60_000,
      acceptWaitMs: 4_500,
      leaveWaitMs: 9_000,
    });
  });

  it('rejects a heartbeat above half the lease, naming the value', () => {
    const config = parseConfig({});
    expect(() => workerTimings(config.leases, { restHeartbeatIntervalMs: 3_000 })).toThrow(
      'restHeartbeatIntervalMs must be at most half the lease duration (4500 ms), so that one late heartbeat does not get a live worker presumed dead; received 3000',
    );
  });
});

describe('Function: restLeaseReadInterval', () => {
  it('spaces the safety read at rest by a minute per Query page of leases, so it costs one page a minute', () => {
    const timings = workerTimings(parseConfig({}).leases);

    expect(restLeaseReadInterval(timings, 0)).toBe(60_000);
    expect(restLeaseReadInterval(timings, LEASES_PER_PAGE)).toBe(60_000);
    expect(restLeaseReadInterval(timings, LEASES_PER_PAGE + 1)).toBe(120_000);
    expect(restLeaseReadInterval(timings, 4_096)).toBe(180_000);
  });
});

describe('Class: EffectCounts', () => {
  it('counts the changes that took effect since each aggregate was last created, and strips the count', () => {
    let state: ReturnType<typeof countingProjection.apply> | undefined;
    const counts = new EffectCounts();
    for (const [i, op] of (['create', 'update', 'delete', 'create', 'update'] as const).entries()) {
      const c = change('a', op, i);
      counts.produced(c, false);
      state = countingProjection.apply(state, c);
    }
    expect(state!.state![APPLIED_CHANGES_FIELD]).toBe(2);
    const rows = new Map<string, StateRow>([
      ['a', { aggregateId: 'a', deleted: false, position: 'p4', state: state!.state, quarantined: false }],
    ]);
    expect(counts.verify(rows)).toEqual([]);
    expect(rows.get('a')!.state).toEqual({ id: 'a', n: 4 });
  });

  it('reports a change applied twice', () => {
    const counts = new EffectCounts();
    counts.produced(change('b', 'create', 1), false);
    const rows = new Map<string, StateRow>([
      [
        'b',
        {
          aggregateId: 'b',
          deleted: false,
          position: 'p1',
          state: { [APPLIED_CHANGES_FIELD]: 2 },
          quarantined: false,
        },
      ],
    ]);
    expect(counts.verify(rows)).toEqual([
      'b: 2 changes took effect since it was last created, expected 1 (a change applied twice, or lost)',
    ]);
  });
});

describe('Function: workerLine', () => {
  it('shows a worker as the live view does', () => {
    expect(
      workerLine({
        id: 'worker-2-9f3a1c',
        pid: 42,
        state: 'running',
        startedAtWallMs: 0,
        leases: ['shardId-000000000000', 'shardId-000000000003'],
        eventsPerSecond: 1204.4,
        lagMs: 0,
        assigner: true,
        inFlight: 1,
        coordinationRequests: 10,
      }),
    ).toBe('worker-2-9f3a1c 1,204/s 2 leases (assigner)');
  });
});
