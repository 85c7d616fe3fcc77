import type { ExitCodeValue } from '../base/exit-codes.js';

/**
 * How a store failure is handled: a transient one (connection refused or reset, server
 * restarting, deadlock) is retried with backoff and loses nothing; a permanent one (bad
 * credentials, a table of the wrong shape, a file that is not ours) stops the run, because
 * retrying cannot fix it.
 */
export class TransientStoreError extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'TransientStoreError';
  }
}

export class PermanentStoreError extends Error {
  constructor(
    message: string,
    override readonly cause?: unknown,
    /** The sysexits status to end with (default 69, unavailable). */
    readonly exitCode?: ExitCodeValue,
  ) {
    super(message);
    this.name = 'PermanentStoreError';
  }
}

/** Socket-level failures that mean "the server is not there right now". */
const TRANSIENT_ERRNO = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH',
  'EAI_AGAIN', 'ENOTCONN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

/** The errno-style code of an error or of its cause chain (fetch wraps socket errors). */
export function errnoCode(error: unknown): string | undefined {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && TRANSIENT_ERRNO.has(e.code)) return e.code;
  }
  return undefined;
}

export function errorMessage(error: unknown): string {
  const e = error as { message?: string; cause?: { message?: string } };
  const text = e?.message || String(error);
  return e?.cause?.message && !text.includes(e.cause.message) ? `${text} (${e.cause.message})` : text;
}
