import type { AggregateItem } from '../state/aggregate-item.js';
import type {
  StateMutation,
  StateStorePort,
  TransactOptions,
  TransactOutcome,
  WriteGuard,
  WriteOutcome,
} from '../state/state-store-port.js';
import type { PendingChange } from './fold.js';

/**
 * The steps of a batch a trace shows: `decode` (the batch's first pass, and each traced aggregate's second),
 * `read` (state reads), `aggregate` (one aggregate's whole application), `fold` and `write`.
 */
type TraceStep = 'decode' | 'read' | 'aggregate' | 'fold' | 'write';

/** Values a trace can index (X-Ray annotations take strings, numbers and booleans). */
type TraceAnnotation = string | number | boolean;

/**
 * The tracing port of the processing core: it names its steps and annotates them, and an adapter outside the
 * core (Powertools Tracer in the consumer Lambda) turns them into trace segments. The core never depends on a
 * tracing library; without an adapter it runs with {@link noTracing}.
 *
 * A step nests in the step it runs in, also across concurrent aggregates: adapters keep one current step per
 * asynchronous context. No method may throw on its own; `fn`'s result or error passes through unchanged.
 */
interface ProcessingTracer {
  /** Runs `fn` as `step`; the step ends when `fn` returns or throws. */
  traceSync<T>(step: TraceStep, fn: () => T): T;
  /** Runs `fn` as `step`; the step ends when its promise settles. */
  trace<T>(step: TraceStep, fn: () => Promise<T>): Promise<T>;
  /** Annotates the innermost step running now (indexed: traces can be searched by it). */
  annotate(key: string, value: TraceAnnotation): void;
}

/** The default: steps run as plain calls, annotations go nowhere. */
const noTracing: ProcessingTracer = {
  traceSync: (_step, fn) => fn(),
  trace: (_step, fn) => fn(),
  annotate: () => {},
};

/**
 * Aggregates of one batch that get their own `aggregate` step (with `decode`, `read`, `fold` and `write`
 * inside) and their annotations; the others run untraced. The bound keeps a trace within X-Ray's limits
 * whatever the batch size (up to 10,000 records): an indexed annotation count per trace (50: two per
 * aggregate here, and the handler's own), and the trace document size (about 5 steps of a few hundred bytes
 * per traced aggregate). Batch-level figures are on the handler's segment.
 */
const TRACED_AGGREGATES_PER_BATCH = 20;

/** Annotation values longer than this are cut (aggregate ids are unbounded; X-Ray indexes short values). */
const MAX_ANNOTATION_LENGTH = 250;

/**
 * Annotates a traced aggregate's step with its id and its first change's source transaction id (when the
 * format carries one): "which trace applied transaction T" and "what happened to aggregate A" become searches.
 */
function annotateAggregate(
  tracer: ProcessingTracer,
  aggregateId: string,
  changes: readonly PendingChange[],
): void {
  tracer.annotate('aggregateId', aggregateId.slice(0, MAX_ANNOTATION_LENGTH));
  const txId = changes[0]?.change.txId;
  if (txId !== null && txId !== undefined) tracer.annotate('txId', txId.slice(0, MAX_ANNOTATION_LENGTH));
}

/** A state store whose reads and writes are steps of the trace. */
class TracedStateStore implements StateStorePort {
  readonly #store: StateStorePort;
  readonly #tracer: ProcessingTracer;

  public constructor(store: StateStorePort, tracer: ProcessingTracer) {
    this.#store = store;
    this.#tracer = tracer;
  }

  public get(aggregateId: string): Promise<AggregateItem | undefined> {
    return this.#tracer.trace('read', () => this.#store.get(aggregateId));
  }

  public getMany(aggregateIds: readonly string[]): Promise<Map<string, AggregateItem>> {
    return this.#tracer.trace('read', () => this.#store.getMany(aggregateIds));
  }

  public write(aggregateId: string, mutation: StateMutation, guard: WriteGuard): Promise<WriteOutcome> {
    return this.#tracer.trace('write', () => this.#store.write(aggregateId, mutation, guard));
  }

  public transact(
    aggregateId: string,
    mutation: StateMutation,
    guard: WriteGuard,
    options: TransactOptions,
  ): Promise<TransactOutcome> {
    return this.#tracer.trace('write', () => this.#store.transact(aggregateId, mutation, guard, options));
  }
}

export type { ProcessingTracer, TraceAnnotation, TraceStep };
export { annotateAggregate, noTracing, TRACED_AGGREGATES_PER_BATCH, TracedStateStore };
