import type { FileHandle } from 'node:fs/promises';
import { crc32, inflateRawSync } from 'node:zlib';
import { DecodeError } from '../../codec/decode-error.js';
import { MessageStreamDecoder } from '../../codec/msgpack-reader.js';
import { PermanentStoreError } from '../store-errors.js';

/**
 * The file store's crash scheme: every flush APPENDS one complete unit — whole lines (NDJSON,
 * text), whole MessagePack entries, or, for gzip, one complete gzip member holding whole lines
 * or entries (gzip readers read concatenated members as one stream). A crash in the middle of
 * a flush can therefore only leave a torn LAST unit. Before appending to a file that existed
 * when this process first opened it, the store finds the end of the last complete unit and
 * truncates the torn tail, so readers never see a partial record for longer than the crash.
 *
 * Cost: the whole file is read once (decompressed for gzip, decoded for MessagePack) the
 * first time a process opens it; NDJSON and text only read back from the end to the last newline.
 */
export type TailKind = 'lines' | 'msgpack' | 'gzip';

export interface RepairResult {
  size: number;
  validBytes: number;
}

export async function findValidLength(fh: FileHandle, kind: TailKind): Promise<RepairResult> {
  const { size } = await fh.stat();
  if (size === 0) return { size, validBytes: 0 };
  switch (kind) {
    case 'lines':
      return { size, validBytes: await lastNewlineEnd(fh, size) };
    case 'msgpack':
      return { size, validBytes: await lastCompleteEntryEnd(fh, size) };
    case 'gzip':
      return { size, validBytes: await lastCompleteMemberEnd(fh, size) };
  }
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  const { bytesRead } = await fh.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

async function lastNewlineEnd(fh: FileHandle, size: number): Promise<number> {
  const window = 64 * 1024;
  for (let end = size; end > 0; end -= window) {
    const start = Math.max(0, end - window);
    const chunk = await readAt(fh, start, end - start);
    const at = chunk.lastIndexOf(0x0a);
    if (at >= 0) return start + at + 1;
  }
  return 0;
}

async function lastCompleteEntryEnd(fh: FileHandle, size: number): Promise<number> {
  const decoder = new MessageStreamDecoder();
  const window = 1024 * 1024;
  try {
    for (let position = 0; position < size; position += window) {
      decoder.push(await readAt(fh, position, Math.min(window, size - position)));
    }
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    if (error.offset === 0) throw new PermanentStoreError('not a MessagePack event file; refusing to append to it');
    return error.offset;
  }
  if (decoder.offset === 0) throw new PermanentStoreError('not a MessagePack event file (no complete entry); refusing to append to it');
  return decoder.offset;
}

/** Walks the members: header, raw deflate data, then CRC-32 and length, each checked. */
async function lastCompleteMemberEnd(fh: FileHandle, size: number): Promise<number> {
  let position = 0;
  while (position < size) {
    const end = await completeMemberEnd(fh, position, size);
    if (end === undefined) break;
    position = end;
  }
  if (position === 0) {
    const magic = await readAt(fh, 0, 2);
    if (size >= 2 && !(magic[0] === 0x1f && magic[1] === 0x8b)) throw new PermanentStoreError('not a gzip file; refusing to append to it');
  }
  return position;
}

async function completeMemberEnd(fh: FileHandle, start: number, size: number): Promise<number | undefined> {
  for (let window = 4 * 1024 * 1024; ; window *= 2) {
    const length = Math.min(window, size - start);
    const bytes = await readAt(fh, start, length);
    const header = gzipHeaderLength(bytes);
    if (header === undefined) return undefined;
    try {
      const { buffer, engine } = inflateRawSync(bytes.subarray(header), { info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
      const trailer = header + engine.bytesWritten;
      if (trailer + 8 > bytes.length) return undefined;
      const crcOk = bytes.readUInt32LE(trailer) === crc32(buffer);
      const sizeOk = bytes.readUInt32LE(trailer + 4) === buffer.length % 2 ** 32;
      return crcOk && sizeOk ? start + trailer + 8 : undefined;
    } catch {
      // cut short: either the window was too small or this is the torn member
      if (length === size - start) return undefined;
    }
  }
}

/** The length of a gzip member header (RFC 1952), or undefined when it is not one or is cut. */
function gzipHeaderLength(b: Buffer): number | undefined {
  if (b.length < 10 || b[0] !== 0x1f || b[1] !== 0x8b || b[2] !== 8) return undefined;
  const flags = b[3]!;
  let at = 10;
  if (flags & 4) {
    if (b.length < at + 2) return undefined;
    at += 2 + b.readUInt16LE(at);
  }
  for (const bit of [8, 16]) {
    if (flags & bit) {
      const zero = b.indexOf(0, at);
      if (zero < 0) return undefined;
      at = zero + 1;
    }
  }
  if (flags & 2) at += 2;
  return at <= b.length ? at : undefined;
}
