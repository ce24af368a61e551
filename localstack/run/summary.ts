import { writeFile } from 'node:fs/promises';
import { stringifyJsonExact } from '../../core/events/exact-json.js';
import type { BatchStats } from '../../core/processing/batch-processor.js';
import type { LatencySummary } from '../../core/processing/latency.js';
import type { ParkedItem } from '../../core/state/parked-item.js';
import type { ExpectedCounts } from '../workload/model.js';
import type { StateRow } from './state-scan.js';
import type { WorkerRow } from './worker-pool.js';

/** What the consumers themselves counted, batch by batch. */
interface ConsumerCounts {
  readonly applied: number;
  readonly duplicates: number;
  readonly parked: number;
  /** Parked changes that left the parked store when they applied (a resumed table). */
  readonly unparked: number;
}

/**
 * The end of a run. `produced = applied + duplicatesSkipped + parked + noChange + inFlight`, counted in
 * changes and undecodable records (`accounting` says it in words, and in records when a record carries
 * several changes). After a verified drain the figures come from the model and the stores, which the
 * verification has shown to agree; otherwise from what the consumers counted. `counted` is what the
 * consumers counted, and `difference` says where it differs and why.
 */
interface PipelineSummary {
  readonly produced: number;
  readonly applied: number;
  readonly duplicatesSkipped: number;
  /** Items in the parked store at the end. */
  readonly parked: number;
  /** Records that carry no change (a Debezium tombstone, a DMS control record). */
  readonly noChange: number;
  /** Produced but not (yet) processed, as far as the counts tell: 0 after a verified drain. */
  readonly inFlight: number;
  /** Records Kinesis refused for good (over 1 MiB with the key): never published, not in `produced`. */
  readonly notPublished: number;
  readonly accounting: string;
  readonly counted: ConsumerCounts;
  /** Where the consumers' counts differ from the outcome, and why; absent when they agree. */
  readonly difference?: string;
  readonly quarantinedAggregates: number;
  readonly aggregates: number;
  /** null when the run was not verified (no --until-drained, or stopped early). */
  readonly verified: boolean | null;
  readonly eventsPerSecond: number;
  /**
   * Source commit to state write, and arrival in the stream to state write, of the changes the consumers
   * applied (p50, p99, max within 1%); a figure is absent when no applied change had one.
   */
  readonly latency: {
    readonly sourceToAppliedMs?: LatencySummary;
    readonly arrivalToAppliedMs?: LatencySummary;
  };
  readonly durationMs: number;
  readonly engine: string;
  /** What the local cluster manager did, when it ran. */
  readonly scalingActions?: readonly { kind: string; status: string; detail: string }[];
  readonly differences?: readonly string[];
}

interface AccountingInput {
  readonly produced: number;
  readonly duplicatesInjected: number;
  readonly counted: BatchStats;
  /** Items in the parked store at the end. */
  readonly parked: number;
  /** The model's counts, when a verified drain has shown the stores agree with it. */
  readonly verifiedModel: ExpectedCounts | undefined;
  readonly workers: readonly WorkerRow[];
}

type Accounting = Pick<
  PipelineSummary,
  | 'applied'
  | 'duplicatesSkipped'
  | 'parked'
  | 'noChange'
  | 'inFlight'
  | 'accounting'
  | 'counted'
  | 'difference'
>;

const fmt = (n: number) => n.toLocaleString('en-US');
const signed = (n: number) => (n > 0 ? `+${fmt(n)}` : fmt(n));

/** The outcome of every produced change, from the verified model, or from the consumers' counts. */
function outcomeOf(input: AccountingInput): Omit<Accounting, 'accounting' | 'counted' | 'difference'> {
  const { counted, verifiedModel: model } = input;
  if (model !== undefined) {
    // Injected duplicates of a quarantined aggregate's change are parked (under their own sequence numbers);
    // the others are skipped.
    const parkedDuplicates = Math.max(0, input.parked - model.parked);
    return {
      applied: model.applied,
      duplicatesSkipped: model.duplicates + input.duplicatesInjected - parkedDuplicates,
      parked: input.parked,
      noChange: model.noChange,
      inFlight: 0,
    };
  }
  const settled = counted.applied + counted.duplicates + input.parked + counted.tombstones;
  return {
    applied: counted.applied,
    duplicatesSkipped: counted.duplicates,
    parked: input.parked,
    noChange: counted.tombstones,
    inFlight: Math.max(0, input.produced - settled),
  };
}

