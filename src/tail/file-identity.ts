import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/**
 * Which file a position belongs to. Device + inode alone are not enough: inodes are reused as
 * soon as a file is deleted, and copytruncate rotation keeps the inode while replacing the
 * content. So an identity also holds a fingerprint: a hash of the file's first bytes (up to
 * FINGERPRINT_BYTES, fewer when the file was shorter when first seen; the length is part of the
 * identity so it can be re-checked later).
 *
 * The identity's text form is the `id` of the `src` option and the checkpoint key:
 * `<dev>:<ino>:<fingerprint length>:<hash>`. It is self-describing, so `tail` can verify an id
 * from a checkpoint against a file without any other state.
 */
export const FINGERPRINT_BYTES = 1024;

export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
  readonly fpLen: number;
  readonly fpHash: string;
  readonly id: string;
}

export function fingerprintHash(head: Buffer, length: number): string {
  return createHash('sha1').update(head.subarray(0, length)).digest('hex').slice(0, 16);
}

export function makeIdentity(dev: number, ino: number, head: Buffer, fpLen: number): FileIdentity {
  const fpHash = fingerprintHash(head, fpLen);
  return { dev, ino, fpLen, fpHash, id: `${dev}:${ino}:${fpLen}:${fpHash}` };
}

/** Parses an id written by `makeIdentity`; undefined for anything else (ids are opaque to others). */
export function parseIdentity(id: string): FileIdentity | undefined {
  const m = /^(\d+):(\d+):(\d+):([0-9a-f]{16})$/.exec(id);
  if (!m) return undefined;
  const fpLen = Number(m[3]);
  if (fpLen < 1 || fpLen > FINGERPRINT_BYTES) return undefined;
  return { dev: Number(m[1]), ino: Number(m[2]), fpLen, fpHash: m[4]!, id };
}

/** Does `head` (the first bytes of a file, as many as it has up to FINGERPRINT_BYTES) start with this fingerprint? */
export function fingerprintMatches(identity: FileIdentity, head: Buffer): boolean {
  return head.length >= identity.fpLen && fingerprintHash(head, identity.fpLen) === identity.fpHash;
}

/** The first bytes of an open file (one pread). */
export async function readHead(handle: FileHandle): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(FINGERPRINT_BYTES);
  const { bytesRead } = await handle.read(buffer, 0, FINGERPRINT_BYTES, 0);
  return buffer.subarray(0, bytesRead);
}

/** The same, read at once (a page-cache read of 1 KiB: cheaper than a trip through the thread pool). */
export function readHeadSync(handle: FileHandle): Buffer {
  const buffer = Buffer.allocUnsafe(FINGERPRINT_BYTES);
  return buffer.subarray(0, readSync(handle.fd, buffer, 0, FINGERPRINT_BYTES, 0));
}
