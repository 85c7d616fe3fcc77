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
 * Resolves with what `work` resolves with, or with ABORTED as soon as `signal` aborts. A wait
 * holds no reaction on a long-lived promise (racing every read against one would pile reactions
 * on it, each holding the batch it resolved with) and adds no listener to the signal: each
 * signal has one listener, which ends the waits registered in its set (an EventTarget listener
 * added and removed per wait cost more than the rest of a small batch's wait).
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  const waits = abortWaits(signal);
  return new Promise<T | typeof ABORTED>((resolve, reject) => {
    const abort = (): void => resolve(ABORTED);
    waits.add(abort);
    work.then(
      (value) => {
        waits.delete(abort);
        resolve(value);
      },
      (error: unknown) => {
        waits.delete(abort);
        reject(error);
      },
    );
  });
}

const waitsBySignal = new WeakMap<AbortSignal, Set<() => void>>();

/** The waits a signal ends when it aborts (its one listener is added with the first wait). */
function abortWaits(signal: AbortSignal): Set<() => void> {
  let waits = waitsBySignal.get(signal);
  if (!waits) {
    const set = (waits = new Set());
    waitsBySignal.set(signal, set);
    signal.addEventListener(
      'abort',
      () => {
        for (const end of set) end();
        set.clear();
      },
      { once: true },
    );
  }
  return waits;
}
