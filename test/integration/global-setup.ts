import 'vitest';
import type { TestProject } from 'vitest/node';
import { startEngines, startKinesisMock } from '../../localstack/engines/engines.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    kinesaliteEndpoint: string;
    kinesisMockEndpoint: string;
  }
}

/**
 * Starts DynamoDB Local, kinesalite and kinesis-mock once for the whole integration run (or uses LocalStack
 * when LOCALSTACK_ENDPOINT is set). Tests isolate themselves with their own table and stream names.
 */
export default async function setup(project: TestProject) {
  const engines = await startEngines({ kinesisEngine: 'kinesalite' });
  const external = engines.endpoints.kind === 'localstack';
  const mock = external ? undefined : await startKinesisMock();
  project.provide('dynamodbEndpoint', engines.endpoints.dynamodb);
  project.provide('kinesaliteEndpoint', engines.endpoints.kinesis);
  project.provide('kinesisMockEndpoint', mock?.endpoint ?? engines.endpoints.kinesis);
  return async () => {
    await mock?.process.stop();
    await engines.stop();
  };
}
