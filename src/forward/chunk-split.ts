import { createHash } from 'node:crypto';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { MsgpackWriter } from '../codec/msgpack-writer.js';
import { parseRequest, createInnerUnpackr } from '../protocol/request.js';
import { readArrayHeader, valueBoundaries } from '../protocol/frame.js';
import { buildChunk, type Chunk, type FrameOptions } from './chunk.js';

const gunzipAsync = promisify(gunzip);
/** Our own chunks, read back: no limit an input could push beyond what built them. */
const OWN_LIMITS = { maxBytes: Number.MAX_SAFE_INTEGER, maxDepth: Number.MAX_SAFE_INTEGER };
const unpackr = createInnerUnpackr();

/** The packed `[time, record]` entries of a chunk, read back from its frame (gunzipped if need be). */
export async function chunkEntries(chunk: Chunk): Promise<Buffer> {
  const request = parseRequest(chunk.frame, unpackr)!;
  return request.mode === 'CompressedPackedForward' ? gunzipAsync(request.payload!) : request.payload!;
}

/**
 * Two chunks holding the first and the second half of `chunk`'s events, in order, isolated (see
 * poison-isolation.ts). Their ids derive from the parent's, so the same split of the same chunk
 * yields the same ids.
 */
export async function bisectChunk(chunk: Chunk, options: FrameOptions): Promise<[Chunk, Chunk]> {
  const entries = await chunkEntries(chunk);
  const firstHalf = Math.ceil(chunk.events / 2);
  const { count, cuts } = valueBoundaries(entries, OWN_LIMITS, firstHalf);
  const cut = cuts[0]!;
  const halves = await Promise.all([
    buildChunk(chunk.tag, entries.subarray(0, cut), firstHalf, options, childId(chunk.id, 0)),
    buildChunk(chunk.tag, entries.subarray(cut), count - firstHalf, options, childId(chunk.id, 1)),
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
 */
export async function chunkAsEventStream(chunk: Chunk): Promise<Buffer> {
  const entries = await chunkEntries(chunk);
  if (entries.length === 0) return Buffer.alloc(0);
  const { cuts } = valueBoundaries(entries, OWN_LIMITS, 1);
  const w = new MsgpackWriter(entries.length + chunk.events * (chunk.tag.length + 8));
  let start = 0;
  for (const end of cuts) {
    const { count, pos } = readArrayHeader(entries, start);
    w.writeArrayHeader(count + 1);
    w.writeString(chunk.tag);
    w.writeRaw(entries.subarray(pos, end));
    start = end;
  }
  return w.take();
}
