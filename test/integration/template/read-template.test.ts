import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CfnTemplate } from '../../../localstack/template/cfn-template.js';
import { TemplateError } from '../../../localstack/template/errors.js';
import { rateIntervalMs, readTemplate } from '../../../localstack/template/read-template.js';
import { appSourceFiles } from '../../../localstack/template/source-hash.js';
import { loadTemplate, REPOSITORY_ROOT } from '../../../localstack/template/template-cache.js';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

describe('Function: readTemplate', () => {
  let template: CfnTemplate;
  let cacheDir: string;

  beforeAll(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'cdcp-template-test-'));
    ({ template } = await loadTemplate({ cacheDir }));
  });

  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  const edited = (edit: (resources: Resources) => void): CfnTemplate => {
    const copy = structuredClone(template) as { Resources: Resources };
    edit(copy.Resources);
    return copy;
  };
  const idsOf = (resources: Resources, type: string) =>
    Object.keys(resources).filter((id) => resources[id]!.Type === type);

  it('reads the roles of the tables from the consumer environment', () => {
    const model = readTemplate(template);
    expect(
      model.tables.map((t) => [t.role, t.keySchema.map((k) => k.AttributeName), t.ttlAttribute]),
    ).toEqual([
      ['stateTable', ['aggregateId'], 'ttl'],
      ['parkedTable', ['pk', 'sk'], 'ttl'],
      ['coordinationTable', ['pk', 'sk'], 'ttl'],
    ]);
    expect(model.stream).toMatchObject({ mode: 'PROVISIONED', shardCount: 2, retentionHours: 24 });
  });

  it('refuses a template without a stream, or with two', () => {
    expect(() => readTemplate(edited((r) => delete r[idsOf(r, 'AWS::Kinesis::Stream')[0]!]))).toThrow(
      'the template declares 0 Kinesis streams; local provisioning expects exactly one.',
    );
    expect(() =>
      readTemplate(edited((r) => (r.Second = structuredClone(r[idsOf(r, 'AWS::Kinesis::Stream')[0]!]!)))),
    ).toThrow(TemplateError);
  });

  it('refuses a template whose functions do not say which table is the state table', () => {
    const withoutState = edited((r) => {
      for (const id of idsOf(r, 'AWS::Lambda::Function'))
        delete (r[id]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables
          .CDCP_STATE_TABLE;
    });
    expect(() => readTemplate(withoutState)).toThrow(
      "no function's CDCP_STATE_TABLE names a table of the template, so the stateTable is unknown",
    );
  });

  it('refuses a mapping that starts at a timestamp, which the local mapping cannot do', () => {
    const atTimestamp = edited((r) => {
      r[idsOf(r, 'AWS::Lambda::EventSourceMapping')[0]!]!.Properties.StartingPosition = 'AT_TIMESTAMP';
    });
    expect(() => readTemplate(atTimestamp)).toThrow('the event source mapping starts at AT_TIMESTAMP');
  });

  it("reads a worker fleet's mapping settings and tables from its task definition (cdk.json's consumer: containers)", async () => {
    const { template: fleet } = await loadTemplate({
      cacheDir,
      context: { consumer: 'containers', cdcp: { batchSize: 250, startingPosition: 'LATEST' } },
    });
    const model = readTemplate(fleet);

    expect(model.consumerLogicalId).toMatch(/^ProcessorWorkersTaskDefinition/);
    expect(model.mapping).toMatchObject({
      batchSize: 250,
      startingPosition: 'LATEST',
      maximumRetryAttempts: 10,
    });
    expect(model.mappingOptions).toEqual({
      reportBatchItemFailures: true,
      bisectBatchOnFunctionError: false,
      onFailureDestination: false,
    });
    expect(model.tables.map((t) => t.role)).toEqual(['stateTable', 'parkedTable', 'coordinationTable']);
  });

  it('turns rate expressions into periods', () => {
    expect(rateIntervalMs('rate(1 minute)')).toBe(60_000);
    expect(rateIntervalMs('rate(5 minutes)')).toBe(300_000);
    expect(rateIntervalMs('rate(2 hours)')).toBe(7_200_000);
    expect(rateIntervalMs('cron(0 * * * ? *)')).toBeUndefined();
  });
});

describe('Function: appSourceFiles', () => {
  it('follows the app import graph: bin/app.ts, lib/, and the shared constants and config schema', () => {
    const files = appSourceFiles(REPOSITORY_ROOT);
    expect(files).toContain('bin/app.ts');
    expect(files).toContain('lib/cdc-processor.ts');
    expect(files).toContain('core/constants.ts');
    expect(files).toContain('core/config/schema.ts');
    expect(files.filter((f) => f.startsWith('functions/') || f.startsWith('localstack/'))).toEqual([]);
  });
});
