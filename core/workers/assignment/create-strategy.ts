import type { Config } from '../../config/schema.js';
import { AdaptiveStrategy } from './adaptive.js';
import { BoundedLoadStrategy } from './bounded-load.js';
import { LeastLoadedStrategy } from './least-loaded.js';
import { RoundRobinStrategy } from './round-robin.js';
import type { AssignmentStrategy } from './types.js';

/** The strategy `leases.assignment` names, with its settings from the same config section. */
function createStrategy(
  leases: Pick<Config['leases'], 'assignment' | 'boundedLoadCapacityFactor'>,
): AssignmentStrategy {
  switch (leases.assignment) {
    case 'round-robin':
      return new RoundRobinStrategy();
    case 'least-loaded':
      return new LeastLoadedStrategy();
    case 'adaptive':
      return new AdaptiveStrategy();
    case 'bounded-load':
      return new BoundedLoadStrategy({ capacityFactor: leases.boundedLoadCapacityFactor });
  }
}

export { createStrategy };
