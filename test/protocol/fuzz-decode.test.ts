/**
 * In-process fuzz of the wire layer: 200,000 independent mutated or random inputs through the
 * same path a connection takes (FrameScanner → parseRequest → events). The only failure allowed
 * is a ProtocolError (which closes a connection); anything else would be a crash.
 */
import { gzipSync } from 'node:zlib';
import test from 'ava';
import { EventTime } from '../../src/event/event-time.js';
import { FrameScanner, ProtocolError } from '../../src/protocol/frame.js';
import { createInnerUnpackr, parseRequest, requestEvents, decompressPayload, packedEvents } from '../../src/protocol/request.js';
import { encodeEntryStream, encodeForward, encodeMessage, encodePackedForward } from '../../src/protocol/encode-request.js';
import { parseHelo, parsePing, encodeHelo, encodePing, newHeloState, verifyPong } from '../../src/protocol/handshake.js';
import { mulberry32 } from '../helpers/prng.js';


test('200,000 mutated and random inputs: only ProtocolError, never a crash', async (t) => {
  const random = mulberry32(4);
  const int = (n: number) => Math.floor(random() * n);
  const limits = { maxBytes: 64 * 1024, maxDepth: 16, maxDecompressedBytes: 256 * 1024 };
  const unpackr = createInnerUnpackr();
  const events = Array.from({ length: 3 }, (_, i) => ({ tag: 't', time: new EventTime(1700000000 + i, i), record: { i, s: 'text', b: Buffer.from([1, 2]), a: [1, { x: null }] } }));
  const seeds = [
    encodeMessage(events[0]!, { chunk: 'c\n', size: 1 }),
    encodeForward('t', events, { chunk: 'c' }),
    encodePackedForward('t', encodeEntryStream(events), { chunk: 'c', size: 3 }),
    encodePackedForward('t', gzipSync(encodeEntryStream(events)), { compressed: 'gzip' }),
    encodeHelo(newHeloState(true)),
    encodePing(parseHelo(encodeHelo(newHeloState(false))), { sharedKey: 'k', clientHostname: 'h' }).bytes,
  ];
  const counts = { inputs: 0, ok: 0, protocolErrors: 0, incomplete: 0 };
  for (let n = 0; n < 200_000; n++) {
    let input: Buffer;
    if (n % 10 === 9) {
      input = Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256)));
    } else {
      input = Buffer.from(seeds[n % seeds.length]!);
      for (let k = 1 + int(3); k > 0; k--) input[int(input.length)] = int(256);
      if (random() < 0.1) input = input.subarray(0, int(input.length));
    }
    counts.inputs++;
    try {
      const scanner = new FrameScanner(limits);
      const length = scanner.scan(input);
      if (length < 0) {
        counts.incomplete++;
        continue;
      }
      const frame = input.subarray(0, length);
      if (n % seeds.length === 4) parseHelo(frame);
      else if (n % seeds.length === 5) parsePing(frame);
      else {
        const request = parseRequest(frame, unpackr);
        if (request?.mode === 'CompressedPackedForward') packedEvents(request.tag, await decompressPayload(request.payload!, limits), unpackr, limits);
        else if (request) requestEvents(request, unpackr, limits);
      }
      counts.ok++;
    } catch (error) {
      if (!(error instanceof ProtocolError)) {
        t.fail(`input ${n}: ${String(error)} ${input.toString('hex').slice(0, 200)}`);
        break;
      }
      counts.protocolErrors++;
    }
  }
  t.log(counts);
  t.is(counts.inputs, 200_000);
  t.true(counts.ok > 10_000, 'a good share of mutated inputs is still valid and decoded');
  t.true(counts.protocolErrors > 10_000);
  // verifyPong on garbage too
  t.throws(() => verifyPong(Buffer.from([0x95, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0]), { nonce: Buffer.alloc(1), authSalt: Buffer.alloc(0), keepalive: true }, Buffer.alloc(1), 'k'));
});
