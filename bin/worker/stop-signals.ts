import type { Supervisor } from './supervisor.js';

/** What stops a worker: the one graceful stop, whoever asks first. */
interface StopTarget {
  readonly requested: boolean;
  request(reason: string): Promise<unknown>;
}

/**
 * Turns the ways a worker process is told to stop into one graceful stop: SIGTERM (ECS stopping the task,
 * `cdcp local workers remove`), SIGINT when run by hand (under a supervisor Ctrl-C reaches the whole process
 * group, and the supervisor decides), and the supervisor going away (its run ended: no worker outlives it).
 * Returns the function that stops watching.
 *
 * @example
 * ```ts
 * const unwatch = watchStopSignals({ signals: process, supervisor: parent, shutdown, onRequest: log });
 * ```
 */
function watchStopSignals(options: {
  readonly signals: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
  readonly supervisor: Pick<Supervisor, 'onGone'> | undefined;
  readonly shutdown: StopTarget;
  /** Called once, with the first reason. */
  readonly onRequest?: (reason: string) => void;
  /** The supervisor is gone, and its engines most likely with it: end the process soon whatever happens. */
  readonly onOrphaned?: () => void;
}): () => void {
  const { signals, supervisor, shutdown } = options;
  const request = (reason: string) => {
    if (!shutdown.requested) options.onRequest?.(reason);
    void shutdown.request(reason);
  };
  const onTerm = () => request('SIGTERM');
  const onInt = () => {
    if (supervisor === undefined) request('SIGINT');
  };
  signals.on('SIGTERM', onTerm);
  signals.on('SIGINT', onInt);
  const unwatchSupervisor = supervisor?.onGone(() => {
    request('supervisor-gone');
    options.onOrphaned?.();
  });
  return () => {
    signals.off('SIGTERM', onTerm);
    signals.off('SIGINT', onInt);
    unwatchSupervisor?.();
  };
}

export { watchStopSignals };
