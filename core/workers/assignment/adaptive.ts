import { compareIds } from './count-balance.js';
import type { AssignmentInput, AssignmentStrategy, WorkerLoad } from './types.js';
import { loadsOf, shardWeights } from './weights.js';

interface AdaptiveOptions {
  /** Rebalance only while some worker carries more than its share by this fraction (hysteresis). @default 0.1 */
  readonly tolerance?: number;
  /** Rebalancing rounds a moved shard stays where it went. @default 5 */
  readonly cooldownRounds?: number;
  /** Consecutive rebalancing rounds the imbalance must last before anything moves. @default 2 */
  readonly persistRounds?: number;
  /** Moves per rebalancing round. @default max(1, ceil(shards / (2 × workers))) */
  readonly maxMovesPerRound?: number;
  /** Weight of the newest measurement in the per-worker capacity estimate (exponential smoothing). @default 0.3 */
  readonly smoothing?: number;
}

/**
 * Balances measured load: each worker's share of the total events/s (shard rates measured by the assigner,
 * smoothed) is proportional to its capacity, which is 1 unless its CPU cost per event is well above the
 * others' (a slower machine or a noisy neighbour: it then gets proportionally less, down to half).
 *
 * Damped so it does not oscillate (KCL's users complain of rebalancing churn):
 * - it starts only when some worker is more than `tolerance` above its share, and then aims for half of that,
 *   so the result does not sit on the trigger;
 * - the imbalance must last `persistRounds` rebalancing rounds in a row (a blip does not move anything);
 * - each move must lower the peak load ratio by a quarter of the tolerance, so it never swaps a shard back
 *   and forth and does not chase noise;
 * - a moved shard stays put for `cooldownRounds` rebalancing rounds;
 * - at most `maxMovesPerRound` moves per round, and the assigner starts no round while hand-offs are pending.
 *
 * @example
 * ```ts
 * const adaptive = new AdaptiveStrategy({ tolerance: 0.1 });
 * const target = adaptive.assign({ workers, shards, rebalance: true });
 * ```
 */
class AdaptiveStrategy implements AssignmentStrategy {
  public readonly name = 'adaptive' as const;
  readonly #tolerance: number;
  readonly #cooldownRounds: number;
  readonly #maxMoves: number | undefined;
  readonly #smoothing: number;
  readonly #persistRounds: number;
  #overFor = 0;
  readonly #movedAt = new Map<string, number>();
  readonly #capacity = new Map<string, number>();
  #round = 0;

  public constructor(options: AdaptiveOptions = {}) {
    this.#tolerance = options.tolerance ?? 0.1;
    this.#cooldownRounds = options.cooldownRounds ?? 5;
    this.#persistRounds = options.persistRounds ?? 2;
    this.#maxMoves = options.maxMovesPerRound;
    this.#smoothing = options.smoothing ?? 0.3;
  }

