import type { LogEvent } from './event.js';

/** The source position `tail` puts in each event's options map: `{src: {id, off}}`. */
export interface SourcePositionOption {
  id: string;
  off: number;
}

/**
 * The positions (`src`, `relay`) of an event read as bytes, as scanning its options' bytes found
 * them (src/codec/scanned-position.ts): per key a position, none (undefined), or 'decode' when
 * only the decoded options can tell.
 */
export interface ScannedPositions {
  src: SourcePositionOption | undefined | 'decode';
  relay: SourcePositionOption | undefined | 'decode';
}

/** The identity receive gives an entry that came without one: the request's chunk id and the entry's index, stable across a resend of the same chunk. */
export function chunkIdentity(chunkKey: string, index: number): SourcePositionOption {
  return { id: `${CHUNK_SOURCE}${chunkKey}`, off: index };
}

/**
 * Chunk identities name one request each and nobody resumes from them: they are not recorded as
 * checkpoint sources (a checkpoint would otherwise gain one source per chunk from a Fluentd).
 */
export const CHUNK_SOURCE = 'chunk:';

/** The `src` option of an event, when it carries a well-formed one. */
export function sourcePositionOf(event: LogEvent): SourcePositionOption | undefined {
  return positionIn(event.options?.src);
}

/**
 * The `relay` option: the position `receive --buffer` gives each event in its own buffer
 * (`{id: "receive:<dir>", off}`), beside the event's identity in `src`. The store's checkpoint
 * commits it like a source, which is how receive learns what it may delete.
 */
export function relayPositionOf(event: LogEvent): SourcePositionOption | undefined {
  return positionIn(event.options?.relay);
}

function positionIn(value: unknown): SourcePositionOption | undefined {
  const src = value as { id?: unknown; off?: unknown } | undefined;
  if (!src || typeof src.id !== 'string') return undefined;
  const off = typeof src.off === 'bigint' ? Number(src.off) : src.off;
  if (typeof off !== 'number' || !Number.isSafeInteger(off) || off < 0) return undefined;
  return { id: src.id, off };
}

/** Adds an event's positions (its `src`, and its `relay` when relayed) to a record: the last one per source wins, in stream order. */
export function recordPositions(into: Record<string, number>, event: LogEvent): void {
  const options = event.options;
  if (options === undefined) return;
  const src = positionIn(options.src);
  if (src && !src.id.startsWith(CHUNK_SOURCE)) into[src.id] = src.off;
  const relay = positionIn(options.relay);
  if (relay) into[relay.id] = relay.off;
}
