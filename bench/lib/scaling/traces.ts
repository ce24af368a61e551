/**
 * Traffic shapes for the scaling simulator. Each gives the records/s produced at any second, spread evenly
 * over the hash key space, plus (hot-key trace) one partition key's own rate. Noise is a seeded, smoothed
 * ±5 % wobble, so every run sees the same traffic.
 */

const MIB = 1_048_576;

interface Trace {
  readonly name: string;
  readonly description: string;
  readonly durationS: number;
  /** Simulation step. */
  readonly stepS: number;
  readonly recordBytes: number;
  /** Records/s over the whole key space (evenly spread) at `t` seconds. */
  uniformRecordsPerSecond(t: number): number;
  /** Records/s of the one hot partition key at `t` (0 when there is none). */
  hotKeyRecordsPerSecond(t: number): number;
  /** The peak write throughput on-demand mode saw in the 30 days before the trace (bytes/s). */
  readonly priorPeakBytesPerSecond: number;
  /** Most shards any adaptive policy may use (the policy's maxShards). */
  readonly maxShards: number;
}

/** Seeded smooth noise: ±amplitude, changing over about a minute. */
function noise(seed: number, amplitude = 0.05) {
  const knots = new Map<number, number>();
  const knot = (i: number) => {
    let v = knots.get(i);
    if (v === undefined) {
      let x = (i * 2654435761 + seed * 40503) >>> 0;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      v = ((x >>> 0) / 4294967296) * 2 - 1;
      knots.set(i, v);
    }
    return v;
  };
  return (t: number) => {
    const i = Math.floor(t / 60);
    const f = t / 60 - i;
    const s = f * f * (3 - 2 * f);
    return 1 + amplitude * (knot(i) * (1 - s) + knot(i + 1) * s);
  };
}

const recordsFor = (bytesPerSecond: number, recordBytes: number) => bytesPerSecond / recordBytes;

/**
 * Diurnal traffic, 10× from trough to peak: the logarithm of the rate follows a sine over the day
 * (rate = peak · 10^−(1 + cos(2πt/day))/2), trough at midnight, peak at noon; its mean is 0.43 of the peak.
 */
function diurnalRate(peakBytesPerSecond: number, t: number, linear = false): number {
  const phase = (1 + Math.cos((2 * Math.PI * t) / 86_400)) / 2; // 1 at midnight, 0 at noon
  return linear ? peakBytesPerSecond * (1 - 0.9 * phase) : peakBytesPerSecond * 10 ** -phase;
}

function traces(): Trace[] {
  const recordBytes = 1024;
  const diurnal = (
    name: string,
    peakMiB: number,
    days: number,
    stepS: number,
    maxShards: number,
    linear = false,
  ): Trace => {
    const wobble = noise(days * 7 + peakMiB + (linear ? 1 : 0));
    return {
      name,
      description: linear
        ? `${days} day(s), 10× peak/trough, linear sine (mean 0.55 of peak), peak ${peakMiB} MiB/s`
        : `${days} day(s), 10× peak/trough (log-sine, mean 0.43 of peak), peak ${peakMiB} MiB/s`,
      durationS: days * 86_400,
      stepS,
      recordBytes,
      uniformRecordsPerSecond: (t) =>
        recordsFor(diurnalRate(peakMiB * MIB, t, linear), recordBytes) * wobble(t),
      hotKeyRecordsPerSecond: () => 0,
      priorPeakBytesPerSecond: peakMiB * MIB,
      maxShards,
    };
  };
  const base = 4 * MIB;
  const spikeWobble = noise(11);
  const rampWobble = noise(13);
  const hotWobble = noise(17);
  return [
    diurnal('diurnal', 20, 1, 10, 64),
    diurnal('diurnal-linear', 20, 1, 10, 64, true),
    {
      name: 'flash-spike',
      description: '6 h at 4 MiB/s; at 2 h traffic rises 10× within a minute and stays for 30 minutes',
      durationS: 6 * 3600,
      stepS: 10,
      recordBytes,
      uniformRecordsPerSecond: (t) => {
        const start = 7200;
        const up = Math.min(1, Math.max(0, (t - start) / 60));
        const down = Math.min(1, Math.max(0, (t - start - 1800) / 60));
        return recordsFor(base * (1 + 9 * (up - down)), recordBytes) * spikeWobble(t);
      },
      hotKeyRecordsPerSecond: () => 0,
      priorPeakBytesPerSecond: base,
      maxShards: 64,
    },
    {
      name: 'slow-ramp',
      description: '8 h: 2 MiB/s growing ×20 (exponentially) over 6 h, then level',
      durationS: 8 * 3600,
      stepS: 10,
      recordBytes,
      uniformRecordsPerSecond: (t) =>
        recordsFor(2 * MIB * 20 ** Math.min(1, t / 21_600), recordBytes) * rampWobble(t),
      hotKeyRecordsPerSecond: () => 0,
      priorPeakBytesPerSecond: 2 * MIB,
      maxShards: 64,
    },
    {
      name: 'hot-key',
      description:
        '6 h at 4 MiB/s; one partition key rises to 350 records/s (35% of a shard, within one consumer batch) from 1 h to 2 h and stays until 5 h',
      durationS: 6 * 3600,
      stepS: 10,
      recordBytes,
      uniformRecordsPerSecond: (t) => recordsFor(base, recordBytes) * hotWobble(t),
      hotKeyRecordsPerSecond: (t) => 350 * Math.min(1, Math.max(0, (t - 3600) / 3600)) * (t < 18_000 ? 1 : 0),
      priorPeakBytesPerSecond: base,
      maxShards: 64,
    },
    diurnal('week-200MiB', 200, 7, 10, 512),
  ];
}

export type { Trace };
export { diurnalRate, MIB, traces };
