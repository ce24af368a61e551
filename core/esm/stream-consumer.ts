import {
  DescribeStreamConsumerCommand,
  type KinesisClient,
  RegisterStreamConsumerCommand,
} from '@aws-sdk/client-kinesis';
import { type Clock, systemClock } from '../coordination/clock.js';
import { messageOf, OptionsError } from '../errors.js';

interface EnsureStreamConsumerOptions {
  readonly kinesis: KinesisClient;
  readonly streamArn: string;
  /** One per fleet: every worker of the fleet subscribes through it. 1..128 of `[a-zA-Z0-9_.-]`. */
  readonly consumerName: string;
  /** How long to wait for the consumer to become ACTIVE. @default 120_000 */
  readonly timeoutMs?: number;
  /** @default systemClock */
  readonly clock?: Clock;
}

/** The stream consumer could not be found, registered, or did not become active. */
class StreamConsumerError extends Error {
  public readonly consumerName: string;

  public constructor(consumerName: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StreamConsumerError';
    this.consumerName = consumerName;
  }
}

const CONSUMER_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;

/**
 * The ARN of the fleet's enhanced fan-out consumer, registered by whichever worker asks first (one
 * RegisterStreamConsumer per fleet, not per worker: a stream allows 20 consumers) and waited on until ACTIVE.
 * Every worker calls it at start; the ones that find it registered only describe it. A stack may also create
 * the consumer itself; then no worker registers anything.
 *
 * @example
 * ```ts
 * const consumerArn = await ensureStreamConsumer({ kinesis, streamArn, consumerName: 'cdcp-workers' });
 * ```
 */
async function ensureStreamConsumer(options: EnsureStreamConsumerOptions): Promise<string> {
  const { kinesis, streamArn, consumerName } = options;
  if (!CONSUMER_NAME.test(consumerName))
    throw new OptionsError('consumerName', consumerName, "must be 1 to 128 letters, digits, '_', '.' or '-'");
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = clock.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const described = await describe(kinesis, streamArn, consumerName);
    if (described?.status === 'ACTIVE') return described.arn;
    if (described === undefined) await register(kinesis, streamArn, consumerName);
    if (clock.now() > deadline)
      throw new StreamConsumerError(
        consumerName,
        `the stream consumer ${consumerName} of ${streamArn} is ${described?.status ?? 'not registered'} after ${timeoutMs} ms; check it with DescribeStreamConsumer`,
      );
    await clock.sleep(Math.min(2_000, 100 * 2 ** attempt));
  }
}

async function describe(
  kinesis: KinesisClient,
  streamArn: string,
  consumerName: string,
): Promise<{ arn: string; status: string } | undefined> {
  try {
    const out = await kinesis.send(
      new DescribeStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: consumerName }),
    );
    const description = out.ConsumerDescription;
    return description?.ConsumerARN === undefined
      ? undefined
      : { arn: description.ConsumerARN, status: description.ConsumerStatus ?? 'UNKNOWN' };
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw unserved(consumerName, error);
  }
}

async function register(kinesis: KinesisClient, streamArn: string, consumerName: string): Promise<void> {
  try {
    await kinesis.send(
      new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: consumerName }),
    );
  } catch (error) {
    // Another worker registered it between our describe and this call: describe it again.
    if ((error as Error).name === 'ResourceInUseException') return;
    throw unserved(consumerName, error);
  }
}

function unserved(consumerName: string, error: unknown): StreamConsumerError {
  const message = messageOf(error);
  const unknown = (error as Error).name === 'UnknownOperationException';
  return new StreamConsumerError(
    consumerName,
    unknown
      ? `this Kinesis endpoint does not serve enhanced fan-out (${message}); read by polling, or use kinesis-mock or AWS`
      : `cannot register or describe the stream consumer ${consumerName}: ${message}`,
    { cause: error },
  );
}

export type { EnsureStreamConsumerOptions };
export { ensureStreamConsumer, StreamConsumerError };
