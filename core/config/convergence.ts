import { parseReportedConfigVersion } from './reported-version.js';
import { versionNumber } from './stamp.js';

/** The registry fields convergence needs (an `InstanceRecord` fits). */
interface InstanceConfigSighting {
  readonly instanceId: string;
  readonly kind: string;
  /** The heartbeat's `configVersion`, as written by `reportedConfigVersion`. */
  readonly configVersion: string | undefined;
  readonly heartbeatAtWallMs: number;
}

interface InstanceConfigState {
  readonly instanceId: string;
  readonly kind: string;
  /** `undefined` when the instance reports none yet. */
  readonly version: string | undefined;
  readonly appliedAtWallMs: number | undefined;
  readonly heartbeatAtWallMs: number;
  readonly onLatest: boolean;
  /** From publication to this instance applying the latest version (`undefined` when not on it, or unknown). */
  readonly reachedAfterMs: number | undefined;
}

interface ConfigConvergence {
  /** The newest published version (from the publisher), else the highest version an instance reports. */
  readonly latestVersion: string | undefined;
  readonly publishedAtWallMs: number | undefined;
  readonly instances: readonly InstanceConfigState[];
  readonly onLatest: number;
  /** Every instance listed runs the latest version (false when none is listed). */
  readonly converged: boolean;
  /**
   * How long the latest version took to reach every instance: from publication to the last instance
   * applying it. `undefined` until converged, or when the publication or an applied time is unknown. Wall
   * clocks of different machines: a measurement for people, never a decision (docs/architecture.md contract 8).
   */
  readonly convergenceMs: number | undefined;
}

/**
 * Which live instances run the newest configuration, and how long that version took to reach all of them;
 * pure, for `cdcp config status`, the cluster manager's `InstancesOnStaleConfig` metric and the dashboard.
 *
 * @example
 * ```ts
 * const report = configConvergence(await registry.listLive(), await publisher.current());
 * metrics.addMetric(METRICS.instancesOnStaleConfig, 'Count', report.instances.length - report.onLatest);
 * ```
 */
function configConvergence(
  instances: readonly InstanceConfigSighting[],
  latest?: { readonly version: string; readonly publishedAtWallMs: number | undefined },
): ConfigConvergence {
  const reported = instances.map((i) => ({
    sighting: i,
    reported: parseReportedConfigVersion(i.configVersion),
  }));
  const latestVersion = latest?.version ?? newest(reported.map((r) => r.reported?.version));
  const publishedAtWallMs = latest?.publishedAtWallMs;
  const states = reported
    .map(({ sighting, reported }): InstanceConfigState => {
      const onLatest = latestVersion !== undefined && reported?.version === latestVersion;
      const applied = reported?.appliedAtWallMs;
      return {
        instanceId: sighting.instanceId,
        kind: sighting.kind,
        version: reported?.version,
        appliedAtWallMs: applied,
        heartbeatAtWallMs: sighting.heartbeatAtWallMs,
        onLatest,
        reachedAfterMs:
          onLatest && applied !== undefined && publishedAtWallMs !== undefined
            ? Math.max(0, applied - publishedAtWallMs)
            : undefined,
      };
    })
    .sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0));
  const onLatest = states.filter((s) => s.onLatest).length;
  const converged = states.length > 0 && onLatest === states.length;
  const reached = states.map((s) => s.reachedAfterMs);
  const convergenceMs =
    converged && reached.every((r) => r !== undefined) ? Math.max(...(reached as number[])) : undefined;
  return { latestVersion, publishedAtWallMs, instances: states, onLatest, converged, convergenceMs };
}

/** The highest version: numerically for publisher versions, else by string. */
function newest(versions: readonly (string | undefined)[]): string | undefined {
  let best: string | undefined;
  for (const v of versions) {
    if (v === undefined) continue;
    if (
      best === undefined ||
      versionNumber(v) > versionNumber(best) ||
      (versionNumber(v) === versionNumber(best) && v > best)
    )
      best = v;
  }
  return best;
}

export type { ConfigConvergence, InstanceConfigSighting, InstanceConfigState };
export { configConvergence };
