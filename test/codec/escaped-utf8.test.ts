import test from 'ava';
import { decodeEscapedUtf8 } from '../../src/codec/escaped-utf8.js';

/** The inverse: escaped bytes back to themselves, everything else as UTF-8. */
function encodeEscaped(text: string): Buffer {
  const parts: Buffer[] = [];
  for (const c of text) {
    const code = c.charCodeAt(0);
    if (c.length === 1 && code >= 0xdc80 && code <= 0xdcff) parts.push(Buffer.from([code - 0xdc00]));
    else parts.push(Buffer.from(c, 'utf8'));
  }
  return Buffer.concat(parts);
}

test('valid UTF-8 decodes as usual; each invalid byte becomes U+DC80+byte, never U+FFFD', (t) => {
  t.is(decodeEscapedUtf8(Buffer.from('añb€😀')), 'añb€😀');
  t.is(decodeEscapedUtf8(Buffer.from([0x61, 0xff, 0x62])), 'a\udcffb');
  t.is(decodeEscapedUtf8(Buffer.from([0xed, 0xa0, 0x80])), '\udced\udca0\udc80', 'an encoded surrogate is not UTF-8');
  t.is(decodeEscapedUtf8(Buffer.from([0xc0, 0xaf])), '\udcc0\udcaf', 'an overlong form is not UTF-8');
  t.is(decodeEscapedUtf8(Buffer.from([0xe2, 0x82])), '\udce2\udc82', 'a cut character');
  t.is(decodeEscapedUtf8(Buffer.from('\ufffd')), '\ufffd', 'a real U+FFFD stays itself');
});

test('random byte strings: decoding loses nothing (it inverts exactly), so different bytes never give the same string', (t) => {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const seen = new Map<string, string>();
  for (let k = 0; k < 20_000; k++) {
    const pool = [0x61, 0x80, 0xbf, 0xc2, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0xf0, 0x9f, 0x98, 0x80, 0xf4, 0x90, 0xff, 0x00];
    const bytes = Buffer.from(Array.from({ length: Math.floor(next() * 8) }, () => pool[Math.floor(next() * pool.length)]!));
    const text = decodeEscapedUtf8(bytes);
    t.true(encodeEscaped(text).equals(bytes), bytes.toString('hex'));
    const other = seen.get(text);
    if (other !== undefined && other !== bytes.toString('hex')) t.fail(`${other} and ${bytes.toString('hex')} decode alike`);
    seen.set(text, bytes.toString('hex'));
  }
});
