import type { ConfigSnapshot } from './source.js';

/** `<version>@<appliedAtWallMs>`: the version an instance runs and when it took it. */
const REPORTED_VERSION = /^(.+)@(\d{1,15})$/;

/**
 * What an instance puts in its heartbeat's `configVersion` (docs/architecture.md §10): the version it runs and
 * when it applied it, so `cdcp config status` and the cluster manager can measure how long a version took to
 * reach every instance from registry items alone.
 *
 * @example
 * ```ts
 * await registry.heartbeatIfDue(instanceId, { configVersion: reportedConfigVersion(source.current()) });
 * ```
 */
function reportedConfigVersion(snapshot: Pick<ConfigSnapshot, 'version' | 'appliedAtWallMs'>): string {
  return `${snapshot.version}@${Math.round(snapshot.appliedAtWallMs)}`;
}

/** Reads a heartbeat's `configVersion`; a bare version (no `@time`) has no applied time. */
function parseReportedConfigVersion(
  reported: string | undefined,
): { readonly version: string; readonly appliedAtWallMs: number | undefined } | undefined {
  if (reported === undefined || reported === '') return undefined;
  const match = REPORTED_VERSION.exec(reported);
  return match === null
    ? { version: reported, appliedAtWallMs: undefined }
    : { version: match[1]!, appliedAtWallMs: Number(match[2]) };
}

export { parseReportedConfigVersion, reportedConfigVersion };
