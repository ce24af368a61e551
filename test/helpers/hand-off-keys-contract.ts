import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type HandOffKeys, MAX_HAND_OFF_KEY_BYTES } from '../../core/workers/hand-off-keys.js';

/**
 * The behaviour every `HandOffKeys` must have. Runs against the in-memory twin (unit) and DynamoDB Local
 * (integration).
 */
function describeHandOffKeysContract(name: string, make: () => Promise<HandOffKeys>): void {
  const shard = () => `shardId-${randomUUID().slice(0, 12)}`;

  describe(`HandOffKeys contract: ${name}`, () => {
    it('reads no ids for a shard nobody let go', async () => {
      const keys = await make();

      expect(await keys.read(shard())).toEqual([]);
    });

    it('reads the ids the last owner left, in its order, whatever they hold', async () => {
      // Prepare
      const keys = await make();
      const shardId = shard();
      const ids = ['public.orders#2', 'public.orders#1', 'public.t#{"a":"é 😀"}', 'x'.repeat(2_000)];

      // Act
      await keys.publish(shardId, ['old#1']);
      await keys.publish(shardId, ids);

      // Assert
      expect(await keys.read(shardId)).toEqual(ids);
    });

    it('keeps the first ids that fit in the byte bound, and leaves an empty list as none', async () => {
      // Prepare
      const keys = await make();
      const [full, empty] = [shard(), shard()];
      const ids = Array.from(
        { length: 20_000 },
        (_, i) => `public.order_lines#${String(i).padStart(15, '0')}`,
      );

      // Act
      await keys.publish(full, ids);
      await keys.publish(empty, []);

      // Assert
      const kept = await keys.read(full);
      expect(kept).toEqual(ids.slice(0, kept.length));
      expect(kept.length).toBe(Math.floor(MAX_HAND_OFF_KEY_BYTES / (ids[0]!.length + 1)));
      expect(await keys.read(empty)).toEqual([]);
    });
  });
}

export { describeHandOffKeysContract };
