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
});
