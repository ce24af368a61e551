/**
 * The sections of the runbook (docs/operations.md) the alarms name, by anchor. Each alarm's description ends
 * with `Runbook: <runbookUrl>#<anchor>`; a test checks that every anchor is a section of the page.
 */
const RUNBOOK = {
  iteratorAge: 'consumer-iterator-age',
  sourceLatency: 'source-to-applied-latency',
  consumerErrors: 'consumer-errors',
  consumerThrottles: 'consumer-throttles',
  parked: 'changes-parked',
  quarantined: 'quarantined-aggregates-standing',
  failedBatches: 'batches-given-up',
  dynamoDbThrottles: 'dynamodb-throttles',
  streamWriteThrottles: 'stream-write-throttles',
  clusterManagerHeartbeat: 'no-cluster-manager-leader',
  clusterManagerErrors: 'cluster-manager-errors',
  staleConfig: 'instances-on-a-stale-configuration',
  shedding: 'shedding-active',
  heartbeatFailures: 'instance-heartbeat-failures',
  configRollback: 'configuration-rolled-back',
} as const;

type RunbookSection = keyof typeof RUNBOOK;

/** `<runbookUrl>#<anchor>` of a section. */
function runbookLink(runbookUrl: string, section: RunbookSection): string {
  return `${runbookUrl}#${RUNBOOK[section]}`;
}

export type { RunbookSection };
export { RUNBOOK, runbookLink };
