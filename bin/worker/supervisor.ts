import type { WorkerMessage } from '../../localstack/run/worker-messages.js';

/** The parent on the IPC channel (`npm start -- --workers N`), when this process was started with one. */
interface Supervisor {
  send(message: WorkerMessage): void;
  /**
   * Calls `listener` when the supervisor goes away (its process ended: no worker outlives its run). It stops a
   * worker with SIGTERM otherwise, as ECS does. Returns the function that stops listening.
   */
  onGone(listener: () => void): () => void;
}

/**
 * The IPC channel to the process that started this one, if any. A container has none: the worker then only
 * logs. Under a supervisor it also reports its figures, events and (when asked) every handler invocation.
 *
 * @example
 * ```ts
 * const parent = supervisor();
 * parent?.send({ type: 'ready', instanceId, pid: process.pid, healthUrl: undefined });
 * ```
 */
function supervisor(): Supervisor | undefined {
  if (process.send === undefined) return undefined;
  return {
    send: (message) => {
      if (process.connected) process.send!(message);
    },
    onGone: (listener) => {
      process.on('disconnect', listener);
      return () => process.off('disconnect', listener);
    },
  };
}

export type { Supervisor };
export { supervisor };
