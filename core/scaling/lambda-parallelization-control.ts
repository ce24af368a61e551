import {
  GetEventSourceMappingCommand,
  type LambdaClient,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { messageOf } from '../errors.js';
import { ScalingIoError } from './errors.js';

/** Reads and sets the consumer's ParallelizationFactor (Lambda's mapping, or the local event source mapping). */
interface ParallelizationControl {
  get(): Promise<number>;
  set(parallelizationFactor: number): Promise<void>;
}

/**
 * {@link ParallelizationControl} on Lambda's GetEventSourceMapping / UpdateEventSourceMapping for one mapping
 * (its UUID). The update is applied by Lambda within seconds; an update while the mapping is still updating is
 * refused with ResourceInUseException, which passes through to the executor.
 *
 * @example
 * ```ts
 * const control = new LambdaParallelizationControl({ lambda: new LambdaClient({}), uuid: mappingId });
 * await control.set(4);
 * ```
 */
class LambdaParallelizationControl implements ParallelizationControl {
  readonly #lambda: LambdaClient;
  readonly #uuid: string;

  public constructor(options: { readonly lambda: LambdaClient; readonly uuid: string }) {
    this.#lambda = options.lambda;
    this.#uuid = options.uuid;
  }

  public async get(): Promise<number> {
    try {
      const mapping = await this.#lambda.send(new GetEventSourceMappingCommand({ UUID: this.#uuid }));
      return mapping.ParallelizationFactor ?? 1;
    } catch (error) {
      throw new ScalingIoError(
        'Lambda GetEventSourceMapping',
        `${this.#uuid}: ${messageOf(error)}; the manager needs lambda:GetEventSourceMapping on the mapping`,
        { cause: error },
      );
    }
  }

  public async set(parallelizationFactor: number): Promise<void> {
    await this.#lambda.send(
      new UpdateEventSourceMappingCommand({ UUID: this.#uuid, ParallelizationFactor: parallelizationFactor }),
    );
  }
}

export type { ParallelizationControl };
export { LambdaParallelizationControl };
