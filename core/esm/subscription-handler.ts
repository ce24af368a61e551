import { NodeHttp2Handler, type NodeHttp2HandlerOptions } from '@smithy/node-http-handler';

/**
 * The request handler for SubscribeToShard: HTTP/2 (its event stream exists only over HTTP/2), with one
 * connection per subscription taken from a pool rather than the SDK's default for event streams.
 *
 * Why not the default: for an event stream the SDK opens an isolated HTTP/2 session and closes it gracefully
 * (GOAWAY) as soon as the response headers arrive, leaving the stream to finish on a closing session. AWS
 * accepts that; kinesis-mock (the Kinesis engine of LocalStack, and of our tests) answers the GOAWAY with a
 * protocol error that ends the stream before its first event. A pooled session limited to one stream at a
 * time gives each subscription its own connection just the same and closes nothing early, so one code path
 * runs against AWS, LocalStack and the local engines.
 *
 * @example
 * ```ts
 * const subscriber = new KinesisClient({ requestHandler: new SubscriptionHandler() });
 * const reader = new FanOutReader({ kinesis: subscriber, consumerArn });
 * ```
 */
class SubscriptionHandler extends NodeHttp2Handler {
  public constructor(options: NodeHttp2HandlerOptions = {}) {
    // No activity for this long (AWS sends an event at least every five seconds) fails the stream: the reader
    // then subscribes again.
    super({ requestTimeout: 30_000, maxConcurrentStreams: 1, ...options });
  }

  public override handle(...[request, options]: Parameters<NodeHttp2Handler['handle']>) {
    return super.handle(request, { ...options, isEventStream: false });
  }
}

export { SubscriptionHandler };
