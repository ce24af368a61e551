/**
 * What a projection is, for the one check that matters: a replay applies exactly the projection the consumer
 * runs. The name is the projection's own `name`; the fingerprint is a hash of the module's source files
 * ({@link projectionFingerprint}); the entry is the module's path as the deployment was given it.
 */
interface ProjectionIdentity {
  readonly name: string;
  /** `builtin` for the mirror projection that runs when no projection module is given. */
  readonly fingerprint: string;
  /** The module's path (relative to where the CDK app ran, or absolute for a local run); null for the built-in. */
  readonly entry: string | null;
}

/** The fingerprint of the built-in mirror projection. */
const BUILTIN_FINGERPRINT = 'builtin';

/** The identity of the mirror projection the consumer runs when no projection module is given. */
const MIRROR_IDENTITY: ProjectionIdentity = { name: 'mirror', fingerprint: BUILTIN_FINGERPRINT, entry: null };

/** Two identities name the same projection when their fingerprints are equal (the name is inside the source). */
function sameProjection(a: ProjectionIdentity, b: ProjectionIdentity): boolean {
  return a.fingerprint === b.fingerprint;
}

/** `"order-totals" (fingerprint 1a2b…, from projection.mjs)`, or `the built-in mirror projection`. */
function describeProjection(identity: ProjectionIdentity): string {
  if (identity.fingerprint === BUILTIN_FINGERPRINT) return 'the built-in mirror projection';
  return `projection "${identity.name}" (fingerprint ${identity.fingerprint}${identity.entry === null ? '' : `, from ${identity.entry}`})`;
}

/** Reads an identity back from JSON (stack outputs, the runtime file); undefined when it is not one. */
function parseProjectionIdentity(value: unknown): ProjectionIdentity | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { name, fingerprint, entry } = value as Record<string, unknown>;
  if (typeof name !== 'string' || typeof fingerprint !== 'string') return undefined;
  if (entry !== null && entry !== undefined && typeof entry !== 'string') return undefined;
  return { name, fingerprint, entry: typeof entry === 'string' ? entry : null };
}

export type { ProjectionIdentity };
export { BUILTIN_FINGERPRINT, describeProjection, MIRROR_IDENTITY, parseProjectionIdentity, sameProjection };
