import type { Output } from '@aws-sdk/client-cloudformation';
import { z } from 'zod';
import { TARGET_OUTPUT, type TargetDocument } from '../../core/constants.js';
import { messageOf } from '../../core/errors.js';
import { CliError } from './command.js';

/** How the CLI reaches AWS: the region and profile flags, else the SDK's defaults. */
interface AwsClientConfig {
  readonly region?: string;
  readonly profile?: string;
}

const id = z.string().min(1);
const TargetDocumentSchema = z.object({
  version: z.literal(TARGET_OUTPUT.version),
  streamName: id,
  streamArn: id,
  stateTable: id,
  parkedTable: id,
  coordinationTable: id,
  consumerFunction: id.optional(),
  eventSourceMappingId: id.optional(),
  failedBatchesBucket: id,
  fleet: z
    .object({
      cluster: id,
      service: id,
      minWorkers: z.number().int().min(1),
      maxWorkers: z.number().int().min(1),
      taskCpu: z.number().int().min(1),
    })
    .optional(),
  appConfig: z.object({ applicationId: id, environmentId: id, profileId: id, deploymentStrategyId: id }),
  projection: z.object({ name: id, fingerprint: id, entry: z.string().nullable() }),
});

/** The cdcp target output of a stack's outputs; one CdcProcessor per stack. */
function targetFromOutputs(stackName: string, outputs: readonly Output[]): TargetDocument {
  const found = outputs.filter((o) => o.Description?.startsWith(TARGET_OUTPUT.descriptionPrefix));
  if (found.length === 0)
    throw new CliError(
      `stack ${stackName} has no "${TARGET_OUTPUT.id}" output: it holds no CdcProcessor, or was deployed with an older cdc-event-processor; deploy it with this version`,
    );
  if (found.length > 1)
    throw new CliError(
      `stack ${stackName} holds ${found.length} CdcProcessors (outputs ${found.map((o) => o.OutputKey).join(', ')}); cdcp acts on stacks with one`,
    );
  const [output] = found;
  let parsed: unknown;
  try {
    parsed = JSON.parse(output!.OutputValue ?? '');
  } catch {
    throw new CliError(
      `stack ${stackName}'s output ${output!.OutputKey} is not JSON; received ${JSON.stringify(output!.OutputValue)}`,
    );
  }
  const result = TargetDocumentSchema.safeParse(parsed);
  if (!result.success)
    throw new CliError(
      `stack ${stackName}'s output ${output!.OutputKey} is not a cdcp target of version ${TARGET_OUTPUT.version} (${result.error.issues[0]?.path.join('.')}: ${result.error.issues[0]?.message}); upgrade cdc-event-processor or redeploy`,
    );
  return result.data;
}

/**
 * Reads a deployed stack's cdcp target from its CloudFormation outputs (DescribeStacks: a control-plane read,
 * granted by `grantOperate`). Returns the document and the region it was found in.
 */
async function describeStackTarget(
  stackName: string,
  aws: AwsClientConfig,
): Promise<{ readonly document: TargetDocument; readonly region: string }> {
  // Loaded on use: only commands that act on a stack need CloudFormation.
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const client = new CloudFormationClient({ ...aws });
  try {
    let region: string;
    try {
      region = await client.config.region();
    } catch {
      throw new CliError(
        `no AWS region to find stack ${stackName} in: pass --region, or set AWS_REGION or a profile's region`,
      );
    }
    let outputs: readonly Output[];
    try {
      const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
      outputs = Stacks?.[0]?.Outputs ?? [];
    } catch (error) {
      const message = messageOf(error);
      if (/does not exist/.test(message))
        throw new CliError(`stack ${stackName} does not exist in ${region}; check --stack and --region`);
      throw new CliError(`cannot describe stack ${stackName} in ${region}: ${message}`, 1);
    }
    return { document: targetFromOutputs(stackName, outputs), region };
  } finally {
    client.destroy();
  }
}

export type { AwsClientConfig };
export { describeStackTarget, targetFromOutputs };
