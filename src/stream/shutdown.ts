import { setMaxListeners } from 'node:events';
import { inThisStage } from '../log/logger.js';

/**
 * logkit's one shutdown model. The entry point makes one AbortSignal per process
 * (`stopOnSignals`); every command, and in `logkit run` every stage of the chain, honours it in
 * its own way (stop reading, deliver or make durable what is held, exit). A second SIGTERM or
 * SIGINT does not wait for that: it ends the process at once, as the signal's default action.
 */

/** Aborted at the first SIGTERM or SIGINT (the reason is the signal's name). */
export function stopOnSignals(): AbortSignal {
  const controller = new AbortController();
  // every stage of a `logkit run` chain listens, a few waits each: more than the default 10
  setMaxListeners(100, controller.signal);
  const onSignal = (name: NodeJS.Signals): void => {
    if (!controller.signal.aborted) {
      controller.abort(name);
      return;
    }
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.kill(process.pid, name);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return controller.signal;
}

/**
 * Runs `stop` once when `signal` aborts (now, if it already has). Returns the function that
 * forgets it, for when the work it would stop is over.
 */
export function onAbort(signal: AbortSignal, work: () => void): () => void {
  // an abort listener runs where the abort came from (the signal handler): keep the stage's context
  const stop = inThisStage(work);
  if (signal.aborted) {
    queueMicrotask(stop);
    return () => {};
  }
  signal.addEventListener('abort', stop, { once: true });
  return () => signal.removeEventListener('abort', stop);
}

export const ABORTED: unique symbol = Symbol('aborted');

/**
 * Resolves with what `work` resolves with, or with ABORTED as soon as `signal` aborts. One
 * listener per wait, removed when the wait ends: racing every read against one long-lived
 * promise would pile reactions on it, each holding the batch it resolved with.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise<T | typeof ABORTED>((resolve, reject) => {
    const abort = (): void => resolve(ABORTED);
    signal.addEventListener('abort', abort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}
