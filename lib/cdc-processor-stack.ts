import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { CdcProcessor } from './cdc-processor.js';
import type { CdcProcessorProps } from './props.js';

/** Stack props: the usual StackProps plus every {@link CdcProcessorProps} prop, flat. */
interface CdcProcessorStackProps extends StackProps, CdcProcessorProps {}

/**
 * One CdcProcessor in a stack of its own: what `cdk deploy` deploys and what `npm start` provisions
 * locally from the synthesized template.
 *
 * @example
 * ```ts
 * new CdcProcessorStack(app, 'CdcProcessor', { shardCount: 4 });
 * ```
 */
class CdcProcessorStack extends Stack {
  public readonly processor: CdcProcessor;

  public constructor(scope: Construct, id: string, props: CdcProcessorStackProps = {}) {
    super(scope, id, props);
    this.processor = new CdcProcessor(this, 'Processor', props);
    // What producers, operators and `cdcp` need to find after a deploy.
    const p = this.processor;
    const outputs: [string, string, string][] = [
      [
        'StreamName',
        p.stream.streamName,
        'Kinesis stream the CDC sources publish to (partition key = aggregate id)',
      ],
      ['StreamArn', p.stream.streamArn, 'ARN of the stream'],
      ['StateTableName', p.stateTable.tableName, 'Per-aggregate state'],
      ['ParkedTableName', p.parkedTable.tableName, 'Parked changes (cdcp parked list / replay)'],
      ['CoordinationTableName', p.coordinationTable.tableName, 'Instances, leases, locks, leader'],
      [
        'FailedBatchesBucketName',
        p.failedBatches.bucket.bucketName,
        'Batches Lambda gave up on, whole (cdcp failures list / redrive)',
      ],
      ['AlarmTopicArn', p.alarmTopic.topicArn, 'Where the alarms notify; subscribe your on-call here'],
    ];
    if (p.monitoring.dashboard !== undefined)
      outputs.push(['DashboardName', p.monitoring.dashboard.dashboardName, 'CloudWatch dashboard']);
    for (const [id, value, description] of outputs) new CfnOutput(this, id, { value, description });
  }
}

export type { CdcProcessorStackProps };
export { CdcProcessorStack };
