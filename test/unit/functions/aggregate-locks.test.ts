import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../core/config/index.js';
import { mirrorProjection } from '../../../core/processing/projection.js';
import { aggregateLocksFor } from '../../../functions/consumer/aggregate-locks.js';
import { projectionFromModule } from '../../../projection-module/projection-export.js';

const dynamodb = new DynamoDBClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' });

describe('Function: aggregateLocksFor', () => {
  it('takes no locks for a projection that does not declare holdLocks', () => {
    expect(
      aggregateLocksFor(mirrorProjection, defaultConfig(), { dynamodb, coordinationTable: 't' }),
    ).toBeUndefined();
  });

  it('refuses a locking projection with no coordination table, saying what to set', () => {
    const locking = { ...mirrorProjection, name: 'locking', holdLocks: true };

    expect(() => aggregateLocksFor(locking, defaultConfig(), { dynamodb })).toThrow(
      'projection "locking" declares holdLocks but the consumer was given no coordination table to lock in; set CDCP_COORDINATION_TABLE (the stack sets it) or remove holdLocks',
    );
  });

  it('builds the locks of a locking projection from the locks settings', () => {
    const locking = { ...mirrorProjection, holdLocks: true };

    expect(
      aggregateLocksFor(locking, defaultConfig(), { dynamodb, coordinationTable: 'cdcp-coordination' }),
    ).toBeDefined();
  });
});

describe('Function: projectionFromModule, holdLocks', () => {
  it('accepts true, false or absent, and refuses anything else naming it', () => {
    const base = { name: 'p', needsPreviousState: false, apply: () => ({ deleted: false, state: {} }) };

    expect(projectionFromModule({ default: { ...base, holdLocks: true } }, 'p.mjs').holdLocks).toBe(true);
    expect(projectionFromModule({ default: base }, 'p.mjs').holdLocks).toBeUndefined();
    expect(() => projectionFromModule({ default: { ...base, holdLocks: 'yes' } }, 'p.mjs')).toThrow(
      'the default export of p.mjs is not a projection: holdLocks must be true, false or absent, received "yes"',
    );
  });
});
