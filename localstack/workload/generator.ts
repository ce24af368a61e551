import { aggregateIdOf } from '../../core/events/aggregate-id.js';
import type { ChangeEvent, RowImage } from '../../core/events/change.js';
import { postgresPosition } from '../../core/events/position.js';
import type { Projection } from '../../core/processing/projection.js';
import { FAULT_INJECTION_COLUMN } from '../../core/processing/projection.js';
import { ExpectedModel } from './model.js';
import { seededRandom, zipfSampler } from './random.js';

/** Key columns of the generated tables, as the consumer must be configured (order lines have a composite key). */
const WORKLOAD_TABLES = {
  'public.customers': { keyColumns: ['id'] },
  'public.orders': { keyColumns: ['id'] },
  'public.order_lines': { keyColumns: ['order_id', 'line_no'] },
} as const;

/** One generated record, ready for the producer, and the change it must decode to. */
interface GeneratedEvent {
  readonly partitionKey: string;
  readonly data: Buffer;
  readonly change: ChangeEvent;
  readonly poison: boolean;
}

interface WorkloadOptions {
  /** @default 1 */
  readonly seed?: number;
  /** Distinct aggregates across the three tables. @default 10_000 */
  readonly aggregates?: number;
  /** Zipf exponent of the aggregate choice. @default 1.1 */
  readonly zipfExponent?: number;
  /** Poison changes to inject, each on a distinct aggregate, spread over the first `poisonWithin` events. */
  readonly poison?: number;
  /** @default 10_000 */
  readonly poisonWithin?: number;
  /** The projection the model folds changes with (`npm start -- --projection`). @default the mirror */
  readonly projection?: Projection;
  /**
   * Stamps each change's source commit time (`source.ts_ms`, epoch ms) as a live source would: `Date.now`
   * makes source-to-applied latency measurable. @default a synthetic clock from 2026-11-01 that moves 1–20 ms
   * per change, so that a seed gives the same records every time
   */
  readonly commitClock?: () => number;
}

interface AggregateSlot {
  readonly table: keyof typeof WORKLOAD_TABLES;
  readonly key: RowImage;
  row: RowImage | null;
  poisoned: boolean;
}

const STATUSES = ['pending', 'paid', 'packed', 'shipped', 'delivered', 'cancelled'];
const TIERS = ['free', 'silver', 'gold', 'platinum'];
const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Leslie'];
const LAST = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Allen',
  'Thompson',
  'Perlman',
  'Lamport',
];

/**
 * A realistic CDC workload: customers, orders and order lines in Postgres, emitted as Debezium Postgres
 * envelopes with growing LSNs; creates, updates and deletes (and re-creates) over a Zipf-skewed choice of
 * aggregates. It keeps the expected final state of every aggregate in an {@link ExpectedModel}.
 *
 * @example
 * ```ts
 * const workload = new WorkloadGenerator({ seed: 7, poison: 25 });
 * const event = workload.next();
 * ```
 */
class WorkloadGenerator {
  public readonly model: ExpectedModel;
  readonly #random: () => number;
  readonly #pick: () => number;
  readonly #slots: AggregateSlot[];
  readonly #poisonAt: Set<number>;
  #produced = 0;
  #lsn = 33_554_432;
  #lastCommitLsn = 33_554_000;
  #txId = 1000;
  #clockMs = Date.UTC(2026, 10, 1);
  readonly #commitClock: (() => number) | undefined;

