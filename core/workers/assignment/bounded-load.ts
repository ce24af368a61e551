import { createHash } from 'node:crypto';
import { OptionsError } from '../../errors.js';
import { compareIds } from './count-balance.js';
import type { AssignmentInput, AssignmentStrategy } from './types.js';
import { loadsOf, shardWeights } from './weights.js';

interface BoundedLoadOptions {
  /** No worker carries more than this times the mean load (`leases.boundedLoadCapacityFactor`). @default 1.25 */
  readonly capacityFactor?: number;
  /** Points per worker on the hash ring; more points spread arcs more evenly. @default 64 */
  readonly virtualNodes?: number;
  /** Rebalancing rounds a shard moved off an overloaded worker stays where it went. @default 5 */
  readonly cooldownRounds?: number;
  /** Consecutive rebalancing rounds a worker must be above the bound before it sheds. @default 2 */
  readonly persistRounds?: number;
}

const point = (value: string) => createHash('md5').update(value).digest().readUInt32BE(0);

/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, 2016): shards and workers sit
 * on a hash ring, and a shard prefers the workers clockwise from its point, in order; a worker never takes a
 * shard that would put it above `capacityFactor` × the mean load (measured events/s; lease counts while
 * nothing is measured).
 *
 * Sticky, like every strategy here: shards stay with their owner unless
 * - their owner left or died (they walk the ring to the first worker with room, so a leave moves only the
 *   leaver's shards);
 * - a worker joined: it takes the shards whose first preference it now is, up to the mean load — the
 *   consistent-hashing property, about shards / (workers + 1) moves;
 * - their owner is above the bound after loads shifted: it sheds the shards that belong there least.
 *
 * @example
 * ```ts
 * const target = new BoundedLoadStrategy({ capacityFactor: 1.1 }).assign({ workers, shards, rebalance: true });
 * ```
 */
class BoundedLoadStrategy implements AssignmentStrategy {
  public readonly name = 'bounded-load' as const;
  readonly #capacityFactor: number;
  readonly #virtualNodes: number;
  readonly #cooldownRounds: number;
  readonly #persistRounds: number;
  readonly #movedAt = new Map<string, number>();
  readonly #overFor = new Map<string, number>();
  #seen = new Set<string>();
  #round = 0;

  public constructor(options: BoundedLoadOptions = {}) {
    this.#capacityFactor = options.capacityFactor ?? 1.25;
    if (!(this.#capacityFactor >= 1))
      throw new OptionsError(
        'capacityFactor',
        this.#capacityFactor,
        'must be at least 1 (a worker must be allowed the mean load)',
      );
    this.#virtualNodes = options.virtualNodes ?? 64;
    this.#cooldownRounds = options.cooldownRounds ?? 5;
    this.#persistRounds = options.persistRounds ?? 2;
  }

  public assign(input: AssignmentInput): Map<string, string> {
    const workers = input.workers.map((w) => w.workerId).sort(compareIds);
    const live = new Set(workers);
    const weights = shardWeights(input.shards);
    const total = [...weights.values()].reduce((a, b) => a + b, 0);
    const mean = total / workers.length;
    // With nothing measured every shard weighs 1 and the bound is Mirrokni's ceil(c × shards / workers), which
    // can always be met; with measured loads it is c × mean, and a shard that fits nowhere goes to the least
    // loaded worker.
    const measured = input.shards.some((s) => s.eventsPerSecond > 0);
    const capacity = measured ? this.#capacityFactor * mean : Math.ceil(this.#capacityFactor * mean - 1e-9);
    const ring = this.#ring(workers);
    const preferences = (shard: string) => preferenceOrder(ring, point(shard), workers.length);

    const target = new Map<string, string>();
    for (const s of input.shards)
      if (s.owner !== undefined && live.has(s.owner)) target.set(s.shardId, s.owner);
    const loads = loadsOf(workers, target, weights);
    const move = (shard: string, to: string) => {
      const from = target.get(shard);
      const weight = weights.get(shard)!;
      if (from !== undefined) loads.set(from, loads.get(from)! - weight);
      target.set(shard, to);
      loads.set(to, loads.get(to)! + weight);
    };
    const pool: string[] = input.shards.filter((s) => !target.has(s.shardId)).map((s) => s.shardId);

    if (input.rebalance) {
      this.#round++;
      // Newcomers take load up to the mean: first from workers the join left above the bound (the shards that
      // prefer the newcomer most), then the shards whose first preference they now are.
      const newcomers = this.#seen.size === 0 ? [] : workers.filter((w) => !this.#seen.has(w));
      for (const worker of newcomers) {
        const rank = (s: string) => preferences(s).indexOf(worker);
        const overloaded = [...target.keys()]
          .filter((s) => target.get(s) !== worker && loads.get(target.get(s)!)! > capacity + 1e-9)
          .sort((a, b) => rank(a) - rank(b) || weights.get(a)! - weights.get(b)! || compareIds(a, b));
        const preferred = [...target.keys()]
          .filter((s) => target.get(s) !== worker && rank(s) === 0)
          .sort((a, b) => point(a) - point(b));
        for (const shard of [...overloaded, ...preferred]) {
          const owner = target.get(shard)!;
          if (owner === worker) continue;
          if (overloaded.includes(shard) && loads.get(owner)! <= capacity + 1e-9 && rank(shard) !== 0)
            continue;
          if (loads.get(worker)! + weights.get(shard)! > mean + 1e-9) continue;
          move(shard, worker);
          this.#movedAt.set(shard, this.#round);
        }
      }
      // Workers above the bound (for `persistRounds` rounds in a row: measured rates are noisy, and a shard
      // catching up after a move looks busier than it is) shed the shards that belong there least, lightest first.
      for (const worker of workers) {
        const over = loads.get(worker)! > capacity + 1e-9 ? (this.#overFor.get(worker) ?? 0) + 1 : 0;
        this.#overFor.set(worker, over);
        if (over < this.#persistRounds) continue;
        const owned = [...target.keys()]
          .filter((s) => target.get(s) === worker && !this.#cooling(s))
          .sort(
            (a, b) =>
              preferences(b).indexOf(worker) - preferences(a).indexOf(worker) ||
              weights.get(a)! - weights.get(b)! ||
              compareIds(a, b),
          );
        while (loads.get(worker)! > capacity + 1e-9 && owned.length > 0) {
          const shard = owned.shift()!;
          loads.set(worker, loads.get(worker)! - weights.get(shard)!);
          target.delete(shard);
          pool.push(shard);
          this.#movedAt.set(shard, this.#round);
        }
      }
      this.#seen = new Set(workers);
    } else if (this.#seen.size === 0) this.#seen = new Set(workers);

    // Orphans and shed shards, heaviest first: the first worker on the ring with room, else the least loaded.
    pool.sort((a, b) => weights.get(b)! - weights.get(a)! || point(a) - point(b));
    for (const shard of pool) {
      const weight = weights.get(shard)!;
      const order = preferences(shard);
      const withRoom = order.find((w) => loads.get(w)! + weight <= capacity + 1e-9);
      move(shard, withRoom ?? [...order].sort((a, b) => loads.get(a)! - loads.get(b)!)[0]!);
    }
    return target;
  }

  #cooling(shard: string): boolean {
    const at = this.#movedAt.get(shard);
    return at !== undefined && this.#round - at < this.#cooldownRounds;
  }

  #ring(workers: readonly string[]): { readonly at: number; readonly worker: string }[] {
    const ring: { at: number; worker: string }[] = [];
    for (const worker of workers)
      for (let i = 0; i < this.#virtualNodes; i++) ring.push({ at: point(`${worker}#${i}`), worker });
    return ring.sort((a, b) => a.at - b.at || compareIds(a.worker, b.worker));
  }
}

/** Distinct workers met walking the ring clockwise from `at`. */
function preferenceOrder(
  ring: readonly { readonly at: number; readonly worker: string }[],
  at: number,
  workers: number,
): string[] {
  let start = ring.findIndex((p) => p.at >= at);
  if (start < 0) start = 0;
  const order: string[] = [];
  for (let i = 0; i < ring.length && order.length < workers; i++) {
    const worker = ring[(start + i) % ring.length]!.worker;
    if (!order.includes(worker)) order.push(worker);
  }
  return order;
}

export type { BoundedLoadOptions };
export { BoundedLoadStrategy };
