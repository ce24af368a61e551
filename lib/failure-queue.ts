import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

interface FailureQueueProps {
  readonly retentionDays: number;
  readonly maxReceiveCount: number;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The event source mapping's on-failure destination. Lambda sends it a *description* of a batch it gave up on
 * (shard, first and last sequence numbers), not the records: whoever reads it re-reads the range from the
 * stream within its retention. SQS-managed encryption (no KMS permissions for senders), TLS only, and its
 * own dead-letter queue for descriptions an operator's tooling fails to handle.
 */
class FailureQueue extends Construct {
  public readonly queue: Queue;
  public readonly deadLetterQueue: Queue;

  public constructor(scope: Construct, id: string, props: FailureQueueProps) {
    super(scope, id);
    const retentionPeriod = Duration.days(props.retentionDays);
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod,
      removalPolicy: props.removalPolicy,
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod,
      removalPolicy: props.removalPolicy,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }
}

export type { FailureQueueProps };
export { FailureQueue };