/** The sentence saying where the consumers' counts differ from the outcome, and why. */
function differenceOf(
  outcome: Omit<Accounting, 'accounting' | 'counted' | 'difference'>,
  input: AccountingInput,
) {
  const { counted } = input;
  const deltas = [
    ['applied', counted.applied - outcome.applied],
    ['duplicates', counted.duplicates - outcome.duplicatesSkipped],
    ['parked', counted.parked - counted.unparked - outcome.parked],
  ] as const;
  if (deltas.every(([, d]) => d === 0)) return undefined;
  const killed = input.workers.filter((w) => w.state === 'killed' || w.state === 'crashed').length;
  const causes = [
    ...(killed > 0
      ? [
          `the counts of batches ${killed} killed or crashed worker(s) had not reported were lost with them, and their records were delivered again from the last checkpoint`,
        ]
      : []),
    'a change delivered again (a batch retried after a failure, or read again after a worker stopped) is counted again, as a duplicate the position fence skipped',
    'a record the event source mapping gave up on is parked by the mapping, not counted by a consumer',
  ];
  return `the consumers counted ${deltas.map(([what, d]) => `${what} ${signed(d)}`).join(', ')} against the outcome: ${causes.join('; ')}${input.verifiedModel === undefined ? '' : '; the state and the parked store are verified against the model, so no change was lost or took effect twice'}`;
}

/**
 * The summary's figures: the outcome of every produced change (adding up to `produced`), what the consumers
 * counted, and where the two differ.
 */
function accountFor(input: AccountingInput): Accounting {
  const outcome = outcomeOf(input);
  const { counted } = input;
  const total =
    outcome.applied + outcome.duplicatesSkipped + outcome.parked + outcome.noChange + outcome.inFlight;
  const records =
    total === input.produced
      ? `${fmt(input.produced)} produced`
      : `${fmt(input.produced)} records produced, holding ${fmt(total)} changes and undecodable records`;
  const accounting = `${records} = ${fmt(outcome.applied)} applied + ${fmt(outcome.duplicatesSkipped)} duplicates skipped + ${fmt(outcome.parked)} parked + ${fmt(outcome.noChange)} without a change + ${fmt(outcome.inFlight)} in flight`;
  const difference = differenceOf(outcome, input);
  return {
    ...outcome,
    accounting,
    counted: {
      applied: counted.applied,
      duplicates: counted.duplicates,
      parked: counted.parked,
      unparked: counted.unparked,
    },
    ...(difference === undefined ? {} : { difference }),
  };
}

/** `source → applied p50 310 ms, p99 1,020 ms, max 1,480 ms; arrival → applied …`, or why there is none. */
function latencyLine(latency: PipelineSummary['latency']): string {
  const part = (label: string, s: LatencySummary | undefined) =>
    s === undefined
      ? `${label}: none measured`
      : `${label} p50 ${fmt(Math.round(s.p50Ms))} ms, p99 ${fmt(Math.round(s.p99Ms))} ms, max ${fmt(Math.round(s.maxMs))} ms over ${fmt(s.count)} changes`;
  return `latency: ${part('source → applied', latency.sourceToAppliedMs)}; ${part('arrival → applied', latency.arrivalToAppliedMs)}`;
}

/** Writes lines to a file, or to stdout for `-`. */
async function writeLines(path: string, lines: string): Promise<void> {
  if (path === '-') process.stdout.write(lines);
  else await writeFile(path, lines);
}

/** `--dump-state`: one JSON line per aggregate, sorted by id; exact numbers are written as numbers. */
async function dumpState(path: string, state: ReadonlyMap<string, StateRow>): Promise<void> {
  const lines = [...state.values()]
    .sort((a, b) => (a.aggregateId < b.aggregateId ? -1 : 1))
    .map(
      (r) =>
        `${stringifyJsonExact({ aggregateId: r.aggregateId, deleted: r.deleted, position: r.position, state: r.state })}\n`,
    )
    .join('');
  await writeLines(path, lines);
}

/**
 * `--dump-parked`: one JSON line per parked item, in source order per aggregate: `aggregate` (null for a
 * record that did not decode), `position` (null then too), `reason`, `message`, and where the record was
 * (`shardId`, `sequenceNumber`, `subSequenceNumber`).
 */
async function dumpParked(path: string, parked: readonly ParkedItem[]): Promise<void> {
  const lines = [...parked]
    .sort((a, b) => (a.pk === b.pk ? (a.sk < b.sk ? -1 : 1) : a.pk < b.pk ? -1 : 1))
    .map(
      (p) =>
        `${JSON.stringify({
          aggregate: p.aggregateId ?? null,
          position: p.change?.position ?? null,
          reason: p.reason,
          message: p.message,
          shardId: p.record.shardId,
          sequenceNumber: p.record.sequenceNumber,
          subSequenceNumber: p.record.subSequenceNumber,
        })}\n`,
    )
    .join('');
  await writeLines(path, lines);
}

export type { Accounting, AccountingInput, ConsumerCounts, PipelineSummary };
export { accountFor, dumpParked, dumpState, latencyLine };
