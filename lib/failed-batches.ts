import { type CfnElement, Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type {
  DlqDestinationConfig,
  IEventSourceDlq,
  IEventSourceMapping,
  IFunction,
} from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { FAILED_BATCH_READ_ACTIONS, FAILED_BATCH_WRITE_ACTIONS } from './actions.js';

interface FailedBatchesProps {
  readonly retentionDays: number;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Where the consumer's event source mapping keeps the batches it gives up on (retries or record age used up),
 * whole: for an S3 on-failure destination Lambda writes the invocation record with its payload, the records
 * themselves, where a queue would get only the shard and sequence range (docs/architecture.md contract 6).
 * `cdcp failures list` and `redrive` read them back. Encrypted with S3-managed keys (so Lambda needs no KMS
 * permission to write), TLS only, no public access, and expired after the retention.
 */
class FailedBatches extends Construct {
  public readonly bucket: Bucket;

  public constructor(scope: Construct, id: string, props: FailedBatchesProps) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      lifecycleRules: [{ expiration: Duration.days(props.retentionDays) }],
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only the consumer writes here (a failed batch, when its mapping gives up) and only operators read ' +
        'and delete (cdcp failures); each object is itself the record of what failed. Object-level access is ' +
        'in CloudTrail data events where an account turns them on, without a second bucket of access logs.',
    });
  }
}

/**
 * The S3 on-failure destination of a Kinesis event source mapping, granting the function no more than
 * Lambda needs to write to it: PutObject on the bucket's objects and ListBucket on the bucket. (CDK's own
 * `S3OnFailureDestination` grants read and write on the whole bucket, deletes included.)
 */
class FailedBatchDestination implements IEventSourceDlq {
  readonly #bucket: IBucket;

  public constructor(bucket: IBucket) {
    this.#bucket = bucket;
  }

  public bind(_target: IEventSourceMapping, targetHandler: IFunction): DlqDestinationConfig {
    grantFailedBatchWrite(targetHandler, this.#bucket);
    return { destination: this.#bucket.bucketArn };
  }
}

/** What Lambda needs to write failed batches. */
function grantFailedBatchWrite(grantee: IGrantable, bucket: IBucket): void {
  Grant.addToPrincipal({
    grantee,
    actions: [...FAILED_BATCH_WRITE_ACTIONS],
    resourceArns: [bucket.arnForObjects('*')],
  });
  Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [bucket.bucketArn] });
}

/** What `cdcp failures list` and `redrive` need: list, read and (once redriven) delete failed batches. */
function grantFailedBatchRead(grantee: IGrantable, bucket: IBucket): Grant {
  Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [bucket.bucketArn] });
  return Grant.addToPrincipal({
    grantee,
    actions: [...FAILED_BATCH_READ_ACTIONS],
    resourceArns: [bucket.arnForObjects('*')],
  });
}

/** The cdk-nag finding id of a grant on every object of `bucket`. */
function objectsFindingId(bucket: IBucket): string {
  const logicalId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as CfnElement);
  return `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/*]`;
}

export type { FailedBatchesProps };
export { FailedBatchDestination, FailedBatches, grantFailedBatchRead, objectsFindingId };
