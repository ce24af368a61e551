import { describe, expect, it } from 'vitest';
import type { RowImage } from '../../../core/events/change.js';
import { parseJsonExact } from '../../../core/events/exact-json.js';
import { parseRunArgs } from '../../../localstack/run/args.js';
import type { StateRow } from '../../../localstack/run/state-scan.js';
import { verifyAgainstModel } from '../../../localstack/run/verify.js';
import { WorkloadGenerator } from '../../../localstack/workload/generator.js';
import { ExpectedModel } from '../../../localstack/workload/model.js';
import { seededRandom, zipfSampler } from '../../../localstack/workload/random.js';
import { orderChange } from '../../helpers/changes.js';

/** The row the model expects for one aggregate, as the state table would hold it. */
function rowOf(model: ExpectedModel, aggregateId: string): StateRow {
  const a = model.get(aggregateId)!;
  return {
    aggregateId,
    deleted: a.deleted,
    position: a.position,
    state: a.state,
    quarantined: a.quarantined,
  };
}

function stateOf(generator: WorkloadGenerator): Map<string, StateRow> {
  const rows = new Map<string, StateRow>();
  for (const a of generator.model.aggregates())
    rows.set(a.aggregateId, {
      aggregateId: a.aggregateId,
      deleted: a.deleted,
      position: a.position,
      state: a.state,
      quarantined: a.quarantined,
    });
  return rows;
}

describe('Class: WorkloadGenerator', () => {
  it('is deterministic for a seed and emits growing positions', () => {
    const a = new WorkloadGenerator({ seed: 5, aggregates: 100 });
    const b = new WorkloadGenerator({ seed: 5, aggregates: 100 });
    const first = Array.from({ length: 200 }, () => a.next());
    const second = Array.from({ length: 200 }, () => b.next());
    expect(first.map((e) => e.data.toString())).toEqual(second.map((e) => e.data.toString()));
    const positions = first.map((e) => e.change.position);
    expect(positions).toEqual([...positions].sort());
    expect(new Set(first.map((e) => e.change.op))).toEqual(new Set(['create', 'update', 'delete', 'read']));
  });

  it('injects poison on distinct aggregates and expects them parked from the poison on', () => {
    const generator = new WorkloadGenerator({ seed: 9, aggregates: 200, poison: 4, poisonWithin: 400 });
    const events = Array.from({ length: 1000 }, () => generator.next());
    const poisoned = events.filter((e) => e.poison);
    expect(poisoned).toHaveLength(4);
    expect(new Set(poisoned.map((e) => e.partitionKey)).size).toBe(4);
    for (const p of poisoned) {
      const expected = generator.model.get(p.partitionKey)!;
      expect(expected.quarantined).toBe(true);
      expect(expected.parkedPositions[0]).toBe(p.change.position);
      const later = events.filter(
        (e) => e.partitionKey === p.partitionKey && e.change.position > p.change.position,
      );
      expect(expected.parkedPositions.slice(1)).toEqual(later.map((e) => e.change.position));
    }
  });
});

describe('Function: zipfSampler', () => {
  it('favours low ranks as Zipf does', () => {
    const next = zipfSampler(1000, 1.1, seededRandom(1));
    const counts = new Array(1000).fill(0);
    for (let i = 0; i < 50_000; i++) counts[next()]++;
    expect(counts[0]).toBeGreaterThan(counts[1]);
    expect(counts[1]).toBeGreaterThan(counts[10]);
    // Rank 0 carries about 1/H(1000, 1.1) ≈ 17% of the draws.
    expect(counts[0] / 50_000).toBeGreaterThan(0.13);
    expect(counts[0] / 50_000).toBeLessThan(0.21);
  });
});

