import { OptionsError } from '../../core/errors.js';

/** Shapes of the generated load over time: events per second as a function of time since production began. */
type LoadProfileName = 'steady' | 'spike' | 'ramp';

const LOAD_PROFILES: readonly LoadProfileName[] = ['steady', 'spike', 'ramp'];

/**
 * `steady`: the base rate throughout. `spike`: the base rate, then ten times it for `spikeMs`, then back (the
 * flash spike the cluster manager must absorb). `ramp`: from the base rate up to ten times it over `rampMs`.
 *
 * @example
 * ```ts
 * const rateAt = loadProfile('spike', { baseRate: 200 });
 * rateAt(15_000); // 2000 during the spike
 * ```
 */
function loadProfile(
  name: LoadProfileName,
  options: {
    readonly baseRate: number;
    readonly warmupMs?: number;
    readonly spikeMs?: number;
    readonly rampMs?: number;
  },
): (elapsedMs: number) => number {
  const { baseRate } = options;
  if (!(baseRate > 0)) throw new OptionsError('baseRate', baseRate, 'must be above 0 events/s');
  const warmupMs = options.warmupMs ?? 10_000;
  switch (name) {
    case 'steady':
      return () => baseRate;
    case 'spike': {
      const spikeMs = options.spikeMs ?? 30_000;
      return (t) => (t >= warmupMs && t < warmupMs + spikeMs ? baseRate * 10 : baseRate);
    }
    case 'ramp': {
      const rampMs = options.rampMs ?? 60_000;
      return (t) => baseRate * (1 + 9 * Math.min(1, Math.max(0, t - warmupMs) / rampMs));
    }
  }
}

function parseLoadProfile(value: string): LoadProfileName {
  if ((LOAD_PROFILES as readonly string[]).includes(value)) return value as LoadProfileName;
  throw new OptionsError('--load-profile', value, `must be one of ${LOAD_PROFILES.join(', ')}`);
}

export type { LoadProfileName };
export { LOAD_PROFILES, loadProfile, parseLoadProfile };
