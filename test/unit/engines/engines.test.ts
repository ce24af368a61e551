import { describe, expect, it } from 'vitest';
import { parseKinesisEngine, startEngines } from '../../../localstack/engines/engines.js';

describe('Function: startEngines', () => {
  it('uses LOCALSTACK_ENDPOINT and starts nothing when it is set', async () => {
    const engines = await startEngines({ env: { LOCALSTACK_ENDPOINT: 'http://localhost:4566' } });
    expect(engines.endpoints).toEqual({
      dynamodb: 'http://localhost:4566',
      kinesis: 'http://localhost:4566',
      kind: 'localstack',
      kinesisEngine: 'localstack',
    });
    expect(engines.processes).toEqual([]);
  });

  it('uses AWS_ENDPOINT_URL the same way', async () => {
    const engines = await startEngines({ env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' } });
    expect(engines.endpoints.kind).toBe('localstack');
    expect(engines.processes).toEqual([]);
  });

  it('explains a missing Java with what to install', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(startEngines({ env: {} })).rejects.toThrow(
        /DynamoDB Local needs Java 17 or newer.*apt-get install -y openjdk-17-jre-headless/s,
      );
    } finally {
      process.env.PATH = path;
    }
  });

  it('names the allowed Kinesis engines when given another', () => {
    expect(() => parseKinesisEngine('kafka')).toThrow(
      '--kinesis-engine must be one of kinesalite, kinesis-mock; received "kafka"',
    );
  });
});
