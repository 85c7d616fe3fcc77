import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

/**
 * The on-disk form of one buffer chunk:
 *
 *     0  "LKCK" magic            12  u32 metadata length
 *     4  u8 format version (1)   16  u32 payload length
 *     5  3 reserved bytes (0)    20  u32 CRC-32 of bytes 0..20, the metadata and the payload
 *     8  u32 event count         24  metadata (JSON), then payload (MessagePack entries)
 *
 * The file must be exactly 24 + metadata + payload bytes long: a short file (a torn write) or a
 * flipped bit fails the check and the chunk is moved aside instead of being replayed. The payload
 * is the Message-mode entries exactly as they go downstream, so delivery writes them without
 * re-encoding.
 */
export const HEADER_BYTES = 24;
const MAGIC = 0x4c4b434b; // "LKCK"
const VERSION = 1;

/** Chunk files are named by a zero-padded sequence number, so a directory listing sorts in write order. */
export const CHUNK_NAME = /^chunk-(\d{16})\.lkc$/;
export const TEMP_SUFFIX = '.tmp';

export function chunkFileName(seq: number): string {
  return `chunk-${String(seq).padStart(16, '0')}.lkc`;
}

/** What a chunk says about itself besides its payload. */
export interface ChunkMeta {
  /** A unique id (base64 of 16 random bytes), kept across restarts: forward sends it as the `chunk` option, so a receiver can drop a resent chunk. */
  readonly uid: string;
  /** Milliseconds since the epoch when the first event entered the chunk. */
  readonly created: number;
  /** The highest source position (`options.src`) per source id among the chunk's events, in stream order. */
  readonly src: Readonly<Record<string, number>>;
  /** Ids of the forward-protocol chunks whose events this chunk holds (receive --buffer: its duplicate memory survives a restart with the data). */
  readonly ids?: readonly string[];
}

export function newChunkUid(): string {
  return randomBytes(16).toString('base64');
}

/** The header and metadata of a chunk; write them, then the payload, as one file. */
export function encodeChunkHead(meta: ChunkMeta, events: number, payload: Buffer): Buffer[] {
  const metaBytes = Buffer.from(JSON.stringify(meta), 'utf8');
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32BE(MAGIC, 0);
  header[4] = VERSION;
  header.writeUInt32BE(events, 8);
  header.writeUInt32BE(metaBytes.length, 12);
  header.writeUInt32BE(payload.length, 16);
  let crc = crc32(header.subarray(0, 20));
  crc = crc32(metaBytes, crc);
  crc = crc32(payload, crc);
  header.writeUInt32BE(crc, 20);
  return [header, metaBytes];
}

export interface DecodedChunk {
  readonly meta: ChunkMeta;
  readonly events: number;
  readonly payload: Buffer;
}

/** Checks and splits a whole chunk file; returns the reason it is unusable as a string. */
export function decodeChunk(file: Buffer): DecodedChunk | string {
  if (file.length < HEADER_BYTES) return `truncated (${file.length} bytes, shorter than the header)`;
  if (file.readUInt32BE(0) !== MAGIC) return 'not a logkit buffer chunk (bad magic number)';
  if (file[4] !== VERSION) return `unknown chunk format version ${file[4]}`;
  const events = file.readUInt32BE(8);
  const metaLength = file.readUInt32BE(12);
  const payloadLength = file.readUInt32BE(16);
  const expected = HEADER_BYTES + metaLength + payloadLength;
  if (file.length !== expected) return `truncated or padded (${file.length} bytes, header says ${expected})`;
  let crc = crc32(file.subarray(0, 20));
  crc = crc32(file.subarray(HEADER_BYTES), crc);
  if (crc !== file.readUInt32BE(20)) return 'checksum mismatch';
  const meta = parseMeta(file.subarray(HEADER_BYTES, HEADER_BYTES + metaLength));
  if (!meta) return 'unreadable metadata';
  return { meta, events, payload: file.subarray(HEADER_BYTES + metaLength) };
}

/**
 * Reads only the header and metadata of a chunk file and checks its length (a torn or cut file
 * shows here); the checksum over the payload is left to `decodeChunk` at delivery.
 */
export async function readChunkHead(path: string): Promise<{ meta: ChunkMeta; events: number; size: number } | string> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const header = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(header, 0, HEADER_BYTES, 0);
    if (bytesRead < HEADER_BYTES) return `truncated (${size} bytes, shorter than the header)`;
    if (header.readUInt32BE(0) !== MAGIC) return 'not a logkit buffer chunk (bad magic number)';
    if (header[4] !== VERSION) return `unknown chunk format version ${header[4]}`;
    const metaLength = header.readUInt32BE(12);
    const expected = HEADER_BYTES + metaLength + header.readUInt32BE(16);
    if (size !== expected) return `truncated or padded (${size} bytes, header says ${expected})`;
    const metaBytes = Buffer.alloc(metaLength);
    await handle.read(metaBytes, 0, metaLength, HEADER_BYTES);
    const meta = parseMeta(metaBytes);
    return meta ? { meta, events: header.readUInt32BE(8), size } : 'unreadable metadata';
  } finally {
    await handle.close();
  }
}

function parseMeta(bytes: Buffer): ChunkMeta | undefined {
  try {
    const meta = JSON.parse(bytes.toString('utf8')) as ChunkMeta;
    return typeof meta?.uid === 'string' && typeof meta.src === 'object' && meta.src !== null ? meta : undefined;
  } catch {
    return undefined;
  }
}
