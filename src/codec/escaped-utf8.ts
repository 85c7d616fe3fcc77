/**
 * UTF-8 decoding that keeps invalid bytes apart instead of turning each into U+FFFD: a byte that
 * is not part of a valid sequence becomes the lone surrogate U+DC00 + byte (U+DC80–U+DCFF, as
 * Python's "surrogateescape"). Two different byte strings therefore decode to two different
 * strings; a tag that names a file (`store file`) keeps it apart from every other tag.
 * encodeEscapedUtf8 is its inverse, so the bytes survive a stage that writes them again.
 */
export function decodeEscapedUtf8(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  let runStart = 0;
  const n = bytes.length;
  while (i < n) {
    const length = validSequenceAt(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    if (runStart < i) out += Buffer.from(bytes.buffer, bytes.byteOffset + runStart, i - runStart).toString('utf8');
    out += String.fromCharCode(0xdc00 + bytes[i]!);
    i++;
    runStart = i;
  }
  if (runStart < n) out += Buffer.from(bytes.buffer, bytes.byteOffset + runStart, n - runStart).toString('utf8');
  return out;
}

/** Length of the well-formed UTF-8 sequence at `i` (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF), or 0. */
function validSequenceAt(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** False when `s` holds a lone surrogate (String.prototype.isWellFormed: ES2024, in Node ≥ 20). */
export function isWellFormed(s: string): boolean {
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/**
 * The bytes of a string, the inverse of decodeEscapedUtf8: UTF-8, except that a lone surrogate
 * U+DC80–U+DCFF (an escaped byte) becomes that byte again, and any other lone surrogate (one a
 * JSON `\uD800` escape made) its three-byte generalized UTF-8 form (ED A0 80, as CESU-8 and
 * WTF-8 write it) rather than U+FFFD, which the string may hold as itself.
 */
export function encodeEscapedUtf8(s: string): Buffer {
  if (isWellFormed(s)) return Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(s.length * 3);
  return out.subarray(0, writeEscapedUtf8(s, out, 0));
}

/**
 * Writes encodeEscapedUtf8(s) into `b` at `p` (room for 3 bytes per UTF-16 unit); returns the end.
 * An inline loop: the MessagePack writer's path for short non-ASCII strings.
 */
export function writeEscapedUtf8(s: string, b: Buffer, p: number): number {
  const len = s.length;
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      b[p++] = c;
    } else if (c < 0x800) {
      b[p++] = 0xc0 | (c >> 6);
      b[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < len) {
        const low = s.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
          i++;
          b[p++] = 0xf0 | (c >> 18);
          b[p++] = 0x80 | ((c >> 12) & 0x3f);
          b[p++] = 0x80 | ((c >> 6) & 0x3f);
          b[p++] = 0x80 | (c & 0x3f);
          continue;
        }
      }
      if (c >= 0xdc80 && c <= 0xdcff) {
        b[p++] = c - 0xdc00; // an escaped byte: the byte it stands for
        continue;
      }
      // any other character of the BMP, a lone surrogate included (generalized UTF-8)
      b[p++] = 0xe0 | (c >> 12);
      b[p++] = 0x80 | ((c >> 6) & 0x3f);
      b[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p;
}

/**
 * The one string of a string's bytes (decodeEscapedUtf8 of encodeEscapedUtf8): what a string
 * reads as after a stage wrote it as MessagePack. A JSON `\uD800` becomes the escaped bytes
 * ED A0 80; escaped bytes that together are UTF-8 become that character. Two strings are the
 * same bytes exactly when their canonical forms are equal.
 */
export function canonicalEscaped(s: string): string {
  return isWellFormed(s) ? s : decodeEscapedUtf8(encodeEscapedUtf8(s));
}
