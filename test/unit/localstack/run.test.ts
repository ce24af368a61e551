import { describe, expect, it } from 'vitest';
import { parseRunArgs } from '../../../localstack/run/args.js';
import type { StateRow } from '../../../localstack/run/state-scan.js';
import { verifyAgainstModel } from '../../../localstack/run/verify.js';
import { WorkloadGenerator } from '../../../localstack/workload/generator.js';
import { seededRandom, zipfSampler } from '../../../localstack/workload/random.js';

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
    ]);
    expect(args).toMatchObject({
      events: 20000,
      untilDrained: true,
      injectDuplicates: 0.1,
      injectPoison: 25,
      parallelization: 4,
      kinesisEngine: 'kinesis-mock',
      json: true,
    });
  });

  it.each([
    [['--batch-size', '0'], '--batch-size must be an integer from 1 to 10000; received "0"'],
    [['--inject-duplicates', '2'], '--inject-duplicates must be a number from 0 to 1; received "2"'],
    [['--kinesis-engine', 'kafka'], 'received "kafka"'],
    [['--until-drained'], '--until-drained needs --events N or --input FILE'],
    [['--frobnicate'], "Unknown option '--frobnicate'"],
  ])('rejects %j with a message naming the value', (argv, message) => {
    expect(() => parseRunArgs(argv)).toThrow(message);
  });
});
