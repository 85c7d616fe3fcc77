import type { LogEvent } from '../event/event.js';

/**
 * Called once a batch is durable in the store: after the database's COMMIT, or after the file
 * store's fsync (per its --fsync policy). This is the acknowledgement a disk buffer deletes
 * its chunks on and a checkpoint advances on; events are passed in input order.
 */
export type CommitHook = (events: readonly LogEvent[]) => void | Promise<void>;

export type { DedupMode } from './store-choices.js';

/**
 * A destination. `write` stores one batch (atomically where the target allows: one
 * transaction) and calls the commit hook when it is durable; it throws TransientStoreError
 * for failures a retry can fix and anything else for permanent ones. A failed write must
 * leave nothing half-committed that a retry would duplicate beyond what the target documents.
 */
export interface StoreSink {
  /** Prepares the destination (connects; creates the table with --create). */
  open(): Promise<void>;
  write(events: readonly LogEvent[]): Promise<void>;
  /** Makes everything written durable (commits what a deferred fsync policy holds) and releases resources. */
  close(): Promise<void>;
  /** SIGHUP: close and reopen files (for logrotate of outputs); absent where there is nothing to reopen. */
  reopen?(): Promise<void>;
  /** Events dropped because the destination had already committed them (their identity, options.src). */
  readonly duplicates?: number;
  /**
   * True when the sink writes events as NDJSON lines: the reader then hands it events that carry
   * their line, transcoded from MessagePack without decoding the record (see EventWithLine).
   */
  readonly writesNdjsonLines?: boolean;
  /** Where it stores, for messages, without credentials. */
  readonly description: string;
}
