/**
 * The aggregate locks of a projection that declares `holdLocks`, built from the configuration's `locks.*`
 * settings on the coordination table, with their contention and wait times as metrics.
 */

import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Config } from '../../core/config/schema.js';
import { METRICS } from '../../core/constants.js';
import { type Clock, systemClock } from '../../core/coordination/clock.js';
import { DynamoDbCoordinationStore } from '../../core/coordination/dynamodb-store.js';
import { LockClient } from '../../core/coordination/lock-client.js';
import { AggregateLocks } from '../../core/processing/aggregate-locks.js';
import type { Projection } from '../../core/processing/projection.js';

interface AggregateLocksDependencies {
  readonly dynamodb: DynamoDBClient;
  /** The coordination table the locks live in; without it a projection's locks cannot be taken. */
  readonly coordinationTable?: string;
  /** Owner id written on the locks (the instance id); @default a random UUID */
  readonly instanceId?: string;
  /** Where `LockContention` and `LockWaitTime` go. @default none */
  readonly metrics?: Pick<Metrics, 'addMetric'>;
  /** @default systemClock */
  readonly clock?: Clock;
}

/**
 * The locks `projection` asks for, or undefined when it declares none. A projection that declares
 * `holdLocks` with no coordination table to lock in is refused: it would run without the locks it relies on.
 *
 * @example
 * ```ts
 * const locks = aggregateLocksFor(projection, config, { dynamodb, coordinationTable, instanceId, metrics });
 * ```
 */
function aggregateLocksFor(
  projection: Projection,
  config: Config,
  deps: AggregateLocksDependencies,
): AggregateLocks | undefined {
  if (projection.holdLocks !== true) return undefined;
  if (deps.coordinationTable === undefined)
    throw new Error(
      `projection "${projection.name}" declares holdLocks but the consumer was given no coordination table to lock in; set CDCP_COORDINATION_TABLE (the stack sets it) or remove holdLocks`,
    );
  const { locks } = config;
  const clock = deps.clock ?? systemClock;
  const { metrics } = deps;
  const client = new LockClient({
    store: new DynamoDbCoordinationStore({ client: deps.dynamodb, tableName: deps.coordinationTable }),
    ...(deps.instanceId === undefined ? {} : { ownerId: deps.instanceId }),
    clock,
    leaseDurationMs: locks.leaseDurationMs,
    heartbeatPeriodMs: Math.floor(locks.leaseDurationMs / locks.heartbeatsPerLease),
    clockSkewAllowanceMs: locks.clockSkewAllowanceMs,
    // Concurrent aggregates of one instance wait for each other's locks through the same client.
    onContention: () => metrics?.addMetric(METRICS.lockContention, MetricUnit.Count, 1),
  });
  return new AggregateLocks({
    locks: client,
    waitMs: locks.waitMs,
    leaseDurationMs: locks.leaseDurationMs,
    clock,
    onWait: (wait) => metrics?.addMetric(METRICS.lockWaitTime, MetricUnit.Milliseconds, wait.waitedMs),
  });
}

export type { AggregateLocksDependencies };
export { aggregateLocksFor };
