import type { Chunk } from './chunk.js';

/**
 * What to do with the chunks that were in flight when a server refused data (an error answer, or
 * a close after a complete handshake while chunks were in flight): the way one bad event (nested
 * deeper than the server accepts, larger than its request limit, anything its parser refuses)
 * stops blocking everything behind it, without mistaking an unavailable server for bad data.
 *
 * The design, and why:
 * - Only a server that has acknowledged chunks before is judged "otherwise healthy": a server
 *   that never accepted anything (the wrong port, a different protocol) is unavailable, not
 *   picky, and its chunks are retried as they are, for ever, as before.
 * - When several chunks were in flight, the rejection cannot be pinned on one. A chunk rejected
 *   ISOLATE_AFTER times is isolated: from then on it is sent alone on its connection, so the next
 *   rejection is its own.
 * - A chunk rejected while alone SPLIT_AFTER_ALONE times is bisected into two halves (new
 *   chunks, isolated too); the good half is delivered, the bad half is bisected again. One bad
 *   event in n costs about 2·log2(n) rejections (each a reconnect, at the first backoff step:
 *   a data rejection from a healthy server does not grow the backoff).
 * - A single-event chunk rejected alone SPLIT_AFTER_ALONE times is the offending event: it is
 *   taken out (dead-lettered) and reported.
 * - Two rejections, not one, at each step: a server that crashes or restarts once while a chunk
 *   happens to be in flight must not cost that chunk its place (a split chunk gets new ids, so a
 *   receiver could not recognise a resend of it as a duplicate). A server that keeps crashing on
 *   the same event is treated like one that refuses it, which is what it is doing.
 */
export const ISOLATE_AFTER = 2;
export const SPLIT_AFTER_ALONE = 2;

export type Triage = 'retry' | 'split' | 'dead-letter';

/** Counts one rejection against each chunk in flight and says what to do with each. */
export function triageRejected(chunks: readonly Chunk[], serverHealthy: boolean): Triage[] {
  const alone = chunks.length === 1;
  return chunks.map((chunk) => {
    if (!serverHealthy) return 'retry';
    chunk.rejections++;
    if (alone) chunk.rejectionsAlone++;
    if (chunk.rejectionsAlone >= SPLIT_AFTER_ALONE) return chunk.events > 1 ? 'split' : 'dead-letter';
    if (chunk.rejections >= ISOLATE_AFTER) chunk.isolated = true;
    return 'retry';
  });
}
