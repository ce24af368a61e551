import { describe, expect, it } from 'vitest';
import {
  APPCONFIG_JSON_SCHEMA_MAX_CHARS,
  CROSS_FIELD_RULES,
  configJsonSchema,
  configSettings,
  defaultConfig,
  parseConfig,
  validateConfig,
} from '../../../core/config/index.js';
import { type JsonSchema, jsonSchemaErrors } from './json-schema-check.js';

describe('Function: defaultConfig', () => {
  it('keeps the processing settings and defaults other code relies on', () => {
    const config = defaultConfig();

    expect(config.version).toBe('0');
    expect(config.processing).toEqual({
      maxAttempts: 3,
      aggregateConcurrency: 32,
      tombstoneTtlSeconds: 2_592_000,
      maxRecordBytes: 1_048_576,
      faultInjection: false,
    });
    expect(config.tables).toEqual({});
    expect(config.publishedAt).toBeUndefined();
  });

  it('has a default for every section the issue lists', () => {
    const config = defaultConfig();

    expect(config.conflicts).toEqual({ strategy: 'single-source' });
    expect(config.locks).toEqual({ leaseDurationMs: 20_000, heartbeatsPerLease: 4, waitMs: 5_000 });
    expect(config).not.toHaveProperty('leader');
    expect(config.instances).toEqual({ failureDetectionMs: 20_000, heartbeatsPerWindow: 4 });
    expect(config.leases).toEqual({
      assignment: 'least-loaded',
      boundedLoadCapacityFactor: 1.25,
      rebalanceIntervalMs: 10_000,
      failureDetectionMs: 4_500,
      membershipGroups: 1,
    });
    expect(config.shedding).toEqual({
      active: false,
      auto: true,
      lagCriticalMs: 300_000,
      lagRecoveredMs: 30_000,
      deferPriorities: ['low'],
    });
    expect(config.scaling).toEqual({
      enabled: true,
      targetUtilization: 0.7,
      scaleOutAfterSeconds: 300,
      scaleOutIteratorAgeMs: 60_000,
      scaleInUtilization: 0.2,
      scaleInAfterSeconds: 1_800,
      cooldownSeconds: 900,
      minShards: 1,
      maxShards: 64,
      maxParallelizationFactor: 10,
      updateShardCountReserve: 2,
      hotKeyShardShare: 0.8,
    });
  });
});

describe('Function: parseConfig', () => {
  it('fills per-table defaults and keeps what was given', () => {
    const config = parseConfig({ tables: { 'public.orders': { keyColumns: ['id'], paused: true } } });

    expect(config.tables['public.orders']).toEqual({ keyColumns: ['id'], paused: true, priority: 'normal' });
  });

  it('refuses the leader section it no longer has, naming it', () => {
    expect(() => parseConfig({ leader: { leaseDurationMs: 15_000 } })).toThrow(/leader/);
  });

  it('accepts a document it produced (defaults round-trip)', () => {
    const config = defaultConfig();

    expect(parseConfig(JSON.parse(JSON.stringify(config)))).toEqual(config);
  });

  it('keeps the heartbeat periods of the coordination clients at their defaults', () => {
    const { locks, instances } = defaultConfig();

    // LockClient: leaseDurationMs / 4; InstanceRegistry: 5 s of a 20 s window.
    expect(locks.leaseDurationMs / locks.heartbeatsPerLease).toBe(5_000);
    expect(instances.failureDetectionMs / instances.heartbeatsPerWindow).toBe(5_000);
  });
});

