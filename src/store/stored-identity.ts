import { createHash } from 'node:crypto';
import { positionOf } from '../codec/scanned-position.js';
import type { LogEvent } from '../event/event.js';

/** A source id longer than this is stored as its SHA-256 (`sha256:` + 64 hex digits): bounded keys and memory. */
export const MAX_SOURCE_ID_CHARS = 255;

export interface StoredIdentity {
  id: string;
  off: number;
}

/**
 * The identity a store deduplicates on: the event's source position (`options.src`), with an
 * over-long source id replaced by its digest (the same id always gives the same digest, so
 * replays still match). Undefined for an event without one: it is stored as it comes.
 */
export function storedIdentityOf(event: LogEvent): StoredIdentity | undefined {
  const src = positionOf(event, 'src');
  if (!src || src.id.length <= MAX_SOURCE_ID_CHARS) return src;
  return { id: `sha256:${createHash('sha256').update(src.id).digest('hex')}`, off: src.off };
}
