import type { LeaseGuard } from '../coordination/fenced-writer.js';
import { type ActionOutcome, actionRecordOf } from './executor.js';
import type { ActionRecord, Plan } from './model.js';

/** Partition key of decision items in the coordination table (docs/architecture.md §5). */
const DECISION_PK = 'DECISION';

/** The figures a decision was made from, compact enough for one item. */
interface DecisionInputs {
  readonly streamName: string;
  readonly status: string;
  /**
   * Open shards with their hash ranges (decimal) and latest utilization, capped at 500 entries; empty for a
   * decision without actions (its plan's summary says how many there were).
   */
  readonly shards: readonly {
    readonly shardId: string;
    readonly start: string;
    readonly end: string;
    readonly utilization: number;
  }[];
  readonly metricsPoints: number;
  /** The policy in force; empty for a decision without actions. */
  readonly policy: Readonly<Record<string, unknown>>;
}

/** One cluster-manager run as the audit log keeps it. */
interface DecisionRecord {
  /** Sort key: the ISO time of the decision (unique per item). */
  readonly id: string;
  readonly atWallMs: number;
  /** The leadership term the decision was made under: its fence. */
  readonly term: number;
  readonly leaderId: string;
  /** `false` when scaling is disabled or the run only planned. */
  readonly acting: boolean;
  readonly inputs: DecisionInputs;
  readonly plan: Plan;
  /** `undefined` until the run completed; a decision left without outcomes was interrupted midway. */
  readonly outcomes: readonly ActionOutcome[] | undefined;
  readonly housekeeping?: Readonly<Record<string, unknown>>;
}

type NewDecision = Omit<DecisionRecord, 'id' | 'outcomes'>;

/** Claiming a decision is fenced: only the current leader of the term writes one. */
type ClaimResult =
  | { readonly written: true; readonly id: string }
  | {
      readonly written: false;
      readonly reason: 'fenced';
      readonly currentLeader: string | undefined;
      readonly currentTerm: number | undefined;
    };

/**
 * The cluster manager's audit log (DECISION items of the coordination table). A run **claims** its decision
 * before it acts, in one write conditional on the caller still holding its leadership term (the term is the
 * fence): of two managers running at once only the current leader's claim is written, and only a manager
 * whose claim was written acts. The outcomes are added when the run ends.
 */
interface AuditLog {
  claim(decision: NewDecision, guard: LeaseGuard): Promise<ClaimResult>;
  /** Adds the outcomes to the decision `id` (only the term that claimed it may); `false` if it cannot. */
  complete(
    id: string,
    term: number,
    outcomes: readonly ActionOutcome[],
    housekeeping?: Readonly<Record<string, unknown>>,
  ): Promise<boolean>;
  /** Decisions since `sinceWallMs`, newest first, at most `limit`. */
  list(options?: { readonly sinceWallMs?: number; readonly limit?: number }): Promise<DecisionRecord[]>;
}

/**
 * What the planner needs from the log: every action with its outcome. An action of a decision that was
 * claimed but never completed counts as done (outcome `undefined`): the manager may have sent it, so it
 * counts against the UpdateShardCount quota and starts cool-downs.
 */
function actionHistory(decisions: readonly DecisionRecord[]): ActionRecord[] {
  const records: ActionRecord[] = [];
  for (const d of decisions) {
    if (!d.acting) continue;
    if (d.outcomes === undefined)
      for (const action of d.plan.actions)
        records.push(actionRecordOf({ action, atWallMs: d.atWallMs, status: undefined }));
    else for (const o of d.outcomes) records.push(actionRecordOf(o));
  }
  return records.sort((a, b) => a.atWallMs - b.atWallMs);
}

/** Sort key of a decision made at `wallMs`. */
function decisionId(wallMs: number): string {
  return new Date(wallMs).toISOString();
}

export type { AuditLog, ClaimResult, DecisionInputs, DecisionRecord, NewDecision };
export { actionHistory, DECISION_PK, decisionId };