describe('Function: configJsonSchema', () => {
  it('is a draft-04 schema of the input side that fits an AppConfig validator', () => {
    const schema = configJsonSchema();

    expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
    expect(schema.additionalProperties).toBe(false);
    expect(JSON.stringify(schema).length).toBeLessThan(APPCONFIG_JSON_SCHEMA_MAX_CHARS);
    expect(JSON.stringify(configJsonSchema({ descriptions: false })).length).toBeLessThan(
      JSON.stringify(schema).length,
    );
  });

  it('describes every setting, with the same default as the zod schema', () => {
    const defaults = defaultConfig() as unknown as Record<string, unknown>;
    const rows = configSettings();

    expect(rows.length).toBeGreaterThanOrEqual(40);
    for (const row of rows) {
      expect(row.description.length, row.path).toBeGreaterThan(10);
      if (row.path.startsWith('tables.') || row.defaultValue === 'absent') continue;
      const value = row.path
        .split('.')
        .reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], defaults);
      expect(JSON.parse(row.defaultValue), row.path).toEqual(value);
    }
  });

  it('accepts the defaults and an empty document', () => {
    const schema = configJsonSchema() as JsonSchema;

    expect(jsonSchemaErrors(schema, {})).toEqual([]);
    expect(jsonSchemaErrors(schema, JSON.parse(JSON.stringify(defaultConfig())))).toEqual([]);
  });

  // AppConfig refuses at deployment exactly what instances refuse at parse time: for one bad value in each
  // setting in turn, the JSON Schema and the zod schema must agree.
  it('refuses every one-field violation the zod schema refuses, and nothing else', () => {
    const schema = configJsonSchema() as JsonSchema;
    const base = JSON.parse(JSON.stringify(defaultConfig())) as Record<string, Record<string, unknown>>;
    base.tables = {
      'public.orders': { keyColumns: ['id'], format: 'dms', conflictStrategy: 'source-position' },
    };
    const leafPaths = configSettings().map((r) => r.path.replace('<table>', 'public.orders'));
    const badValues: unknown[] = [
      null,
      'text',
      -1,
      0,
      0.5,
      1.5,
      11_000_000,
      true,
      [],
      {},
      [''],
      ['high'],
      '',
    ];
    let compared = 0;
    for (const path of leafPaths) {
      for (const bad of badValues) {
        const document = structuredClone(base);
        setAt(document, path, bad);
        const zodOk = validateConfig(document).ok;
        const jsonOk = jsonSchemaErrors(schema, document).length === 0;
        expect(jsonOk, `${path} = ${JSON.stringify(bad)}: zod ${zodOk ? 'accepts' : 'refuses'}`).toBe(zodOk);
        compared++;
      }
      const unknown = structuredClone(base);
      setAt(unknown, path.replace(/[^.]+$/, 'notASetting'), 1);
      expect(validateConfig(unknown).ok).toBe(false);
      expect(jsonSchemaErrors(schema, unknown).length).toBeGreaterThan(0);
    }
    expect(compared).toBe(leafPaths.length * badValues.length);
  });

  it('lists the rules it cannot express, and the zod schema enforces them', () => {
    expect(CROSS_FIELD_RULES.map((r) => r.path)).toEqual([
      'scaling.minShards',
      'conflicts.sourcePriority',
      'tables.<table>.sourcePriority',
    ]);

    const result = validateConfig({ scaling: { minShards: 8, maxShards: 4 } });
    const schemaErrors = jsonSchemaErrors(configJsonSchema() as JsonSchema, {
      scaling: { minShards: 8, maxShards: 4 },
    });

    expect(result.ok).toBe(false);
    expect(schemaErrors).toEqual([]);
  });
});

describe('Rule: source-priority needs a sourcePriority list', () => {
  it('refuses the strategy without a list, globally or per table, naming where the list belongs', () => {
    const result = validateConfig({
      conflicts: { strategy: 'source-priority' },
      tables: { 'public.orders': { conflictStrategy: 'source-priority' }, 'public.lines': {} },
    });

    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.violations.map((v) => v.path)).toEqual([
      'tables["public.orders"].sourcePriority',
      'tables["public.lines"].sourcePriority',
      'conflicts.sourcePriority',
    ]);
    expect(
      jsonSchemaErrors(configJsonSchema() as JsonSchema, { conflicts: { strategy: 'source-priority' } }),
    ).toEqual([]);
  });

  it("takes a table's own list or the global one, and the former name source-position", () => {
    const config = parseConfig({
      conflicts: { strategy: 'source-priority', sourcePriority: ['debezium:dbserver1', 'dms'] },
      tables: {
        'public.orders': { conflictStrategy: 'source-priority', sourcePriority: ['dms'] },
        'public.lines': { conflictStrategy: 'source-position' },
      },
    });

    expect(config.tables['public.orders']?.sourcePriority).toEqual(['dms']);
    expect(config.conflicts.sourcePriority).toEqual(['debezium:dbserver1', 'dms']);
  });
});

function setAt(document: Record<string, unknown>, path: string, value: unknown): void {
  // Table names contain dots: `tables.public.orders.priority` is tables → "public.orders" → priority.
  const parts = path.startsWith('tables.public.orders.')
    ? ['tables', 'public.orders', ...path.slice('tables.public.orders.'.length).split('.')]
    : path.split('.');
  let node = document;
  for (const key of parts.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}
