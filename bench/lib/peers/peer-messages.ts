/** Everything a peer consumer process needs, passed by its parent in {@link PEER_SPEC_ENV} (JSON). */
interface PeerSpec {
  readonly id: string;
  readonly kinesisEndpoint: string;
  /** DynamoDB as the consumer reaches it (the counting proxy). */
  readonly dynamodbEndpoint: string;
  readonly streamName: string;
  readonly consumerGroup: string;
  /** lifion-kinesis's own table: consumers, leases and checkpoints of the group, one item per stream. */
  readonly leaseTable: string;
  readonly stateTable: string;
  readonly write: 'put' | 'counting';
  readonly idempotencyTable?: string;
  /** Options given to lifion-kinesis on top of the benchmark's fixed ones (lease timings). */
  readonly options: Readonly<Record<string, number>>;
}

type PeerMessage =
  /** Modules loaded: the consumer starts on `start`, so a group's consumers register together. */
  | { readonly type: 'loaded'; readonly pid: number }
  | { readonly type: 'ready' }
  /** One batch received, before it is applied. */
  | { readonly type: 'batch'; readonly shardId: string; readonly records: number; readonly atWallMs: number }
  | { readonly type: 'error'; readonly message: string };

type PeerCommand = { readonly type: 'start' } | { readonly type: 'stop' };

const PEER_SPEC_ENV = 'PEERS_BENCH_SPEC';

export type { PeerCommand, PeerMessage, PeerSpec };
export { PEER_SPEC_ENV };
