import { describe, expect, it } from 'vitest';
import {
  configConvergence,
  type InstanceConfigSighting,
  parseReportedConfigVersion,
  reportedConfigVersion,
} from '../../../core/config/index.js';

const PUBLISHED = Date.parse('2026-03-01T12:00:00.000Z');

function instance(id: string, version: string | undefined, appliedAfterMs?: number): InstanceConfigSighting {
  return {
    instanceId: id,
    kind: 'worker',
    configVersion:
      version === undefined
        ? undefined
        : appliedAfterMs === undefined
          ? version
          : reportedConfigVersion({ version, appliedAtWallMs: PUBLISHED + appliedAfterMs }),
    heartbeatAtWallMs: PUBLISHED + 5_000,
  };
}

describe('Function: reportedConfigVersion', () => {
  it('writes the version and the applied time, and reads them back', () => {
    const reported = reportedConfigVersion({ version: '12', appliedAtWallMs: 1_772_366_400_123.4 });

    expect(reported).toBe('12@1772366400123');
    expect(parseReportedConfigVersion(reported)).toEqual({
      version: '12',
      appliedAtWallMs: 1_772_366_400_123,
    });
  });

  it('reads a bare version (no applied time) and nothing', () => {
    expect(parseReportedConfigVersion('stack-default')).toEqual({
      version: 'stack-default',
      appliedAtWallMs: undefined,
    });
    expect(parseReportedConfigVersion('a@b@1700000000000')).toEqual({
      version: 'a@b',
      appliedAtWallMs: 1_700_000_000_000,
    });
    expect(parseReportedConfigVersion(undefined)).toBeUndefined();
    expect(parseReportedConfigVersion('')).toBeUndefined();
  });
});

describe('Function: configConvergence', () => {
  it('measures publication to the last instance applying the version', () => {
    const report = configConvergence(
      [
        instance('w-3', '7', 900),
        instance('w-1', '7', 120),
        instance('w-2', '7', 450),
        instance('w-4', '7', 310),
      ],
      { version: '7', publishedAtWallMs: PUBLISHED },
    );

    expect(report.converged).toBe(true);
    expect(report.onLatest).toBe(4);
    expect(report.convergenceMs).toBe(900);
    expect(report.instances.map((i) => [i.instanceId, i.reachedAfterMs])).toEqual([
      ['w-1', 120],
      ['w-2', 450],
      ['w-3', 900],
      ['w-4', 310],
    ]);
  });

  it('is not converged while one instance runs an older version', () => {
    const report = configConvergence([instance('w-1', '7', 100), instance('w-2', '6', -60_000)], {
      version: '7',
      publishedAtWallMs: PUBLISHED,
    });

    expect(report.converged).toBe(false);
    expect(report.onLatest).toBe(1);
    expect(report.convergenceMs).toBeUndefined();
    expect(report.instances.find((i) => i.instanceId === 'w-2')).toMatchObject({
      version: '6',
      onLatest: false,
      reachedAfterMs: undefined,
    });
  });

  it('counts an instance that reports nothing as behind', () => {
    const report = configConvergence([instance('w-1', '7', 100), instance('w-2', undefined)], {
      version: '7',
      publishedAtWallMs: PUBLISHED,
    });

    expect(report.converged).toBe(false);
    expect(report.instances[1]).toMatchObject({ version: undefined, onLatest: false });
  });

  it('takes the highest reported version when the publisher is unknown, and cannot time it', () => {
    const report = configConvergence([instance('w-1', '9', 10), instance('w-2', '10', 20)]);

    expect(report.latestVersion).toBe('10');
    expect(report.onLatest).toBe(1);
    expect(report.publishedAtWallMs).toBeUndefined();
  });

  it('is converged but untimed when an instance reports no applied time', () => {
    const report = configConvergence([instance('w-1', '7', 10), instance('w-2', '7')], {
      version: '7',
      publishedAtWallMs: PUBLISHED,
    });

    expect(report.converged).toBe(true);
    expect(report.convergenceMs).toBeUndefined();
  });

  it('clamps a clock-skewed applied time before publication to zero', () => {
    const report = configConvergence([instance('w-1', '7', -250)], {
      version: '7',
      publishedAtWallMs: PUBLISHED,
    });

    expect(report.convergenceMs).toBe(0);
  });

  it('is not converged with no instance at all', () => {
    expect(configConvergence([], { version: '1', publishedAtWallMs: PUBLISHED }).converged).toBe(false);
  });
});
