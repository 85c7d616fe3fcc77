import type { LineFormat } from './container-log.js';
import type { MultilineMode } from './multiline.js';
import type { SymlinkPolicy } from './symlink-policy.js';

export interface TailOptions {
  /** Paths and glob patterns; `-` alone is standard input. */
  paths: readonly string[];
  /** Tag of the events; `*` becomes the path with slashes turned into dots. */
  tag: string;
  pathKey?: string;
  /** Files present at start are read from their beginning rather than their end. */
  fromHead: boolean;
  /** Keep following; false: read what is there and exit. */
  follow: boolean;
  /** Where tail saves its read positions. */
  pos?: string;
  /** A committing stage's checkpoint: resume from its offsets in preference to --pos. */
  checkpoint?: string;
  posIntervalMs: number;
  refreshIntervalMs: number;
  pollIntervalMs: number;
  rotateWaitMs: number;
  partialFlushMs: number;
  multiline?: MultilineMode;
  multilineStart?: string;
  multilineFlushMs: number;
  format: LineFormat;
  maxLineBytes: number;
  maxOpenFiles: number;
  /** Which symbolic links are followed. */
  symlinks: SymlinkPolicy;
}

/** Bytes asked for in one read; each read becomes one batch of events. */
export const READ_BYTES = 512 * 1024;
/**
 * New data up to this size is read at once (fstat and pread without the thread pool, whose
 * round trip costs more than a small page-cache read: the common case of a file followed as it
 * is written); more is read through the thread pool, two reads in flight.
 */
export const SMALL_READ_BYTES = 64 * 1024;
/** Bytes read from one file before the others get their turn. */
export const MAX_BYTES_PER_TURN = 8 * 1024 * 1024;
