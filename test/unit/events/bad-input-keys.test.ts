import { describe, expect, it } from 'vitest';
import { createDecodeContext } from '../../../core/events/decode-context.js';
import { createDefaultRegistry } from '../../../core/events/default-registry.js';

describe('Aggregate ids too long to key an item', () => {
  it('are bad input with KEY_TOO_LONG', () => {
    const envelope = {
      before: null,
      after: { id: 'x'.repeat(2000) },
      source: { connector: 'postgresql', schema: 'public', table: 't', lsn: 10, sequence: '["9","10"]' },
      op: 'c',
    };
    const origin = {
      shardId: 's',
      sequenceNumber: '1',
      subSequenceNumber: 0,
      partitionKey: 'p',
      approximateArrivalTimestamp: 0,
    };
    expect(() =>
      createDefaultRegistry().decode(Buffer.from(JSON.stringify(envelope)), origin, createDecodeContext()),
    ).toThrow(
      expect.objectContaining({
        code: 'KEY_TOO_LONG',
        message: expect.stringContaining('2009 bytes, above 1024'),
      }),
    );
  });
});
