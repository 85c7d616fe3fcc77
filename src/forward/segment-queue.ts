import { MsgpackWriter } from '../codec/msgpack-writer.js';
import type { PositionsRecord } from '../checkpoint/checkpoint-tracker.js';
import { recordPositions } from '../event/source-position.js';
import type { LogEvent } from '../event/event.js';
import { newChunkId } from './chunk.js';
import { Signal } from '../stream/signal.js';
import type { InputRun, InputRunQueue } from './input-run-sender.js';

/** A segment: forward's in-memory run of input without --buffer (ARCHITECTURE.md, Words). */
interface MemorySegment extends InputRun {
  done: boolean;
}

/**
 * Segments in memory, for `forward --checkpoint` without --buffer: events are packed as they
 * come and cut into a segment at `segmentBytes` or `maxAgeMs` after its first event. A
 * segment's positions are committed (`onAcked`) once it and every segment before it are
 * acknowledged, so the checkpoint never passes an event still in flight. Memory: the open
 * segment and at most two sealed ones not yet taken (append waits); what was taken is bounded
 * by the forwarder's --max-pending-bytes.
 */
export class MemorySegmentQueue implements InputRunQueue {
  private writer = new MsgpackWriter();
  private events = 0;
  private positions: Record<string, number> = {};
  private timer: NodeJS.Timeout | undefined;
  private readonly sealed: MemorySegment[] = [];
  /** Taken, in order, until acknowledged together with every earlier one. */
  private readonly outstanding: MemorySegment[] = [];
  private ended = false;
  private readonly signal = new Signal();

  constructor(
    private readonly segmentBytes: number,
    private readonly maxAgeMs: number,
    private readonly onAcked: (positions: PositionsRecord) => void,
  ) {}

  async append(events: readonly LogEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      if (this.events === 0) this.timer = setTimeout(() => this.seal(), this.maxAgeMs);
      this.writer.writeEntry(event);
      this.events++;
      recordPositions(this.positions, event);
      if (this.writer.length >= this.segmentBytes) this.seal();
    }
    while (this.sealed.length > 2) await this.signal.wait();
  }

  /** End of input: seal what is held; next() ends once everything is taken. */
  finish(): void {
    this.seal();
    this.ended = true;
    this.signal.notify();
  }

  async next(): Promise<InputRun | undefined> {
    for (;;) {
      const segment = this.sealed.shift();
      if (segment) {
        this.outstanding.push(segment);
        this.signal.notify();
        return segment;
      }
      if (this.ended) return undefined;
      await this.signal.wait();
    }
  }

  async ack(segment: InputRun): Promise<void> {
    (segment as MemorySegment).done = true;
    let positions: Record<string, number> | undefined;
    while (this.outstanding.length > 0 && this.outstanding[0]!.done) {
      positions = Object.assign(positions ?? {}, this.outstanding.shift()!.positions);
    }
    if (positions) this.onAcked(positions);
  }

  private seal(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.events === 0) return;
    this.sealed.push({ id: newChunkId(), events: this.events, payload: this.writer.take(), positions: this.positions, done: false });
    this.events = 0;
    this.positions = {};
    this.signal.notify();
  }
}
