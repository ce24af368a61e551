import { describe, expect, it } from 'vitest';
import {
  ConfigValidationError,
  formatPath,
  parseConfigDocument,
  parseConfigText,
  validateConfig,
} from '../../../core/config/index.js';

function violationsOf(document: unknown) {
  const result = validateConfig(document);
  if (result.ok) throw new Error('expected the document to be refused');
  return result.violations;
}

describe('Function: validateConfig', () => {
  it('accepts a valid document and returns it with defaults filled', () => {
    const result = validateConfig({ processing: { maxAttempts: 5 } });

    expect(result.ok).toBe(true);
    expect(result.ok && result.config.processing).toMatchObject({ maxAttempts: 5, aggregateConcurrency: 32 });
  });

  it('names the path, the value received and the accepted range of a number out of range', () => {
    const [violation, ...rest] = violationsOf({ processing: { maxAttempts: 0 } });

    expect(rest).toEqual([]);
    expect(violation).toEqual({
      path: 'processing.maxAttempts',
      pathSegments: ['processing', 'maxAttempts'],
      received: '0',
      expected: 'an integer from 1 to 1000',
      message: 'processing.maxAttempts: received 0, expected an integer from 1 to 1000',
    });
  });

  it('takes the owner cache on by default, and refuses a cache bound under 1 MiB with the value received', () => {
    const defaults = validateConfig({});
    const [violation] = violationsOf({ cache: { maxBytes: 1024 } });

    expect(defaults.ok && defaults.config.cache).toEqual({ enabled: true, maxBytes: 67_108_864 });
    expect(violation).toMatchObject({ path: 'cache.maxBytes', received: '1024' });
    expect(violation?.message).toMatch(/1048576/);
  });

  it('lists every violation of a document, not just the first', () => {
    const violations = violationsOf({
      processing: { maxAttempts: 'three', aggregateConcurrency: 1000 },
      tables: { 'public.orders': { priority: 'urgent', keyColumns: [] } },
      shedding: { deferPriorities: ['high'] },
      scaling: { targetUtilization: 0.2 },
      publishedAt: 'yesterday',
    });

    expect(violations.map((v) => v.message)).toEqual([
      'publishedAt: received "yesterday", expected an ISO 8601 UTC date-time such as "2026-01-31T12:00:00Z"',
      'processing.maxAttempts: received "three", expected an integer from 1 to 1000',
      'processing.aggregateConcurrency: received 1000, expected an integer from 1 to 512',
      'tables["public.orders"].keyColumns: received [] (list), expected a list with at least 1 item, each a non-empty string',
      'tables["public.orders"].priority: received "urgent", expected one of "high", "normal", "low"',
      'shedding.deferPriorities[0]: received "high", expected one of "normal", "low"',
      'scaling.targetUtilization: received 0.2, expected a number from 0.5 to 1',
    ]);
  });

  it('refuses an unknown setting, suggests the near name and lists the known ones', () => {
    const [violation] = violationsOf({ processing: { maxAtempts: 5 } });

    expect(violation!.path).toBe('processing.maxAtempts');
    expect(violation!.received).toBe('5');
    expect(violation!.expected).toBe(
      'no setting named "maxAtempts" here (did you mean "maxAttempts"?); the settings of processing are ' +
        'maxAttempts, aggregateConcurrency, tombstoneTtlSeconds, maxRecordBytes, faultInjection',
    );
  });

  it('describes a wrong type of a whole section with its settings', () => {
    const [violation] = violationsOf({ locks: 'fast' });

    expect(violation!.message).toBe(
      'locks: received "fast", expected an object with the settings leaseDurationMs, heartbeatsPerLease, waitMs, clockSkewAllowanceMs',
    );
  });

  it('refuses a document that is not an object', () => {
    const [violation] = violationsOf([1, 2]);

    expect(violation!.path).toBe('(document)');
    expect(violation!.received).toBe('[1,2] (list)');
    expect(violation!.expected).toMatch(/^an object with the settings version, publishedAt, processing/);
  });

  it('reports the cross-field rule with both values', () => {
    const [violation] = violationsOf({ scaling: { minShards: 10, maxShards: 4 } });

    expect(violation!.message).toBe('scaling.minShards: received 10, expected at most scaling.maxShards (4)');
  });

  it('reports the cross-field rule alongside other violations, against the default of an absent setting', () => {
    const violations = violationsOf({ processing: { maxAtempts: 3 }, scaling: { minShards: 100 } });

    expect(violations.map((v) => v.message)).toEqual([
      expect.stringMatching(/^processing\.maxAtempts: received 3, expected no setting named "maxAtempts"/),
      'scaling.minShards: received 100, expected at most scaling.maxShards (64)',
    ]);
  });

  it('points at the list item at fault and shortens long values', () => {
    const [violation] = violationsOf({ tables: { t: { keyColumns: ['x'.repeat(200), ''] } } });

    expect(violation!.path).toBe('tables.t.keyColumns[1]');
    expect(violation!.received).toBe('""');
    const [long] = violationsOf({ processing: { maxAttempts: 'x'.repeat(200) } });
    expect(long!.received).toBe(`"${'x'.repeat(76)}...`);
  });
});

describe('Function: parseConfigText', () => {
  it('says where the JSON breaks and what it received', () => {
    const error = (() => {
      try {
        parseConfigText('{"processing": {', 'config.json');
      } catch (e) {
        return e as ConfigValidationError;
      }
      throw new Error('expected a failure');
    })();

    expect(error).toBeInstanceOf(ConfigValidationError);
    expect(error.violations).toEqual([]);
    expect(error.message).toMatch(
      /^config\.json is not valid JSON \(.+position 16\); received "\{\\"processing\\": \{"/,
    );
    expect(error.message).toContain('cdcp config validate FILE');
  });

  it('calls an empty file an empty document', () => {
    expect(() => parseConfigText('  \n', 'config.json')).toThrow(/received an empty document/);
  });
});

describe('Function: parseConfigDocument', () => {
  it('throws one error that counts and lists the violations and says what to do', () => {
    expect(() =>
      parseConfigDocument({ processing: { maxAttempts: 0, faultInjection: 'yes' } }, 'my.json'),
    ).toThrow(
      'my.json has 2 problems:\n' +
        '  - processing.maxAttempts: received 0, expected an integer from 1 to 1000\n' +
        '  - processing.faultInjection: received "yes", expected true or false\n' +
        'Fix each setting (docs/configuration.md lists them with their defaults; `cdcp config defaults` prints a valid document).',
    );
  });
});

describe('Function: formatPath', () => {
  it('uses dots for names and brackets for table names and indexes', () => {
    expect(formatPath(['tables', 'public.orders', 'keyColumns', 0])).toBe(
      'tables["public.orders"].keyColumns[0]',
    );
    expect(formatPath([])).toBe('(document)');
  });
});
