import { type AttributeValue, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { STATE_TABLE } from '../../../core/constants.js';
import { messageOf } from '../../../core/errors.js';
import { itemSize, MAX_ITEM_BYTES } from '../../../core/state/item-size.js';
import {
  fieldStampsAttribute,
  positionsAttribute,
  stampAttribute,
} from '../../../core/state/source-marks.js';
import { testClients } from '../../helpers/engines.js';
import { createStoreTable } from '../../helpers/state-tables.js';

const clients = testClients();
afterAll(() => clients.destroy());
const table = createStoreTable(clients.dynamodb, 'state');

/** Puts `value` beside a string padded so that `itemSize` counts the item at the limit plus `extra` bytes. */
async function putAtLimit(value: AttributeValue, extra: number): Promise<'stored' | string> {
  const base = { [STATE_TABLE.partitionKey]: { S: `size#${extra}` }, v: value, p: { S: '' } };
  const padding = MAX_ITEM_BYTES - itemSize(base) + extra;
  try {
    await clients.dynamodb.send(
      new PutItemCommand({ TableName: await table, Item: { ...base, p: { S: 'x'.repeat(padding) } } }),
    );
    return 'stored';
  } catch (error) {
    return messageOf(error);
  }
}

const VALUES: Record<string, AttributeValue> = {
  'integers of odd and even length': {
    L: ['1', '12', '123', '1234', '100', '9223372036854775807'].map((N) => ({ N })),
  },
  'decimals aligned either way': {
    L: ['1.5', '12.3', '0.01', '123.4', '0.5', '00012.500'].map((N) => ({ N })),
  },
  'negative numbers, short and 38 digits': {
    L: [
      '-1',
      '-0.5',
      '-1234',
      '-12345678901234567890123456789012345678',
      '-1.2345678901234567890123456789012345678',
    ].map((N) => ({ N })),
  },
  'numbers at the ends of the range': {
    L: ['1e125', '1e-130', '9.9999999999999999999999999999999999999E+125', '0'].map((N) => ({ N })),
  },
  'a list of 10,000 single digits': { L: Array.from({ length: 10_000 }, () => ({ N: '7' })) },
  'maps with non-ASCII names, nested': {
    M: { é: { M: { 정류장: { S: '서울역' }, e: { L: [] } } }, x: { M: {} } },
  },
  'the source maps of a state item: positions, writer, field stamps': {
    M: {
      positions: positionsAttribute(
        new Map([
          ['debezium:dbserver1', `pg:${'0'.repeat(20)}:${'1'.repeat(20)}`],
          ['dms', `tm:${'2'.repeat(20)}:${'3'.repeat(129)}:${'0'.repeat(10)}`],
        ]),
      ),
      writer: stampAttribute({ source: 'dms', ts: 1_722_214_697_983, position: 'tm:1' }),
      fieldStamps: fieldStampsAttribute({
        fields: new Map([
          ['__proto__', { source: 'dms', ts: 1, position: 'tm:1' }],
          ['name', { source: 'debezium:dbserver1', ts: 1_722_214_697_983, position: 'pg:2' }],
          ['age', { source: 'dms', ts: 1, position: 'tm:1' }],
        ]),
        deleted: { source: 'dms', ts: 0, position: 'tm:0' },
      }),
    },
  },
  'booleans, nulls, binary and sets': {
    L: [
      { BOOL: true },
      { NULL: true },
      { B: Uint8Array.of(1, 2, 3) },
      { SS: ['a', 'bb'] },
      { NS: ['1', '-12.5'] },
    ],
  },
};

describe('Function: itemSize against DynamoDB Local', () => {
  it.each(Object.entries(VALUES))(
    'counts %s as the engine does: at the limit stored, one byte more refused',
    async (_, value) => {
      expect(await putAtLimit(value, 0)).toBe('stored');
      expect(await putAtLimit(value, 1)).toMatch(/Item size has exceeded the maximum allowed size/);
    },
  );
});
