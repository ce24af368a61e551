/**
 * The consumer handler following a {@link ConfigSource}: each batch runs with the configuration in force when
 * it starts, and a new version takes effect at the next batch, without restart (docs/architecture.md §10).
 */

import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import type { Config } from '../../core/config/schema.js';
import type { ConfigSource } from '../../core/config/source.js';
import { messageOf } from '../../core/errors.js';
import { type ConsumerDependencies, createConsumerHandler } from './create-handler.js';

type ConfigFollowingDependencies = Omit<ConsumerDependencies, 'config'> & {
  readonly configSource: ConfigSource;
};

/**
 * Wraps {@link createConsumerHandler}: before each batch, `configSource.refresh()` (cheap when the source is
 * not due: AppConfig polls at its session interval, the local file is watched); when the config object
 * changed, the handler is rebuilt from it. A batch already running finishes under the version it started with.
 *
 * @example
 * ```ts
 * export const handler = createConfigFollowingHandler({ dynamodb, stateTable, parkedTable, configSource, logger, metrics });
 * ```
 */
function createConfigFollowingHandler(deps: ConfigFollowingDependencies) {
  const { configSource, ...rest } = deps;
  let built:
    | { readonly config: Config; readonly handler: ReturnType<typeof createConsumerHandler> }
    | undefined;
  return async function consumeWithCurrentConfig(
    event: KinesisStreamEvent,
    context: Context,
  ): Promise<KinesisStreamBatchResponse> {
    const { config } = await configSource.refresh();
    if (built?.config !== config) {
      try {
        built = { config, handler: createConsumerHandler({ ...rest, config }) };
      } catch (error) {
        // A version the projection cannot run (a conflict strategy it does not support) leaves the consumer on
        // the version it runs, as an invalid version does; with none to run, the batch fails with the reason.
        if (built === undefined) throw error;
        rest.logger.error('configuration version refused; running the previous one', {
          refusedVersion: config.version,
          runningVersion: built.config.version,
          error: messageOf(error),
        });
        built = { ...built, config };
      }
    }
    return built.handler(event, context);
  };
}

export type { ConfigFollowingDependencies };
export { createConfigFollowingHandler };
