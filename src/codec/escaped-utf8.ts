/**
 * UTF-8 decoding that keeps invalid bytes apart instead of turning each into U+FFFD: a byte that
 * is not part of a valid sequence becomes the lone surrogate U+DC00 + byte (U+DC80–U+DCFF, as
 * Python's "surrogateescape"). Two different byte strings therefore decode to two different
 * strings; a tag that names a file (`store file`) keeps it apart from every other tag.
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
