import { isDeepStrictEqual } from 'node:util';
import { messageOf } from '../../core/errors.js';
import { excerpt, getOwn, wasJsonNumber } from '../../core/events/index.js';
import { canonicalNumber } from '../../core/state/item-size.js';
import type { ParkedItem } from '../../core/state/parked-item.js';
import type { ExpectedModel } from '../workload/model.js';
import type { StateRow } from './state-scan.js';

interface Verification {
  readonly verified: boolean;
  readonly checkedAggregates: number;
  readonly quarantinedAggregates: number;
  /** The first differences found, each a sentence naming the aggregate, expected and actual. */
  readonly differences: readonly string[];
  readonly differenceCount: number;
}

const MAX_REPORTED = 20;
/** Characters of a state quoted in a difference. */
const MAX_QUOTED = 300;

/**
 * Whether two rows hold the same JSON value: the same own keys in any order (DynamoDB keeps no key order),
 * the same scalars (`Object.is`), and the same exact-number marks. Iterative: no row nests deep enough to
 * overflow it, where a recursive comparison would throw a RangeError.
 */
function sameRow(a: unknown, b: unknown): boolean {
  const stack: [unknown, unknown, boolean][] = [[a, b, false]];
  while (stack.length > 0) {
    const [x, y, exact] = stack.pop()!;
    if (typeof x !== 'object' || x === null || typeof y !== 'object' || y === null) {
      if (!Object.is(x, y) && !(exact && sameNumber(x, y))) return false;
      continue;
    }
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    const keys = Object.keys(x);
    if (keys.length !== Object.keys(y).length) return false;
    for (const key of keys) {
      const exactNumber = wasJsonNumber(x, key);
      if (!Object.hasOwn(y, key) || exactNumber !== wasJsonNumber(y, key)) return false;
      stack.push([
        getOwn(x as Record<string, unknown>, key),
        getOwn(y as Record<string, unknown>, key),
        exactNumber,
      ]);
    }
  }
  return true;
}

/** Two exact-number texts of one value: DynamoDB gives numbers back without trailing zeros. */
function sameNumber(x: unknown, y: unknown): boolean {
  try {
    return typeof x === 'string' && typeof y === 'string' && canonicalNumber(x) === canonicalNumber(y);
  } catch {
    return false;
  }
}

/** A state as a difference quotes it: cut short, and never a failure of its own. */
function quoted(state: unknown): string {
  try {
    return excerpt(state, MAX_QUOTED);
  } catch (error) {
    return `(a value that cannot be printed: ${messageOf(error)})`;
  }
}

/**
 * Compares the state table and the parked store with the model: every aggregate's state, tombstone and
 * position; quarantined aggregates stopped at the change before their poison, with the poison and every later
 * change parked in source order; and nothing in the table the model does not know.
 */
function verifyAgainstModel(
  model: ExpectedModel,
  state: ReadonlyMap<string, StateRow>,
  parked: readonly ParkedItem[],
): Verification {
  const differences: string[] = [];
  let count = 0;
  const report = (message: string) => {
    count++;
    if (differences.length < MAX_REPORTED) differences.push(message);
  };
  const parkedByAggregate = new Map<string, string[]>();
  for (const item of parked) {
    if (item.aggregateId === undefined || item.change === undefined) continue;
    const list = parkedByAggregate.get(item.aggregateId) ?? [];
    list.push(item.change.position);
    parkedByAggregate.set(item.aggregateId, list);
  }
  let quarantined = 0;
  for (const expected of model.aggregates()) {
    const actual = state.get(expected.aggregateId);
    if (actual === undefined) {
      report(
        `${expected.aggregateId}: missing from the state table (expected position ${expected.position})`,
      );
      continue;
    }
    if (actual.position !== expected.position)
      report(`${expected.aggregateId}: position ${actual.position}, expected ${expected.position}`);
    if (actual.deleted !== expected.deleted)
      report(`${expected.aggregateId}: deleted=${actual.deleted}, expected deleted=${expected.deleted}`);
    else if (!expected.deleted && !sameRow(actual.state, expected.state))
      report(`${expected.aggregateId}: state ${quoted(actual.state)}, expected ${quoted(expected.state)}`);
    if (actual.quarantined !== expected.quarantined)
      report(`${expected.aggregateId}: quarantined=${actual.quarantined}, expected ${expected.quarantined}`);
    if (expected.quarantined) quarantined++;
    // Duplicates may be parked more than once; what must hold is the set of positions, in order.
    const positions = [...new Set(parkedByAggregate.get(expected.aggregateId) ?? [])].sort();
    const wanted = [...new Set(expected.parkedPositions)].sort();
    if (!isDeepStrictEqual(positions, wanted))
      report(
        `${expected.aggregateId}: parked positions [${positions.join(', ')}], expected [${wanted.join(', ')}]`,
      );
  }
  for (const [id, row] of state)
    if (model.get(id) === undefined && row.derivedOnly !== true)
      report(`${id}: in the state table but never produced`);
  return {
    verified: count === 0,
    checkedAggregates: model.size,
    quarantinedAggregates: quarantined,
    differences,
    differenceCount: count,
  };
}

export type { Verification };
export { sameRow, verifyAgainstModel };
