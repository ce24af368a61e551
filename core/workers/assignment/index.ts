export type { AdaptiveOptions } from './adaptive.js';
export { AdaptiveStrategy } from './adaptive.js';
export type { BoundedLoadOptions } from './bounded-load.js';
export { BoundedLoadStrategy } from './bounded-load.js';
export { createStrategy } from './create-strategy.js';
export { LeastLoadedStrategy } from './least-loaded.js';
export { RoundRobinStrategy } from './round-robin.js';
export type { AssignmentInput, AssignmentStrategy, ShardLoad, WorkerLoad } from './types.js';
