import type { LeaseGuard } from '../coordination/fenced-writer.js';
import type { LeaseStore } from '../coordination/store.js';
import type { AuditLog, ClaimResult, DecisionRecord, NewDecision } from './audit-log.js';
import { decisionId } from './audit-log.js';
import type { ActionOutcome } from './executor.js';

/**
 * {@link AuditLog} in memory with the same fencing as the DynamoDB one: a claim is written only while the
 * lease store shows the guard's owner and term on the leadership item. For tests, the simulator and local
 * runs without DynamoDB.
 *
 * @example
 * ```ts
 * const audit = new InMemoryAuditLog({ leases: store });
 * ```
 */
class InMemoryAuditLog implements AuditLog {
  readonly #leases: LeaseStore | undefined;
  readonly #records = new Map<string, DecisionRecord>();

  /** Without `leases` every claim is written (no fencing): for single-manager simulations only. */
  public constructor(options: { readonly leases?: LeaseStore } = {}) {
    this.#leases = options.leases;
  }

  public async claim(decision: NewDecision, guard: LeaseGuard): Promise<ClaimResult> {
    if (this.#leases !== undefined) {
      const lease = await this.#leases.getLease(guard.key);
      // Checked and written with no await in between: atomic in one process, like the transaction.
      if (lease?.owner !== guard.owner || lease.fence !== guard.fence)
        return { written: false, reason: 'fenced', currentLeader: lease?.owner, currentTerm: lease?.fence };
    }
    let at = decision.atWallMs;
    while (this.#records.has(decisionId(at))) at += 1;
    const id = decisionId(at);
    this.#records.set(id, { ...structuredClone(decision), id, outcomes: undefined });
    return { written: true, id };
  }

  public async complete(
    id: string,
    term: number,
    outcomes: readonly ActionOutcome[],
    housekeeping?: Readonly<Record<string, unknown>>,
  ): Promise<boolean> {
    const record = this.#records.get(id);
    if (record === undefined || record.term !== term) return false;
    this.#records.set(id, {
      ...record,
      outcomes: structuredClone(outcomes),
      ...(housekeeping === undefined ? {} : { housekeeping: structuredClone(housekeeping) }),
    });
    return true;
  }

  public async list(
    options: { readonly sinceWallMs?: number; readonly limit?: number } = {},
  ): Promise<DecisionRecord[]> {
    const since = options.sinceWallMs === undefined ? '' : decisionId(options.sinceWallMs);
    return [...this.#records.values()]
      .filter((r) => r.id >= since)
      .sort((a, b) => (a.id < b.id ? 1 : -1))
      .slice(0, options.limit ?? Number.POSITIVE_INFINITY);
  }
}

export { InMemoryAuditLog };
