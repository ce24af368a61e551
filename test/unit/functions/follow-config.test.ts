import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../../../core/config/schema.js';
import type { ConfigSnapshot, ConfigSource } from '../../../core/config/source.js';
import { createConfigFollowingHandler } from '../../../functions/consumer/follow-config.js';

/** A source whose configuration the test sets; the handler sees it at its next refresh. */
function settableSource(initial: Config): ConfigSource & { set(config: Config): void } {
  let snapshot: ConfigSnapshot;
  const set = (config: Config) => {
    snapshot = {
      config,
      version: config.version,
      origin: 'test',
      appliedAtWallMs: 0,
      publishedAtWallMs: undefined,
    };
  };
  set(initial);
  return {
    set,
    current: () => snapshot,
    refresh: async () => snapshot,
    subscribe: () => () => {},
    lastRejection: undefined,
    close: async () => {},
  };
}

const empty: KinesisStreamEvent = { Records: [] };
const context = { functionName: 'consumer', awsRequestId: 'r-1' } as unknown as Context;

describe('Function: createConfigFollowingHandler', () => {
  it("sets the logger to the configuration's log level at each batch, and back to its own without one", async () => {
    const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
    const source = settableSource(parseConfig({ version: '1', logging: { level: 'ERROR' } }));
    const handler = createConfigFollowingHandler({
      // An empty batch reads and writes nothing: the client is never called.
      dynamodb: new DynamoDBClient({ region: 'eu-west-1' }),
      stateTable: 'state',
      parkedTable: 'parked',
      configSource: source,
      logger,
      metrics: new Metrics({ namespace: 'test', serviceName: 'test', singleMetric: false }),
    });

    await handler(empty, context);
    const first = logger.getLevelName();
    source.set(parseConfig({ version: '2', logging: { level: 'WARN' } }));
    const beforeNextBatch = logger.getLevelName();
    await handler(empty, context);
    const second = logger.getLevelName();
    source.set(parseConfig({ version: '3' }));
    await handler(empty, context);

    // Without a level, the logger is back at the level it was started with.
    expect([first, beforeNextBatch, second, logger.getLevelName()]).toEqual([
      'ERROR',
      'ERROR',
      'WARN',
      'SILENT',
    ]);
  });

  it('keeps running the version it runs when a new one asks what the projection cannot do, saying so', async () => {
    const errors: unknown[][] = [];
    const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
    logger.error = ((...args: unknown[]) => {
      errors.push(args);
    }) as Logger['error'];
    const source = settableSource(parseConfig({ version: '1', logging: { level: 'WARN' } }));
    const deps = {
      dynamodb: new DynamoDBClient({ region: 'eu-west-1' }),
      stateTable: 'state',
      parkedTable: 'parked',
      logger,
      metrics: new Metrics({ namespace: 'test', serviceName: 'test', singleMetric: false }),
    };
    const handler = createConfigFollowingHandler({ ...deps, configSource: source });
    await handler(empty, context);

    // The mirror exports no resolveConflict: version 2 cannot run.
    source.set(parseConfig({ version: '2', conflicts: { strategy: 'custom' }, logging: { level: 'ERROR' } }));
    const response = await handler(empty, context);
    const firstOnly = createConfigFollowingHandler({
      ...deps,
      configSource: settableSource(source.current().config),
    });

    expect(response).toEqual({ batchItemFailures: [] });
    expect(logger.getLevelName()).toBe('WARN');
    expect(errors).toEqual([
      [
        'configuration version refused; running the previous one',
        expect.objectContaining({ refusedVersion: '2', runningVersion: '1' }),
      ],
    ]);
    await expect(firstOnly(empty, context)).rejects.toThrow('exports no resolveConflict function');
  });
});
