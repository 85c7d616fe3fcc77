/** The buffer's policies and defaults, apart from the code so that command schemas can show them without loading it. */
export const OVERFLOW_POLICIES = ['block', 'drop-oldest', 'fail'] as const;
export type OverflowPolicy = (typeof OVERFLOW_POLICIES)[number];

/** A chunk's payload length is a 32-bit field; this bound keeps far below it, one entry over included. */
export const MAX_CHUNK_BYTES = 256 * 1024 * 1024;

export const BUFFER_DEFAULTS = {
  chunkBytes: 1024 * 1024,
  chunkEvents: 10_000,
  chunkAgeMs: 1000,
  totalLimitBytes: 1024 * 1024 * 1024,
  overflow: 'block' as OverflowPolicy,
  /** How often a writer blocked by a full disk tries again when no acknowledgement frees space first. */
  retryMs: 1000,
};
