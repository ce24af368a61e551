import type { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { COORDINATION_TABLE, PARKED_TABLE, STATE_TABLE } from '../core/constants.js';

interface TableOptions {
  readonly removalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
}

/** Keys of each table, from the constants the runtime uses (docs/architecture.md §5). */
const TABLE_KEYS = {
  state: { partitionKey: STATE_TABLE.partitionKey, sortKey: undefined, ttl: STATE_TABLE.attributes.ttl },
  parked: { partitionKey: PARKED_TABLE.partitionKey, sortKey: PARKED_TABLE.sortKey, ttl: PARKED_TABLE.ttl },
  coordination: {
    partitionKey: COORDINATION_TABLE.partitionKey,
    sortKey: COORDINATION_TABLE.sortKey,
    ttl: COORDINATION_TABLE.ttl,
  },
} as const;

type TableRole = keyof typeof TABLE_KEYS;

/**
 * One of the processor's tables: on-demand (load follows the stream, which the cluster manager resizes),
 * point-in-time recovery, TTL, and encryption with the AWS-managed `aws/dynamodb` key. The managed key
 * keeps every caller free of KMS permissions (a customer-managed key would need KMS grants on each
 * function, which CDK writes with wildcard actions) while still being a KMS key audited in CloudTrail.
 */
function processorTable(scope: Construct, id: string, role: TableRole, options: TableOptions): Table {
  const keys = TABLE_KEYS[role];
  return new Table(scope, id, {
    partitionKey: { name: keys.partitionKey, type: AttributeType.STRING },
    sortKey: keys.sortKey === undefined ? undefined : { name: keys.sortKey, type: AttributeType.STRING },
    timeToLiveAttribute: keys.ttl,
    billingMode: BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: TableEncryption.AWS_MANAGED,
    deletionProtection: options.deletionProtection,
    removalPolicy: options.removalPolicy,
  });
}

export type { TableRole };
export { processorTable, TABLE_KEYS };
