import { createHash } from 'node:crypto';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { MsgpackWriter } from '../codec/msgpack-writer.js';
import { parseRequest, createInnerUnpackr } from '../protocol/request.js';
import { readArrayHeader, valueBoundaries } from '../protocol/frame.js';
import { encodeIdentities, readIdentities, type Identity } from '../protocol/identity-option.js';
import { buildChunk, type Chunk, type FrameOptions } from './chunk.js';

const gunzipAsync = promisify(gunzip);
/** Our own chunks, read back: no limit an input could push beyond what built them. */
const OWN_LIMITS = { maxBytes: Number.MAX_SAFE_INTEGER, maxDepth: Number.MAX_SAFE_INTEGER };
const unpackr = createInnerUnpackr();

/** What a chunk holds, read back from its frame: its packed `[time, record]` entries (gunzipped if need be) and their identities. */
interface ChunkContent {
  entries: Buffer;
  /** One per entry, as the frame's logkit_src carries them; undefined when it carries none. */
  identities: Array<Identity | undefined> | undefined;
}

async function readChunk(chunk: Chunk): Promise<ChunkContent> {
  const request = parseRequest(chunk.frame, unpackr)!;
  const entries = request.mode === 'CompressedPackedForward' ? await gunzipAsync(request.payload!) : request.payload!;
  if (request.identities === undefined) return { entries, identities: undefined };
  const identities = readIdentities(unpackr.unpack(request.identities), chunk.events);
  // our own encoding of our own count: unusable only through a bug, which must not pass as "no identities"
  if (typeof identities === 'string') throw new Error(`chunk ${chunk.id} carries unusable identities (${identities})`);
  return { entries, identities };
}

/**
 * Two chunks holding the first and the second half of `chunk`'s events, in order, isolated (see
 * poison-isolation.ts). Their ids derive from the parent's, so the same split of the same chunk
 * yields the same ids. Each half carries its events' identities as the parent did: a store that
 * took the parent before it was refused (a server that stored it and then failed) recognises
 * the halves' events as the ones it has.
 */
export async function bisectChunk(chunk: Chunk, options: FrameOptions): Promise<[Chunk, Chunk]> {
  const { entries, identities } = await readChunk(chunk);
  const firstHalf = Math.ceil(chunk.events / 2);
  const { count, cuts } = valueBoundaries(entries, OWN_LIMITS, firstHalf);
  const cut = cuts[0]!;
  const halves = await Promise.all([
    buildChunk(chunk.tag, entries.subarray(0, cut), firstHalf, options, childId(chunk.id, 0), identities && encodeIdentities(identities.slice(0, firstHalf))),
    buildChunk(chunk.tag, entries.subarray(cut), count - firstHalf, options, childId(chunk.id, 1), identities && encodeIdentities(identities.slice(firstHalf))),
  ]);
  for (const half of halves) {
    half.isolated = true;
    half.source = chunk.source; // the halves of a source's chunk follow its route too
  }
  return halves as [Chunk, Chunk];
}

function childId(parentId: string, half: number): string {
  return createHash('sha256').update(parentId).update(`/half${half}`).digest().subarray(0, 16).toString('base64');
}

/**
 * The chunk's events as Message-mode entries `[tag, time, record]`, the event stream every logkit
 * command reads: what a dead-letter file holds, so that `logkit forward` or `logkit cat` replay it.
 * An event the chunk carries an identity for keeps it, as `[tag, time, record, {src: {id, off}}]`:
 * a replay is then the same event to a de-duplicating store, not a new one.
 */
export async function chunkAsEventStream(chunk: Chunk): Promise<Buffer> {
  const { entries, identities } = await readChunk(chunk);
  if (entries.length === 0) return Buffer.alloc(0);
  const { cuts } = valueBoundaries(entries, OWN_LIMITS, 1);
  const w = new MsgpackWriter(entries.length + chunk.events * (chunk.tag.length + 8));
  let start = 0;
  for (let index = 0; index < cuts.length; index++) {
    const end = cuts[index]!;
    const identity = identities?.[index];
    const { count, pos } = readArrayHeader(entries, start);
    w.writeArrayHeader(count + (identity ? 2 : 1));
    w.writeString(chunk.tag);
    w.writeRaw(entries.subarray(pos, end));
    if (identity) w.writeValue({ src: { id: identity.id, off: identity.off } });
    start = end;
  }
  return w.take();
}