describe('Function: verifyAgainstModel', () => {
  it('accepts the state the model describes and names each difference otherwise', () => {
    const generator = new WorkloadGenerator({ seed: 2, aggregates: 50 });
    for (let i = 0; i < 300; i++) generator.next();
    const state = stateOf(generator);
    expect(verifyAgainstModel(generator.model, state, []).verified).toBe(true);
    const [first, second] = [...state.keys()];
    const bad = new Map(state);
    bad.set(first!, { ...bad.get(first!)!, position: 'pg:0' });
    bad.delete(second!);
    bad.set('public.ghost#1', {
      aggregateId: 'public.ghost#1',
      deleted: false,
      position: 'x',
      state: {},
      quarantined: false,
    });
    const result = verifyAgainstModel(generator.model, bad, []);
    expect(result.verified).toBe(false);
    expect(result.differenceCount).toBe(3);
    expect(result.differences.join('\n')).toContain(`${second}: missing from the state table`);
    expect(result.differences.join('\n')).toContain('public.ghost#1: in the state table but never produced');
  });

  it('reports a row nested 100,000 levels deep as a difference instead of throwing a RangeError', () => {
    const model = new ExpectedModel();
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    model.apply({ ...orderChange(1, 10, 'create'), after: { id: 1, deep } });
    const state = new Map<string, StateRow>([
      [
        'public.orders#1',
        {
          ...rowOf(model, 'public.orders#1'),
          position: 'pg:1',
          state: { id: 1, deep: [] },
          quarantined: false,
        },
      ],
    ]);

    const result = verifyAgainstModel(model, state, []);

    // The model parks it (DynamoDB stores 32 levels): the stored row differs, and each difference is a line.
    expect(result.verified).toBe(false);
    expect(result.differences).toEqual([
      'public.orders#1: position pg:1, expected undefined',
      'public.orders#1: state {"id":1,"deep":[]}, expected null',
      'public.orders#1: quarantined=false, expected true',
      `public.orders#1: parked positions [], expected [${orderChange(1, 10).position}]`,
    ]);
  });

  it('compares exact numbers by value and mark, and keys in any order', () => {
    const model = new ExpectedModel();
    model.apply({
      ...orderChange(1, 10, 'create'),
      after: parseJsonExact(
        '{"id": 1, "d": 1234567890123456789012.50, "n": 12345678901234567890}',
      ) as RowImage,
    });
    const same = parseJsonExact(
      '{"n": 12345678901234567890, "d": 1234567890123456789012.5, "id": 1}',
    ) as RowImage;
    const unmarked = { id: 1, d: '1234567890123456789012.5', n: '12345678901234567890' };
    const row = (state: RowImage) =>
      new Map([['public.orders#1', { ...rowOf(model, 'public.orders#1'), state }]]);

    expect(verifyAgainstModel(model, row(same), []).verified).toBe(true);
    expect(verifyAgainstModel(model, row(unmarked), []).verified).toBe(false);
  });
});

describe('Class: ExpectedModel', () => {
  it('counts each change as applied, a duplicate or parked, and parks a change DynamoDB would refuse', () => {
    const model = new ExpectedModel();

    model.apply(orderChange(1, 10, 'create'));
    model.apply(orderChange(1, 9));
    model.apply({ ...orderChange(1, 11), after: { id: 1, '': 'empty column name' } });
    model.apply(orderChange(1, 12));
    model.apply({ ...orderChange(2, 5, 'create'), after: { id: 2, blob: 'x'.repeat(450_000) } });
    model.badInput();
    model.noChange();

    expect(model.counts).toEqual({ applied: 1, duplicates: 1, parked: 4, noChange: 1 });
    expect(model.get('public.orders#1')).toMatchObject({
      position: orderChange(1, 10).position,
      quarantined: true,
      parkedPositions: [orderChange(1, 11).position, orderChange(1, 12).position],
    });
    // Its first change was refused: the item holds only the quarantine, no position.
    expect(model.get('public.orders#2')).toMatchObject({ position: undefined, quarantined: true });
  });
});

describe('Function: parseRunArgs', () => {
  it('parses the documented flags', () => {
    const args = parseRunArgs([
      '--events',
      '20000',
      '--until-drained',
      '--inject-duplicates',
      '0.1',
      '--inject-poison',
      '25',
      '--parallelization',
      '4',
      '--kinesis-engine',
      'kinesis-mock',
      '--json',
      '--dump-parked',
      '-',
    ]);
    expect(args).toMatchObject({
      events: 20000,
      untilDrained: true,
      injectDuplicates: 0.1,
      injectPoison: 25,
      parallelization: 4,
      kinesisEngine: 'kinesis-mock',
      json: true,
      dumpParked: '-',
    });
  });

  it("takes the failure-detection window of the run, or leaves the configuration's", () => {
    expect(parseRunArgs(['--failure-detection-ms', '3000']).failureDetectionMs).toBe(3000);
    expect(parseRunArgs([]).failureDetectionMs).toBeUndefined();
  });

  it.each([
    [['--batch-size', '0'], '--batch-size must be an integer from 1 to 10000; received "0"'],
    [['--inject-duplicates', '2'], '--inject-duplicates must be a number from 0 to 1; received "2"'],
    [['--kinesis-engine', 'kafka'], 'received "kafka"'],
    [['--until-drained'], '--until-drained needs --events N or --input FILE'],
    [['--frobnicate'], "Unknown option '--frobnicate'"],
    [
      ['--failure-detection-ms', '500'],
      '--failure-detection-ms must be an integer from 2000 to 600000; received "500"',
    ],
  ])('rejects %j with a message naming the value', (argv, message) => {
    expect(() => parseRunArgs(argv)).toThrow(message);
  });
});
