import { AsyncLocalStorage } from 'node:async_hooks';
import type { ProcessingTracer, TraceAnnotation, TraceStep } from '../../core/processing/tracing.js';

/** One step a {@link RecordingTracer} saw: its name, annotations, children and whether it ended or failed. */
interface RecordedStep {
  readonly name: TraceStep | 'root';
  readonly annotations: Record<string, TraceAnnotation>;
  readonly children: RecordedStep[];
  ended: boolean;
  failed: boolean;
}

/**
 * The in-memory twin of a tracing adapter: it keeps one current step per asynchronous context, as X-Ray's
 * context does, so concurrent aggregates nest their steps under their own `aggregate` step.
 *
 * @example
 * ```ts
 * const tracer = new RecordingTracer();
 * await new BatchProcessor({ ...options, tracer }).process(records);
 * expect(tracer.names()).toEqual(['decode', 'read', 'aggregate']);
 * ```
 */
class RecordingTracer implements ProcessingTracer {
  public readonly root: RecordedStep = {
    name: 'root',
    annotations: {},
    children: [],
    ended: false,
    failed: false,
  };
  readonly #current = new AsyncLocalStorage<RecordedStep>();

  public traceSync<T>(step: TraceStep, fn: () => T): T {
    const recorded = this.#open(step);
    try {
      const result = this.#current.run(recorded, fn);
      recorded.ended = true;
      return result;
    } catch (error) {
      recorded.failed = recorded.ended = true;
      throw error;
    }
  }

  public async trace<T>(step: TraceStep, fn: () => Promise<T>): Promise<T> {
    const recorded = this.#open(step);
    try {
      return await this.#current.run(recorded, fn);
    } catch (error) {
      recorded.failed = true;
      throw error;
    } finally {
      recorded.ended = true;
    }
  }

  public annotate(key: string, value: TraceAnnotation): void {
    (this.#current.getStore() ?? this.root).annotations[key] = value;
  }

  /** The names of the top-level steps (or of `step`'s children), in the order they started. */
  public names(step: RecordedStep = this.root): string[] {
    return step.children.map((c) => c.name);
  }

  /** Every step named `name`, at any depth. */
  public all(name: TraceStep, step: RecordedStep = this.root): RecordedStep[] {
    return step.children.flatMap((c) => [...(c.name === name ? [c] : []), ...this.all(name, c)]);
  }

  #open(step: TraceStep): RecordedStep {
    const recorded: RecordedStep = { name: step, annotations: {}, children: [], ended: false, failed: false };
    (this.#current.getStore() ?? this.root).children.push(recorded);
    return recorded;
  }
}

export type { RecordedStep };
export { RecordingTracer };
