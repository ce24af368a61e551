import { Stack, type StackProps } from 'aws-cdk-lib';
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
  }
}

export type { CdcProcessorStackProps };
export { CdcProcessorStack };
