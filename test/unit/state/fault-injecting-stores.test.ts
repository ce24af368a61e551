import { describe, expect, it } from 'vitest';
import {
  FaultInjectingParkedStore,
  FaultInjectingStateStore,
  InMemoryParkedStore,
  InMemoryStateStore,
  StateStoreError,
} from '../../../core/state/index.js';
import { orderChange } from '../../helpers/changes.js';
import { parkedChange } from '../../helpers/parked-store-contract.js';

const value = (position: string) => ({ table: 't', position, deleted: false, state: { position } });

async function failure(promise: Promise<unknown>): Promise<StateStoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof StateStoreError))
    throw new Error(`expected a StateStoreError, got ${String(error)}`);
  return error;
}

describe('Class: FaultInjectingStateStore', () => {
  it('refuses a throttled or timed-out request without applying it, as a StateStoreError with the cause', async () => {
    // Prepare
    const inner = new InMemoryStateStore();
    const store = new FaultInjectingStateStore(inner);
    store.inject({ kind: 'throttle', operations: ['write'] });
    store.inject({ kind: 'timeout', operations: ['write'] });

    // Act
    const throttled = await failure(store.write('a', { value: value('1') }, { kind: 'newer' }));
    const timedOut = await failure(store.write('a', { value: value('1') }, { kind: 'newer' }));

    // Assert
    expect(throttled).toMatchObject({ operation: 'write', message: 'write failed: simulated throttling' });
    expect((throttled.cause as Error).name).toBe('ProvisionedThroughputExceededException');
    expect((timedOut.cause as Error).name).toBe('TimeoutError');
    expect(await inner.get('a')).toBeUndefined();
    expect(store.injected).toEqual([
      { operation: 'write', kind: 'throttle' },
      { operation: 'write', kind: 'timeout' },
    ]);
  });

  it('applies a request whose response is lost, then fails it', async () => {
    const inner = new InMemoryStateStore();
    const store = new FaultInjectingStateStore(inner);
    store.inject({ kind: 'lost-response' });

    await failure(store.write('a', { value: value('1') }, { kind: 'newer' }));

    expect(await store.get('a')).toMatchObject({ position: '1', revision: 1 });
  });

  it('runs an interleaved request first, so the caller loses its condition', async () => {
    const inner = new InMemoryStateStore();
    const store = new FaultInjectingStateStore(inner);
    await store.write('a', { value: value('1') }, { kind: 'newer' });
    const read = await store.get('a');
    store.inject({
      kind: 'interleave',
      operations: ['write'],
      before: async () => {
        await inner.write('a', { value: value('2') }, { kind: 'newer' });
      },
    });

    const out = await store.write('a', { value: value('3') }, { kind: 'revision', expected: read });

    expect(out).toMatchObject({ committed: false, current: { position: '2', revision: 2 } });
  });

  it('hits only the operations and the number of requests it names, until cleared', async () => {
    const store = new FaultInjectingStateStore(new InMemoryStateStore());
    store.inject({ kind: 'throttle', operations: ['getMany'], times: 2 });

    await store.get('a');
    await failure(store.getMany(['a']));
    await failure(store.getMany(['a']));
    await store.getMany(['a']);
    store.inject({ kind: 'throttle' });
    store.clear();
    await store.get('a');

    expect(store.injected.map((f) => f.operation)).toEqual(['getMany', 'getMany']);
  });
});

describe('Class: FaultInjectingParkedStore', () => {
  it('fails the parked operations it is told to, and passes the others through', async () => {
    const inner = new InMemoryParkedStore();
    const store = new FaultInjectingParkedStore(inner);
    const item = parkedChange(orderChange(1, 10), 1);
    store.inject({ kind: 'timeout', operations: ['put'] });
    store.inject({ kind: 'timeout', operations: ['delete'] });
    store.inject({ kind: 'lost-response', operations: ['delete'] });
    store.inject({ kind: 'throttle', operations: ['listAggregate', 'scanAll'], times: 2 });

    const put = await failure(store.put([item]));
    await store.put([item]);
    const deleted = await failure(store.delete([item]));
    const lostDelete = await failure(store.delete([item]));
    const listed = await failure(store.listAggregate('public.orders#1'));
    const scanned = await failure(store.scanAll());

    expect([put, deleted, lostDelete, listed, scanned].map((e) => e.operation)).toEqual([
      'put',
      'delete',
      'delete',
      'listAggregate',
      'scanAll',
    ]);
    expect(await store.scanAll()).toEqual([]);
    expect(store.injected.map((f) => f.kind)).toEqual([
      'timeout',
      'timeout',
      'lost-response',
      'throttle',
      'throttle',
    ]);
    store.inject({ kind: 'throttle' });
    store.clear();
    expect(await store.listAggregate('public.orders#1')).toEqual([]);
  });
});