  public constructor(options: WorkloadOptions = {}) {
    this.#commitClock = options.commitClock;
    this.model = new ExpectedModel({ projection: options.projection });
    this.#random = seededRandom(options.seed ?? 1);
    const count = options.aggregates ?? 10_000;
    this.#pick = zipfSampler(count, options.zipfExponent ?? 1.1, this.#random);
    this.#slots = this.#makeSlots(count);
    const within = Math.max(options.poisonWithin ?? 10_000, (options.poison ?? 0) * 4);
    this.#poisonAt = new Set<number>();
    while (this.#poisonAt.size < (options.poison ?? 0))
      this.#poisonAt.add(Math.floor(this.#random() * within));
  }

  public get produced(): number {
    return this.#produced;
  }

  /** The next change event (ordinary or poison); updates the model. */
  public next(): GeneratedEvent {
    const index = this.#produced++;
    if (this.#poisonAt.has(index)) {
      const victim = this.#pickPoisonVictim();
      if (victim !== undefined) return this.#emitPoison(victim);
      this.#poisonAt.add(index + 1);
    }
    return this.#emit(this.#slots[this.#pick()]!);
  }

  /**
   * One change for each aggregate that has no row yet, in slot order, as a connector's initial snapshot reads
   * every row: afterwards every aggregate exists, so what follows measures a steady state rather than the
   * creation of the Zipf tail (which takes about a million events over 10,000 aggregates). Updates the model.
   */
  public *snapshot(): Generator<GeneratedEvent> {
    for (const slot of this.#slots)
      if (slot.row === null && !slot.poisoned) {
        this.#produced++;
        yield this.#emit(slot);
      }
  }

  /** A live, not yet poisoned aggregate, chosen uniformly (not by heat). */
  #pickPoisonVictim(): AggregateSlot | undefined {
    for (let tries = 0; tries < 200; tries++) {
      const slot = this.#slots[Math.floor(this.#random() * this.#slots.length)]!;
      if (slot.row !== null && !slot.poisoned) return slot;
    }
    return this.#slots.find((s) => s.row !== null && !s.poisoned);
  }

  #makeSlots(count: number): AggregateSlot[] {
    const slots: AggregateSlot[] = [];
    const customers = Math.max(1, Math.floor(count * 0.2));
    const orders = Math.max(1, Math.floor(count * 0.4));
    for (let i = 0; i < customers; i++)
      slots.push({ table: 'public.customers', key: { id: i + 1 }, row: null, poisoned: false });
    for (let i = 0; i < orders; i++)
      slots.push({ table: 'public.orders', key: { id: 100_000 + i }, row: null, poisoned: false });
    for (let i = 0; slots.length < count; i++)
      slots.push({
        table: 'public.order_lines',
        key: { order_id: 100_000 + (i % orders), line_no: 1 + Math.floor(i / orders) },
        row: null,
        poisoned: false,
      });
    // Shuffle so the hottest ranks fall on all three tables.
    for (let i = slots.length - 1; i > 0; i--) {
      const j = Math.floor(this.#random() * (i + 1));
      [slots[i], slots[j]] = [slots[j]!, slots[i]!];
    }
    return slots;
  }

  #row(slot: AggregateSlot): RowImage {
    const r = this.#random;
    const cents = (max: number) => (Math.floor(r() * max * 100) / 100).toFixed(2);
    const updatedAt = new Date(this.#clockMs).toISOString();
    switch (slot.table) {
      case 'public.customers': {
        const first = FIRST[Math.floor(r() * FIRST.length)]!;
        const last = LAST[Math.floor(r() * LAST.length)]!;
        return {
          ...slot.key,
          name: `${first} ${last}`,
          email: `${first.toLowerCase()}.${last.toLowerCase()}${slot.key.id}@example.com`,
          tier: TIERS[Math.floor(r() * TIERS.length)]!,
          balance: cents(5000),
          updated_at: updatedAt,
        };
      }
      case 'public.orders':
        return {
          ...slot.key,
          customer_id: 1 + Math.floor(r() * 2000),
          status: STATUSES[Math.floor(r() * STATUSES.length)]!,
          total: cents(2000),
          currency: 'EUR',
          item_count: 1 + Math.floor(r() * 9),
          updated_at: updatedAt,
        };
      default:
        return {
          ...slot.key,
          sku: `SKU-${String(Math.floor(r() * 100_000)).padStart(6, '0')}`,
          quantity: 1 + Math.floor(r() * 5),
          unit_price: cents(300),
        };
    }
  }

  #emit(slot: AggregateSlot): GeneratedEvent {
    let op: 'c' | 'u' | 'd' | 'r';
    const before = slot.row;
    let after: RowImage | null;
    if (before === null) {
      op = this.#random() < 0.1 ? 'r' : 'c';
      after = this.#row(slot);
    } else if (this.#random() < 0.06) {
      op = 'd';
      after = null;
    } else {
      op = 'u';
      after = this.#row(slot);
    }
    slot.row = after;
    const event = this.#envelope(slot, op, before, after);
    this.model.apply(event.change);
    return event;
  }

  #emitPoison(slot: AggregateSlot): GeneratedEvent {
    slot.poisoned = true;
    const after = { ...slot.row!, [FAULT_INJECTION_COLUMN]: 'injected poison change' };
    const event = this.#envelope(slot, 'u', slot.row, after);
    this.model.poison(event.change);
    return { ...event, poison: true };
  }

  #envelope(
    slot: AggregateSlot,
    op: 'c' | 'u' | 'd' | 'r',
    before: RowImage | null,
    after: RowImage | null,
  ): GeneratedEvent {
    // Each change commits in its own transaction; the commit LSN of the previous transaction and this
    // change's LSN form Debezium's `sequence`, which orders changes in commit order.
    // The step is drawn either way, so that a seed gives the same rows with or without a commit clock.
    const stepMs = 1 + Math.floor(this.#random() * 20);
    this.#clockMs = this.#commitClock?.() ?? this.#clockMs + stepMs;
    this.#lsn += 40 + Math.floor(this.#random() * 400);
    const lsn = this.#lsn;
    const lastCommitLsn = this.#lastCommitLsn;
    this.#lastCommitLsn = lsn + 8;
    this.#lsn += 16;
    const txId = ++this.#txId;
    const [schema, table] = slot.table.split('.') as [string, string];
    const envelope = {
      before,
      after,
      source: {
        version: '2.7.3.Final',
        connector: 'postgresql',
        name: 'dbserver1',
        ts_ms: this.#clockMs,
        snapshot: op === 'r' ? 'true' : 'false',
        db: 'inventory',
        sequence: JSON.stringify([String(lastCommitLsn), String(lsn)]),
        schema,
        table,
        txId,
        lsn,
        xmin: null,
      },
      op,
      ts_ms: this.#clockMs + 3,
      transaction: op === 'r' ? null : { id: `${txId}:${lsn}`, total_order: 1, data_collection_order: 1 },
    };
    const keyValues = WORKLOAD_TABLES[slot.table].keyColumns.map((c) => slot.key[c]);
    const aggregateId = aggregateIdOf(slot.table, keyValues);
    const change: ChangeEvent = {
      format: 'debezium',
      table: slot.table,
      aggregateId,
      op: ({ c: 'create', u: 'update', d: 'delete', r: 'read' } as const)[op],
      source: 'debezium:dbserver1',
      position: postgresPosition(lsn, String(lastCommitLsn)),
      before,
      after,
      ts: this.#clockMs,
      txId: String(txId),
    };
    return { partitionKey: aggregateId, data: Buffer.from(JSON.stringify(envelope)), change, poison: false };
  }
}

export type { GeneratedEvent, WorkloadOptions };
export { WORKLOAD_TABLES, WorkloadGenerator };
