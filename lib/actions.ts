/**
 * IAM action lists behind the construct's grants, one list per kind of access (the CDK guideline: grants
 * backed by module-level action lists). Every action is named; none is a wildcard. Resources are always
 * this construct's own stream, tables, mapping or AppConfig profile.
 */

/** Item reads the runtime makes: point reads, batch reads, queries, transaction condition checks. No Scan. */
const TABLE_READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
] as const;

/**
 * Item writes the runtime makes. TransactWriteItems has no IAM action of its own: DynamoDB authorises each
 * of its items with these.
 */
const TABLE_WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
] as const;

/**
 * What a consumer execution environment writes to the coordination table: its own instance item, registered
 * with a conditional put and heartbeated with a conditional update. Granted on `INSTANCE` items only.
 */
const INSTANCE_REGISTER_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;

/** Whole-table reads, for operators only (`cdcp parked list`); no function is granted a scan. */
const TABLE_SCAN_ACTIONS = ['dynamodb:Scan'] as const;

/** Producers: put records (partition key = aggregate id) and find the shards. */
const STREAM_PUBLISH_ACTIONS = [
  'kinesis:PutRecord',
  'kinesis:PutRecords',
  'kinesis:ListShards',
  'kinesis:DescribeStreamSummary',
] as const;

/** What the cluster manager reads about the stream before it plans. */
const STREAM_DESCRIBE_ACTIONS = ['kinesis:ListShards', 'kinesis:DescribeStreamSummary'] as const;

/** What the cluster manager changes on the stream (docs/architecture.md §8). */
const STREAM_RESHARD_ACTIONS = [
  'kinesis:UpdateShardCount',
  'kinesis:SplitShard',
  'kinesis:MergeShards',
] as const;

/** Read and tune the consumer's event source mapping (ParallelizationFactor, batch size). */
const MAPPING_TUNE_ACTIONS = ['lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping'] as const;

/** GetMetricData has no resource-level permissions: it must be granted on `*`. */
const METRIC_READ_ACTIONS = ['cloudwatch:GetMetricData'] as const;

/** Read the deployed configuration through AppConfigData. */
const CONFIG_READ_ACTIONS = [
  'appconfig:StartConfigurationSession',
  'appconfig:GetLatestConfiguration',
] as const;

/** Publish a new hosted configuration version of the profile, and read back the versions published. */
const CONFIG_PUBLISH_ACTIONS = [
  'appconfig:CreateHostedConfigurationVersion',
  'appconfig:GetHostedConfigurationVersion',
  'appconfig:ListHostedConfigurationVersions',
] as const;

/** Deploy a version of the profile to the environment, and see the deployments under way. */
const CONFIG_DEPLOY_ACTIONS = ['appconfig:StartDeployment', 'appconfig:ListDeployments'] as const;

/** Encrypt records on a KMS-encrypted stream (the producer side). */
const KEY_ENCRYPT_ACTIONS = ['kms:GenerateDataKey'] as const;

/** Find the processor's resources from the stack's outputs (`cdcp --stack`). */
const STACK_DESCRIBE_ACTIONS = ['cloudformation:DescribeStacks'] as const;

/** Read the consumer's mapping (ParallelizationFactor), for `cdcp scale plan`. */
const MAPPING_READ_ACTIONS = ['lambda:GetEventSourceMapping'] as const;

/** Write a failed batch to the on-failure bucket (the consumer's mapping; with `s3:ListBucket` on the bucket). */
const FAILED_BATCH_WRITE_ACTIONS = ['s3:PutObject'] as const;

/** Read the failed batches Lambda kept, and delete one once redriven (`cdcp failures`). */
const FAILED_BATCH_READ_ACTIONS = ['s3:GetObject', 's3:DeleteObject'] as const;

/** Re-read a given-up sequence range from the stream (`cdcp failures redrive`). */
const STREAM_READ_ACTIONS = [
  'kinesis:DescribeStreamSummary',
  'kinesis:ListShards',
  'kinesis:GetShardIterator',
  'kinesis:GetRecords',
] as const;

/**
 * What a worker writes and reads on the coordination table: its instance item (register, heartbeat,
 * deregister) and the stream's lease partition (create, grant, renew, hand off, release, clean up ended
 * parents; one Query per read), and the ids its owner cache leaves for a shard's next owner (`CACHE#<stream>`,
 * one PutItem and one GetItem per hand-off). Granted on `INSTANCE`, `LEASE#<stream>` and `CACHE#<stream>` items
 * only.
 */
const WORKER_COORDINATION_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
] as const;

/** A polling worker on the stream: find the shards, read them. (The stack gives it the stream's ARN.) */
const WORKER_STREAM_POLL_ACTIONS = [
  'kinesis:ListShards',
  'kinesis:GetShardIterator',
  'kinesis:GetRecords',
] as const;

/** A fan-out worker on the stream: it only finds the shards there; it reads through its consumer. */
const WORKER_SHARD_ACTIONS = ['kinesis:ListShards'] as const;

/**
 * Enhanced fan-out through the fleet's registered consumer: find it, subscribe to shards. No
 * RegisterStreamConsumer: the stack registers the consumer.
 */
const STREAM_FAN_OUT_ACTIONS = ['kinesis:DescribeStreamConsumer', 'kinesis:SubscribeToShard'] as const;

/** Read the worker fleet's ECS service (`cdcp scale plan`, the cluster manager). */
const FLEET_DESCRIBE_ACTIONS = ['ecs:DescribeServices'] as const;

/** Set the worker fleet's desired count (the cluster manager). */
const FLEET_SCALE_ACTIONS = ['ecs:DescribeServices', 'ecs:UpdateService'] as const;

/** Decrypt records of a stream encrypted with a customer-managed key (the reading side). */
const KEY_DECRYPT_ACTIONS = ['kms:Decrypt'] as const;

/** What AppConfig's monitor role does: read the state of the alarm that rolls a deployment back. */
const ALARM_READ_ACTIONS = ['cloudwatch:DescribeAlarms'] as const;

export {
  ALARM_READ_ACTIONS,
  CONFIG_DEPLOY_ACTIONS,
  CONFIG_PUBLISH_ACTIONS,
  CONFIG_READ_ACTIONS,
  FAILED_BATCH_READ_ACTIONS,
  FAILED_BATCH_WRITE_ACTIONS,
  FLEET_DESCRIBE_ACTIONS,
  FLEET_SCALE_ACTIONS,
  INSTANCE_REGISTER_ACTIONS,
  KEY_DECRYPT_ACTIONS,
  KEY_ENCRYPT_ACTIONS,
  MAPPING_READ_ACTIONS,
  MAPPING_TUNE_ACTIONS,
  METRIC_READ_ACTIONS,
  STACK_DESCRIBE_ACTIONS,
  STREAM_DESCRIBE_ACTIONS,
  STREAM_FAN_OUT_ACTIONS,
  STREAM_PUBLISH_ACTIONS,
  STREAM_READ_ACTIONS,
  STREAM_RESHARD_ACTIONS,
  TABLE_READ_ACTIONS,
  TABLE_SCAN_ACTIONS,
  TABLE_WRITE_ACTIONS,
  WORKER_COORDINATION_ACTIONS,
  WORKER_SHARD_ACTIONS,
  WORKER_STREAM_POLL_ACTIONS,
};
