import test from 'ava';
import { EventTime } from '../../src/event/event-time.js';
import { encodeEntryStream, encodeForward, encodeMessage, encodePackedForward } from '../../src/protocol/encode-request.js';
import { FrameScanner } from '../../src/protocol/frame.js';
import { ByteQueue } from '../../src/receive/byte-queue.js';

test('ByteQueue + FrameScanner, as a connection uses them, return every request intact across random splits', (t) => {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  const int = (n: number) => Math.floor(random() * n);
  for (let round = 0; round < 30; round++) {
    const frames: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      const events = Array.from({ length: 1 + int(5) }, (_, j) => ({ tag: 't', time: new EventTime(i, j), record: { i, j, pad: 'p'.repeat(int(2000)) } }));
      const kind = int(3);
      frames.push(kind === 0 ? encodeMessage(events[0]!, { chunk: `c${i}` }) : kind === 1 ? encodeForward('f', events) : encodePackedForward('p', encodeEntryStream(events), { chunk: `c${i}` }));
    }
    const stream = Buffer.concat(frames);
    const queue = new ByteQueue(1024);
    const scanner = new FrameScanner({ maxBytes: 1 << 20, maxDepth: 16 });
    const out: Buffer[] = [];
    let offset = 0;
    while (offset < stream.length) {
      const size = 1 + int(random() < 0.5 ? 100 : 20_000);
      queue.append(stream.subarray(offset, offset + size));
      offset += size;
      for (;;) {
        const n = scanner.scan(queue.view());
        if (n < 0) break;
        out.push(Buffer.from(queue.view().subarray(0, n)));
        queue.consume(n);
      }
    }
    t.is(out.length, frames.length);
    t.true(out.every((f, i) => f.equals(frames[i]!)), `round ${round}`);
  }
});
