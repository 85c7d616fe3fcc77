import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { encodeOptions, encodePackedForward, type RequestOptions } from '../protocol/encode-request.js';

const gzip = promisify(gzipCallback);

/**
 * Where a chunk is in its life:
 * - `created`: sealed from events, waiting to be sent (or to be sent again);
 * - `sent`: written to a server, waiting for its acknowledgement;
 * - `acked`: the server acknowledged it (or, without acks, the kernel took all its bytes).
 * A chunk goes `created → sent → acked`, or `sent → created` again when its server fails or
 * does not answer in time (then it is resent, with the same id, so the receiver can drop a
 * duplicate).
 */
export type ChunkState = 'created' | 'sent' | 'acked';

/** The transport a chunk is in flight on; the ledger only needs to tell them apart. */
export interface ChunkCarrier {
  readonly label: string;
}

/**
 * One PackedForward message: events of one tag, packed, with a unique id. The frame (the exact
 * bytes on the wire) is built once and reused for every resend.
 */
export class Chunk {
  state: ChunkState = 'created';
  /** Times it has been written to a server. */
  attempts = 0;
  /** The server it is in flight on (state `sent`). */
  carrier: ChunkCarrier | undefined;
  /** The server that last failed it: a resend goes elsewhere if another server is up. */
  lastFailedOn: ChunkCarrier | undefined;
  sentAt = 0;
  /**
   * Times a server closed the connection, or answered an error, while this chunk was the only
   * one in flight there: then the rejection is its own (poison-isolation.ts).
   */
  rejectionsAlone = 0;
  /** Under suspicion: sent only on a connection with nothing else in flight. */
  isolated = false;
  /**
   * The source id of its events' identities, when they have one (one source per chunk, see
   * ChunkBatcher): the chunk goes where that source is routed, first send and resends alike.
   */
  source: string | undefined;

  constructor(
    /** Base64 of 16 random bytes, as Fluentd's chunk ids (the ack echoes it). */
    readonly id: string,
    readonly tag: string,
    readonly events: number,
    /** Size of the packed entries before compression. */
    readonly entryBytes: number,
    /** The whole message as written to the socket (with the entries' identities, when it carries them). */
    readonly frame: Buffer,
    /** When the frame carries identities: its option map's length, and the option map without them. */
    private readonly without?: { optionsLength: number; options: Buffer },
  ) {}

  /** The frame with the identities (logkit_src), or without: a copy of the frame with the other option map. */
  frameFor(identities: boolean): Buffer {
    if (identities || this.without === undefined) return this.frame;
    return Buffer.concat([this.frame.subarray(0, this.frame.length - this.without.optionsLength), this.without.options]);
  }

  /** What the chunk costs in memory while it waits: the bound of --max-pending-bytes. */
  get bytes(): number {
    return this.frame.length;
  }
}

/** Random ids, drawn in blocks: one getrandom() per 256 chunks instead of one per chunk. */
let idPool = Buffer.alloc(0);
let idPoolPos = 0;
export function newChunkId(): string {
  if (idPoolPos + 16 > idPool.length) {
    idPool = randomBytes(16 * 256);
    idPoolPos = 0;
  }
  const id = idPool.toString('base64', idPoolPos, idPoolPos + 16);
  idPoolPos += 16;
  return id;
}

export interface FrameOptions {
  /** Ask for an acknowledgement (sends the `chunk` option). */
  ack: boolean;
  compress: 'gzip' | 'none';
}

/**
 * Whether chunks carry their entries' identities (see protocol/identity-option.ts): auto sends
 * them to a server until one of its acks lacks the logkit mark; on and off force it.
 */
export type IdentityMode = 'auto' | 'on' | 'off';

/**
 * Builds a chunk from packed entries (`[time, record]` each, concatenated):
 * `[tag, bin(entries), {size, chunk?, compressed?, logkit_src?}]` — PackedForward, or CompressedPackedForward
 * when gzip is on (src/protocol writes it). The entries go in a bin (not a str) so no peer reads
 * them as UTF-8. `id` is random unless given (a chunk rebuilt from a disk buffer keeps the id it
 * was first sent with, so the receiver can drop it as a duplicate). gzip runs in libuv's thread pool, beside the main thread.
 */
export async function buildChunk(tag: string, entries: Buffer, events: number, options: FrameOptions, id = newChunkId(), identities?: Buffer): Promise<Chunk> {
  const payload = options.compress === 'gzip' ? await gzip(entries, { level: 1 }) : entries;
  const requestOptions: RequestOptions = {
    size: events,
    chunk: options.ack ? id : undefined,
    compressed: options.compress === 'gzip' ? 'gzip' : undefined,
  };
  const frame = encodePackedForward(tag, payload, { ...requestOptions, identities });
  if (identities === undefined) return new Chunk(id, tag, events, entries.length, frame);
  const optionsLength = encodeOptions({ ...requestOptions, identities }).length;
  return new Chunk(id, tag, events, entries.length, frame, { optionsLength, options: encodeOptions(requestOptions) });
}
