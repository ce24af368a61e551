import { type ChildProcess, spawn } from 'node:child_process';
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Clock, systemClock } from '../../core/coordination/index.js';
import { resourceNames, tableDefinitions, waitFor } from '../../localstack/provision.js';

/** Creates a coordination table named after `prefix` (the same definition `provision()` uses) and returns its name. */
async function createCoordinationTable(dynamodb: DynamoDBClient, prefix: string): Promise<string> {
  const names = resourceNames(prefix);
  const definition = tableDefinitions(names).find((t) => t.input.TableName === names.coordinationTable)!;
  await dynamodb.send(new CreateTableCommand(definition.input));
  await waitFor(`table ${names.coordinationTable}`, async () => {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: names.coordinationTable }));
    return Table?.TableStatus === 'ACTIVE';
  });
  return names.coordinationTable;
}

/** The system clock with its wall time moved by `skewMs`; the monotonic clock and timers are untouched. */
function skewedClock(skewMs: number): Clock {
  return { now: systemClock.now, sleep: systemClock.sleep, wallNow: () => Date.now() + skewMs };
}

/** Starts `script` (TypeScript) in a new Node process through tsx; output is piped. */
function spawnTsx(script: string, args: readonly string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
}

/** Runs `script` to completion and returns its exit code and output; kills it after `timeoutMs`. */
function runTsx(
  script: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnTsx(script, args);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export { createCoordinationTable, runTsx, skewedClock, spawnTsx };
