import { describe, expect, it } from 'vitest';
import {
  type ChangeEvent,
  createDecodeContext,
  createDefaultRegistry,
  debeziumSourceId,
  dynamodbSourceId,
} from '../../../core/events/index.js';
import { fixtureJson, fixtureLines, originAt } from './fixtures.js';

const noConfig = createDecodeContext();

function decodeValues(values: readonly unknown[]): ChangeEvent[] {
  const registry = createDefaultRegistry();
  return values.flatMap((value, i) => registry.decodeValue(value, originAt(1000 + i), noConfig).changes);
}

describe('Function: source identities', () => {
  it('names a Debezium change by its logical server name: debezium/debezium-postgres-snapshot-read-with-schema-customers.json', () => {
    const changes = decodeValues(
      fixtureJson('debezium/debezium-postgres-snapshot-read-with-schema-customers.json') as unknown[],
    );

    expect(changes.length).toBe(4);
    expect(new Set(changes.map((c) => c.source))).toEqual(new Set(['debezium:dbserver1']));
  });

  it('names a DMS change dms, its task being unnamed in data records: aws-dms/dms-postgres-load-insert-update-pkchange-delete-sequence-commons-codec.jsonl', () => {
    const changes = decodeValues(
      fixtureLines('aws-dms/dms-postgres-load-insert-update-pkchange-delete-sequence-commons-codec.jsonl'),
    );

    expect(changes.length).toBeGreaterThan(3);
    expect(new Set(changes.map((c) => c.source))).toEqual(new Set(['dms']));
  });

  it('names a DynamoDB change by region and table, and by table alone without a region', () => {
    const [withRegion] = fixtureLines(
      'dynamodb-kinesis/ddb-kds-insert-modify-remove-composite-key-microsecond-lorrystream.jsonl',
    ) as Record<string, unknown>[];
    const { awsRegion: _region, ...withoutRegion } = withRegion!;

    expect(decodeValues([withRegion, withoutRegion]).map((c) => c.source)).toEqual([
      'dynamodb:us-east-1/table-testdrive',
      'dynamodb:table-testdrive',
    ]);
  });

  it('takes the region of a DynamoDB Streams record without awsRegion from its stream ARN', () => {
    const [withRegion] = fixtureLines(
      'dynamodb-kinesis/ddb-kds-insert-modify-remove-composite-key-microsecond-lorrystream.jsonl',
    ) as Record<string, unknown>[];
    const { awsRegion: _region, tableName: _table, ...rest } = withRegion!;
    const fromStream = {
      ...rest,
      eventSourceARN:
        'arn:aws:dynamodb:eu-west-1:123456789012:table/table-testdrive/stream/2024-07-12T01:17:42.000',
    };

    expect(decodeValues([fromStream]).map((c) => c.source)).toEqual(['dynamodb:eu-west-1/table-testdrive']);
  });

  it('falls back to the connector when the name is absent or a documentation placeholder', () => {
    expect(debeziumSourceId({ name: '{context}' }, 'mysql')).toBe('debezium:mysql');
    expect(debeziumSourceId({}, 'postgresql')).toBe('debezium:postgresql');
    expect(debeziumSourceId({ name: 'inventory-outbox' }, 'postgresql')).toBe('debezium:inventory-outbox');
  });

  it('names a flattened Debezium row by __name', () => {
    const [change] = decodeValues([
      {
        id: 1,
        __table: 'customers',
        __db: 'inventory',
        __name: 'dbserver2',
        __file: 'mysql-bin.000003',
        __pos: 154,
      },
    ]);

    expect(change?.source).toBe('debezium:dbserver2');
  });

  it('keeps a source id short whatever the name', () => {
    expect(debeziumSourceId({ name: 'x'.repeat(5_000) }, 'mysql').length).toBe(200);
    expect(dynamodbSourceId('', 't')).toBe('dynamodb:t');
  });
});
