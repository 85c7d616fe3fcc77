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

test('ByteQueue holds nothing before the first bytes, grows from 4 KiB, and lets go of a large buffer once emptied', (t) => {
  const queue = new ByteQueue();
  t.is(queue.capacity, 0, 'an idle connection holds no buffer');
  queue.append(Buffer.from('x'));
  t.is(queue.capacity, 4096);
  queue.consume(1);
  t.is(queue.capacity, 4096, 'a small buffer is kept for the next request');
  queue.append(Buffer.alloc(300 * 1024));
  t.true(queue.capacity >= 300 * 1024);
  queue.consume(100);
  t.true(queue.capacity >= 300 * 1024, 'kept while not empty');
  queue.consume(300 * 1024 - 100);
  t.is(queue.capacity, 0, 'a large buffer is let go once emptied');
});
