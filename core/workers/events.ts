/** Something a worker did or saw, for the live view, `cdcp local workers`, tests and the benchmark. */
type WorkerEvent =
  | { readonly type: 'registered' }
  | {
      readonly type: 'acquired';
      readonly shardId: string;
      readonly fence: number;
      /** granted: given by the assigner (free or taken over); adopted: found as ours (a hand-off to us). */
      readonly how: 'granted' | 'adopted';
      readonly startAfter: string | undefined;
    }
  | {
      readonly type: 'lost';
      readonly shardId: string;
      /** taken-over: the store names another owner; expired: our heartbeats failed for a lease duration;
       * checkpoint-rejected: a fenced checkpoint write found a later grant. */
      readonly reason: 'taken-over' | 'expired' | 'checkpoint-rejected' | 'not-registered';
    }
  | {
      /** A checkpoint write the store accepted under `fence` (sent to a parent only when it asks for progress). */
      readonly type: 'checkpointed';
      readonly shardId: string;
      readonly fence: number;
      readonly checkpoint: string | undefined;
      readonly ended: boolean;
    }
  | {
      readonly type: 'handed-off';
      readonly shardId: string;
      readonly to: string;
      readonly checkpoint: string | undefined;
    }
  | {
      readonly type: 'released';
      readonly shardId: string;
      readonly reason: 'ended' | 'stopping';
      /** The checkpoint the lease was freed with: its next owner starts after it. */
      readonly checkpoint: string | undefined;
    }
  | { readonly type: 'leader'; readonly term: number }
  | { readonly type: 'follower'; readonly reason: 'lost' | 'stopping' }
  | {
      readonly type: 'assigned';
      readonly shardId: string;
      readonly to: string;
      /** grant: a free lease; take-over: an expired one; hand-off: a move requested from its live owner. */
      readonly how: 'grant' | 'take-over' | 'hand-off';
      readonly from: string | undefined;
    }
  | { readonly type: 'lease-created'; readonly shardId: string; readonly parents: readonly string[] }
  | { readonly type: 'lease-cleaned'; readonly shardId: string }
  | { readonly type: 'instance-removed'; readonly instanceId: string }
  | {
      /** Enhanced fan-out: a subscription to a held shard started (its first, or a renewal). */
      readonly type: 'subscribed';
      readonly shardId: string;
      /** `TRIM_HORIZON`, `LATEST`, or `after <sequence number>`. */
      readonly from: string;
      /** 1 for the shard's first subscription under this lease, 2 for its first renewal, ... */
      readonly ordinal: number;
    }
  | { readonly type: 'error'; readonly message: string };

export type { WorkerEvent };
