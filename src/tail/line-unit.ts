import type { EventTime } from '../event/event-time.js';
import type { LineText } from '../codec/line-splitter.js';

/**
 * One future event on its way through the slower stages (container-log joining, multiline):
 * its text, the file offset just past its last line, and what those stages learned.
 */
export interface LineUnit {
  text: LineText;
  end: number;
  truncated: boolean;
  /** The time the line itself carries (Docker, CRI); otherwise the time it was read. */
  time?: EventTime;
  /** More record fields (e.g. `stream` of a container log line, `error` of a malformed one). */
  fields?: Record<string, unknown>;
}

export function byteLength(text: LineText): number {
  return typeof text === 'string' ? Buffer.byteLength(text) : text.length;
}

/** Joins two pieces of a line; stays a string unless one piece is raw bytes. */
export function joinText(a: LineText, b: LineText, separator: string): LineText {
  if (typeof a === 'string' && typeof b === 'string') return a + separator + b;
  return Buffer.concat([Buffer.from(a as never), Buffer.from(separator), Buffer.from(b as never)]);
}

/** The text as a string for pattern matching (invalid bytes become U+FFFD only here, never in output). */
export function textForMatching(text: LineText): string {
  return typeof text === 'string' ? text : text.toString('utf8');
}

/**
 * Appends `piece` to a unit being assembled, keeping its text within `maxBytes` (the rest is
 * dropped and the unit flagged as truncated) so a never-ending group cannot exhaust memory.
 */
export function appendBounded(unit: LineUnit, piece: LineUnit, separator: string, maxBytes: number, size: { bytes: number }): void {
  unit.end = piece.end;
  if (piece.truncated) unit.truncated = true;
  if (unit.truncated && size.bytes >= maxBytes) return;
  const add = byteLength(piece.text) + separator.length;
  if (size.bytes + add > maxBytes) {
    unit.truncated = true;
    return;
  }
  unit.text = joinText(unit.text, piece.text, separator);
  size.bytes += add;
}
