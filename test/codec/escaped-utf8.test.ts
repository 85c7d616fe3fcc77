import test from 'ava';
import { EventTime } from '../../src/event/event-time.js';
import { canonicalEscaped, decodeEscapedUtf8, encodeEscapedUtf8 } from '../../src/codec/escaped-utf8.js';
import { MessageStreamDecoder } from '../../src/codec/msgpack-reader.js';
import { MsgpackWriter } from '../../src/codec/msgpack-writer.js';

/** The reference inverse, character by character: escaped bytes back to themselves, everything else as UTF-8. */
function encodeEscaped(text: string): Buffer {
  const parts: Buffer[] = [];
  for (const c of text) {
    const code = c.charCodeAt(0);
    if (c.length === 1 && code >= 0xdc80 && code <= 0xdcff) parts.push(Buffer.from([code - 0xdc00]));
    else parts.push(Buffer.from(c, 'utf8'));
  }
  return Buffer.concat(parts);
}

/** The bytes MsgpackWriter writes for a tag: the str payload of a one-entry stream. */
function writtenTagBytes(tag: string): Buffer {
  const writer = new MsgpackWriter();
  writer.writeEntry({ tag, time: new EventTime(1, 0), record: {} });
  const entry = writer.take();
  const head = entry[1]!;
  if (head >= 0xa0 && head <= 0xbf) return entry.subarray(2, 2 + (head & 0x1f));
  if (head === 0xd9) return entry.subarray(3, 3 + entry[2]!);
  return entry.subarray(4, 4 + entry.readUInt16BE(2));
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
    t.true(encodeEscapedUtf8(text).equals(bytes), bytes.toString('hex'));
    const other = seen.get(text);
    if (other !== undefined && other !== bytes.toString('hex')) t.fail(`${other} and ${bytes.toString('hex')} decode alike`);
    seen.set(text, bytes.toString('hex'));
  }
});

test('the MessagePack writer is the inverse of the escaped decoding: an invalid byte is written back as that byte, short or long, and a stage round trip keeps the tag', (t) => {
  for (const pad of ['', 'x'.repeat(70), 'é'.repeat(40)]) {
    for (const bytes of [[0x61, 0xff, 0x62], [0x61, 0xfe, 0x62], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe2, 0x82]]) {
      const raw = Buffer.concat([Buffer.from(pad), Buffer.from(bytes)]);
      const tag = decodeEscapedUtf8(raw);
      t.true(writtenTagBytes(tag).equals(raw), `${raw.toString('hex')} (${raw.length} bytes)`);
      const writer = new MsgpackWriter();
      writer.writeEntry({ tag, time: new EventTime(1, 0), record: { n: 1 } });
      const [back] = new MessageStreamDecoder().push(writer.take());
      t.is(back!.tag, tag, 'read back as the same string');
    }
  }
});

test('a lone surrogate that is not an escaped byte (a JSON \\ud800) is written as its generalized UTF-8 bytes, never as U+FFFD, and reads back in its canonical form', (t) => {
  t.deepEqual([...writtenTagBytes('a\ud800b')], [0x61, 0xed, 0xa0, 0x80, 0x62]);
  t.deepEqual([...writtenTagBytes('a\udfffb')], [0x61, 0xed, 0xbf, 0xbf, 0x62]);
  t.deepEqual([...writtenTagBytes('a\ufffdb')], [0x61, 0xef, 0xbf, 0xbd, 0x62], 'a real U+FFFD is itself');
  t.true(writtenTagBytes('x'.repeat(70) + '\ud800').equals(Buffer.from([...Buffer.from('x'.repeat(70)), 0xed, 0xa0, 0x80])), 'the long-string path too');
  t.is(canonicalEscaped('a\ud800b'), 'a\udced\udca0\udc80b');
  t.is(canonicalEscaped('a\udcffb'), 'a\udcffb', 'an escaped byte is already canonical');
  t.is(canonicalEscaped('\udcc3\udca9'), 'é', 'escaped bytes that together are UTF-8 are that character');
  t.is(canonicalEscaped('😀'), '😀');
  const writer = new MsgpackWriter();
  writer.writeEntry({ tag: 'a\ud800b', time: new EventTime(1, 0), record: {} });
  t.is(new MessageStreamDecoder().push(writer.take())[0]!.tag, canonicalEscaped('a\ud800b'));
});
