import { beforeAll, describe, expect, it } from 'vitest';
import { APPCONFIG_JSON_SCHEMA_MAX_CHARS } from '../../core/config/json-schema.js';
import { ConfigSchema, defaultConfig } from '../../core/config/schema.js';
import { appConfigValidatorSchema } from '../../lib/config-schema.js';
import { validateDraft4 } from './helpers/json-schema-draft4.js';
import { synthStack } from './helpers/synth.js';

describe('Function: appConfigValidatorSchema', () => {
  const schema = JSON.parse(appConfigValidatorSchema()) as Record<string, unknown>;

  it('is draft 04, the draft AppConfig validates with, and fits its size limit', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
    expect(appConfigValidatorSchema().length).toBeLessThan(APPCONFIG_JSON_SCHEMA_MAX_CHARS);
  });

  it('accepts the default configuration and an empty document (every field has a default)', () => {
    expect(validateDraft4(schema, defaultConfig())).toEqual([]);
    expect(validateDraft4(schema, {})).toEqual([]);
    expect(
      validateDraft4(schema, { processing: { maxAttempts: 5 }, tables: { 'inventory.orders': {} } }),
    ).toEqual([]);
  });

  it('rejects an invalid configuration, naming each violation', () => {
    expect(
      validateDraft4(schema, {
        processing: { maxAttempts: 0, aggregateConcurrency: 1.5, faultInjection: 'yes' },
        unknownSection: true,
      }),
    ).toEqual([
      '/processing/maxAttempts: 0 is below the minimum 1',
      '/processing/aggregateConcurrency: expected integer, got 1.5',
      '/processing/faultInjection: expected boolean, got "yes"',
      '/unknownSection: property not allowed',
    ]);
    expect(validateDraft4(schema, { version: '' })).toEqual(['/version: shorter than 1']);
    expect(validateDraft4(schema, { tables: { t: { keyColumns: [] } } })).toEqual([
      '/tables/t/keyColumns: fewer than 1 items',
    ]);
    expect(validateDraft4(schema, [])).toEqual(['/: expected object, got []']);
  });

  it('agrees with the zod schema the runtime parses with', () => {
    const samples: unknown[] = [
      {},
      defaultConfig(),
      { version: 'v7' },
      { version: '' },
      { version: 7 },
      { processing: { maxAttempts: 1000 } },
      { processing: { maxAttempts: 1001 } },
      { processing: { tombstoneTtlSeconds: 59 } },
      { processing: { maxRecordBytes: 10_485_760 } },
      { processing: { maxRecordBytes: 10_485_761 } },
      { processing: { extra: 1 } },
      { tables: { 'db.t': { keyColumns: ['id'] } } },
      { tables: { 'db.t': { keyColumns: [''] } } },
      { tables: { 'db.t': { other: 1 } } },
      { tables: [] },
      null,
      'config',
    ];
    for (const sample of samples)
      expect({ sample, valid: validateDraft4(schema, sample).length === 0 }).toEqual({
        sample,
        valid: ConfigSchema.safeParse(sample).success,
      });
  });
});

describe('Resource: the AppConfig profile', () => {
  let validators: { Type: string; Content: string }[];
  let content: string;

  beforeAll(() => {
    const { template } = synthStack();
    const profile = Object.values(template.findResources('AWS::AppConfig::ConfigurationProfile'))[0]!;
    validators = profile.Properties.Validators;
    content = Object.values(template.findResources('AWS::AppConfig::HostedConfigurationVersion'))[0]!
      .Properties.Content;
  });

  it('validates with the generated JSON Schema', () => {
    expect(validators).toEqual([{ Type: 'JSON_SCHEMA', Content: appConfigValidatorSchema() }]);
  });

  it('deploys the default configuration, which its validator accepts', () => {
    expect(JSON.parse(content)).toEqual(defaultConfig());
    expect(validateDraft4(JSON.parse(validators[0]!.Content), JSON.parse(content))).toEqual([]);
  });
});
