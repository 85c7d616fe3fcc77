import type { Chunk } from './chunk.js';

/**
 * What to do with the chunks that were in flight when a server refused data (an error answer, or
 * a close after a complete handshake while chunks were in flight): the way one bad event (nested
 * deeper than the server accepts, larger than its request limit, anything its parser refuses)
 * stops blocking everything behind it, without mistaking an unavailable server for bad data.
 *
 * The design, and why:
 * - When several chunks were in flight, the rejection cannot be pinned on one. Every chunk that
 *   was in flight is isolated at once: from then on it is sent alone on its connection, so the
 *   next rejection is its own. (A server restart with chunks in flight isolates them too; that
 *   only costs them one round trip each.) Isolating at once also bounds the duplicates: a server
 *   that closes on bad data drops the acks of the good requests it read just before, and those
 *   are resent.
 * - A chunk rejected while alone SPLIT_AFTER_ALONE times is bisected into two halves (new
 *   chunks, isolated too); the good half is delivered, the bad half is bisected again. One bad
 *   event in n costs about 2·log2(n) rejections (each a reconnect, at the first backoff step:
 *   a data rejection from a healthy server does not grow the backoff).
 * - A single-event chunk rejected alone SPLIT_AFTER_ALONE times is the offending event: it is
 *   taken out (dead-lettered) and reported — but only by a server that has shown it is up and
 *   speaks the protocol (it acknowledged a chunk, or answered one with an error). A server that
 *   never did (the wrong port, a different protocol) is unavailable, not picky: its single
 *   events are retried as they are, for ever, as before. Cutting in halves needs no such proof:
 *   it is harmless, the halves are delivered like any chunk.
 * - Two rejections alone, not one, at each step: a server that crashes or restarts once while a
 *   chunk happens to be in flight must not cost that chunk its id (a split chunk's parts get new
 *   ids, so `receive --buffer`, which drops resends by chunk id, cannot recognise them; a
 *   de-duplicating store still does, by the identities the parts carry as the chunk did, see
 *   chunk-split.ts). A server that keeps crashing on the same event is treated like one that
 *   refuses it, which is what it is doing.
 */
export const SPLIT_AFTER_ALONE = 2;

export type Triage = 'retry' | 'split' | 'dead-letter';

/** Counts one rejection against each chunk that was in flight and says what to do with each. */
export function triageRejected(chunks: readonly Chunk[], serverProvedAlive: boolean): Triage[] {
  const alone = chunks.length === 1;
  return chunks.map((chunk) => {
    chunk.isolated = true;
    if (alone) chunk.rejectionsAlone++;
    if (chunk.rejectionsAlone < SPLIT_AFTER_ALONE) return 'retry';
    if (chunk.events > 1) return 'split';
    return serverProvedAlive ? 'dead-letter' : 'retry';
  });
}
