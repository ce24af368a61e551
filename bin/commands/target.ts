import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Config, parseConfig } from '../../core/config/schema.js';
import { ENV } from '../../core/constants.js';
import { localClients } from '../../localstack/clients.js';
import { readRuntimeFile } from '../../localstack/run/runtime-file.js';
import { CliError } from './command.js';

/** Where a command acts: the running local pipeline, or the deployed tables named in the environment. */
interface Target {
  readonly kind: 'local' | 'aws';
  readonly dynamodb: DynamoDBClient;
  readonly stateTable: string;
  readonly parkedTable: string;
  readonly coordinationTable: string | undefined;
  readonly config: Config;
  close(): void;
}

/**
 * A running `npm start` (found through `.cdcp/runtime.json`) wins; otherwise the tables named by
 * CDCP_STATE_TABLE and CDCP_PARKED_TABLE, with the default AWS credentials and region.
 */
function resolveTarget(env: NodeJS.ProcessEnv): Target {
  const runtime = readRuntimeFile();
  if (runtime !== undefined) {
    const clients = localClients(runtime.endpoints);
    return {
      kind: 'local',
      dynamodb: clients.dynamodb,
      stateTable: runtime.names.stateTable,
      parkedTable: runtime.names.parkedTable,
      coordinationTable: runtime.names.coordinationTable,
      config: runtime.config,
      close: () => clients.destroy(),
    };
  }
  const stateTable = env[ENV.STATE_TABLE];
  const parkedTable = env[ENV.PARKED_TABLE];
  if (!stateTable || !parkedTable)
    throw new CliError(
      `no running local pipeline was found (start one with \`npm start\` in this folder), and ${ENV.STATE_TABLE} / ${ENV.PARKED_TABLE} are not set to reach deployed tables (received ${JSON.stringify(stateTable ?? null)} / ${JSON.stringify(parkedTable ?? null)}).`,
    );
  const dynamodb = new DynamoDBClient({});
  const raw = env[ENV.CONFIG_JSON];
  return {
    kind: 'aws',
    dynamodb,
    stateTable,
    parkedTable,
    coordinationTable: env[ENV.COORDINATION_TABLE],
    config: parseConfig(raw ? JSON.parse(raw) : {}),
    close: () => dynamodb.destroy(),
  };
}

export type { Target };
export { resolveTarget };
