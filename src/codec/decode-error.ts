import type { LogEvent } from '../event/event.js';

/**
 * Input that cannot be decoded. `offset` is the byte (or `line` the line) where the bad entry
 * starts; `decoded` holds the events that were decoded from the same buffer before the fault,
 * so the caller can emit them before failing (nothing before a fault is lost).
 */
export class DecodeError extends Error {
  /** The input it was read from, for the message: a file name, or stdin. */
  source = 'stdin';

  constructor(
    message: string,
    readonly offset: number,
    readonly decoded: LogEvent[] = [],
    readonly line?: number,
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}