  public assign(input: AssignmentInput): Map<string, string> {
    const workers = input.workers.map((w) => w.workerId).sort(compareIds);
    const live = new Set(workers);
    const weights = shardWeights(input.shards);
    if (input.rebalance) {
      this.#round++;
      this.#updateCapacities(input.workers);
    }
    const capacity = new Map(workers.map((w) => [w, this.#capacity.get(w) ?? 1]));
    const totalCapacity = [...capacity.values()].reduce((a, b) => a + b, 0);
    const totalLoad = [...weights.values()].reduce((a, b) => a + b, 0);
    const share = new Map(workers.map((w) => [w, (totalLoad * capacity.get(w)!) / totalCapacity]));

    const target = new Map<string, string>();
    for (const s of input.shards)
      if (s.owner !== undefined && live.has(s.owner)) target.set(s.shardId, s.owner);
    const loads = loadsOf(workers, target, weights);
    const counts = new Map(workers.map((w) => [w, 0]));
    for (const w of target.values()) counts.set(w, counts.get(w)! + 1);
    const ratio = (w: string, load = loads.get(w)!) => load / share.get(w)!;

    // Orphans, heaviest first, each to the worker it leaves least loaded relative to its share.
    const orphans = input.shards
      .filter((s) => !target.has(s.shardId))
      .sort((a, b) => weights.get(b.shardId)! - weights.get(a.shardId)! || compareIds(a.shardId, b.shardId));
    for (const shard of orphans) {
      const weight = weights.get(shard.shardId)!;
      const worker = [...workers].sort(
        (a, b) =>
          ratio(a, loads.get(a)! + weight) - ratio(b, loads.get(b)! + weight) ||
          counts.get(a)! - counts.get(b)! ||
          compareIds(a, b),
      )[0]!;
      target.set(shard.shardId, worker);
      loads.set(worker, loads.get(worker)! + weight);
      counts.set(worker, counts.get(worker)! + 1);
    }
    if (!input.rebalance || workers.length < 2) return target;

    const maxMoves = this.#maxMoves ?? Math.max(1, Math.ceil(input.shards.length / (2 * workers.length)));
    const peak = () => Math.max(...workers.map((w) => ratio(w)));
    // Two thresholds: start only above 1 + tolerance, then aim for 1 + tolerance / 2, so the result does not
    // sit on the trigger where measurement noise would set it off again.
    this.#overFor = peak() > 1 + this.#tolerance ? this.#overFor + 1 : 0;
    if (this.#overFor < this.#persistRounds) return target;
    for (let moves = 0; moves < maxMoves; moves++) {
      const ranked = [...workers].sort((a, b) => ratio(b) - ratio(a) || compareIds(a, b));
      const hi = ranked[0]!;
      const lo = ranked[ranked.length - 1]!;
      const before = ratio(hi);
      if (before <= 1 + this.#tolerance / 2) break;
      let best: { shard: string; after: number } | undefined;
      for (const [shard, owner] of target) {
        if (owner !== hi || this.#cooling(shard)) continue;
        const weight = weights.get(shard)!;
        const after = Math.max(ratio(hi, loads.get(hi)! - weight), ratio(lo, loads.get(lo)! + weight));
        if (best === undefined || after < best.after || (after === best.after && shard < best.shard))
          best = { shard, after };
      }
      // Only moves that lower the peak by a quarter of the tolerance: no swapping a shard back and forth, and
      // no shuffling of small shards for gains inside the measurement noise.
      if (best === undefined || best.after > before - this.#tolerance / 4) break;
      const weight = weights.get(best.shard)!;
      target.set(best.shard, lo);
      loads.set(hi, loads.get(hi)! - weight);
      loads.set(lo, loads.get(lo)! + weight);
      this.#movedAt.set(best.shard, this.#round);
    }
    return target;
  }

  #cooling(shard: string): boolean {
    const at = this.#movedAt.get(shard);
    return at !== undefined && this.#round - at < this.#cooldownRounds;
  }

  /** Capacity 1, or less for a worker whose CPU per event is over 1.5 × the median (smoothed). */
  #updateCapacities(workers: readonly WorkerLoad[]): void {
    const costs = new Map<string, number>();
    for (const w of workers)
      if ((w.eventsPerSecond ?? 0) > 1 && (w.cpuPercent ?? 0) > 1)
        costs.set(w.workerId, w.cpuPercent! / w.eventsPerSecond!);
    const sorted = [...costs.values()].sort((a, b) => a - b);
    const median = sorted.length >= 2 ? sorted[Math.floor(sorted.length / 2)]! : undefined;
    const alive = new Set(workers.map((w) => w.workerId));
    for (const id of [...this.#capacity.keys()]) if (!alive.has(id)) this.#capacity.delete(id);
    for (const w of workers) {
      const cost = costs.get(w.workerId);
      const raw =
        median === undefined || cost === undefined || cost <= 1.5 * median ? 1 : Math.max(0.5, median / cost);
      const previous = this.#capacity.get(w.workerId) ?? 1;
      this.#capacity.set(w.workerId, previous + this.#smoothing * (raw - previous));
    }
  }
}

export type { AdaptiveOptions };
export { AdaptiveStrategy };
