import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { inject } from 'vitest';
import { type ConfigInput, parseConfig } from '../../core/config/schema.js';
import { type LocalClients, localClients } from '../../localstack/clients.js';
import type { ResourceNames } from '../../localstack/provision.js';
import type { RuntimeInfo } from '../../localstack/run/runtime-file.js';

/** Clients for the engines the integration global setup started (kinesalite unless told otherwise). */
function testClients(kinesis: 'kinesalite' | 'kinesis-mock' = 'kinesalite'): LocalClients {
  return localClients({
    dynamodb: inject('dynamodbEndpoint'),
    kinesis: inject(kinesis === 'kinesalite' ? 'kinesaliteEndpoint' : 'kinesisMockEndpoint'),
  });
}

/** A name no other test uses, so tests can share the engines. */
function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/**
 * Writes at `path` what `npm start` writes so that `cdcp` finds its engines and tables, the test process
 * standing in for the run; point `cdcp` at it with CDCP_RUNTIME_FILE.
 */
function writeTestRuntimeFile(
  path: string,
  names: ResourceNames,
  options: {
    readonly config?: ConfigInput;
    readonly kinesis?: 'kinesalite' | 'kinesis-mock';
    readonly configFile?: string;
  } = {},
): void {
  const kinesis = options.kinesis ?? 'kinesalite';
  const info: RuntimeInfo = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    endpoints: {
      dynamodb: inject('dynamodbEndpoint'),
      kinesis: inject(kinesis === 'kinesalite' ? 'kinesaliteEndpoint' : 'kinesisMockEndpoint'),
      kind: 'embedded',
      kinesisEngine: kinesis,
    },
    names,
    config: parseConfig(options.config ?? {}),
    ...(options.configFile === undefined ? {} : { configFile: options.configFile }),
  };
  writeFileSync(path, JSON.stringify(info));
}

export { testClients, uniqueName, writeTestRuntimeFile };
