import type { LogEvent } from '../event/event.js';
import { EventTime } from '../event/event-time.js';
import { ContainerLogJoiner, type LineFormat } from './container-log.js';
import { ByteLineSplitter, LineBatch } from '../codec/line-splitter.js';
import type { LineUnit } from './line-unit.js';
import { MultilineGrouper, type MultilineRule } from './multiline.js';

export interface PipelineOptions {
  maxLineBytes: number;
  format: LineFormat;
  /** A fresh rule per pipeline (rules keep state); undefined: one event per line. */
  multiline?: () => MultilineRule;
  tag: string;
  /** Record field for the file's path, if wanted. */
  pathKey?: string;
  path: string;
}

/**
 * One source's bytes → events: line splitting, then (optionally) container-log joining and
 * multiline grouping, then event building. Works a chunk at a time and returns one batch per
 * chunk. Tracks `emittedEnd`, the offset just past the last line that has left as an event:
 * the only offset that is safe to save as a position, because everything held (an unfinished
 * line, a partial container line, a multiline group) lies after it.
 */
export class LinePipeline {
  private readonly splitter: ByteLineSplitter;
  private readonly joiner: ContainerLogJoiner | undefined;
  private readonly grouper: MultilineGrouper | undefined;
  /** The source's id for the `src` option; undefined for stdin (nothing to resume). */
  id: string | undefined;
  emittedEnd: number;
  tag: string;
  private path: string;
  private lastDataAt = Date.now();
  private lastUnitAt = Date.now();

  constructor(
    private readonly options: PipelineOptions,
    start: number,
  ) {
    this.splitter = new ByteLineSplitter(options.maxLineBytes, start);
    this.emittedEnd = start;
    this.tag = options.tag;
    this.path = options.path;
    if (options.format !== 'text') this.joiner = new ContainerLogJoiner(options.format, options.maxLineBytes);
    if (options.multiline) this.grouper = new MultilineGrouper(options.multiline(), options.maxLineBytes);
  }

  /** Offset of the next byte to push. */
  get pos(): number {
    return this.splitter.pos;
  }

  get holding(): boolean {
    return this.splitter.holding || Boolean(this.joiner?.holding) || Boolean(this.grouper?.holding);
  }

  setPath(path: string, tag: string): void {
    this.path = path;
    this.tag = tag;
  }

  /** Drops everything held and continues at `pos` (truncation, hand-off to a rotated copy). */
  reset(pos: number): void {
    this.splitter.reset(pos);
    this.joiner?.reset();
    this.grouper?.reset();
    this.emittedEnd = pos;
  }

  push(chunk: Buffer, now = Date.now()): LogEvent[] {
    this.lastDataAt = now;
    const batch = new LineBatch();
    this.splitter.push(chunk, batch);
    return this.process(batch, now, false);
  }

  /** Lets out what has waited too long: an unfinished line, a partial container line, a multiline group. */
  flushIdle(now: number, partialFlushMs: number, multilineFlushMs: number): LogEvent[] {
    if (!this.holding) return [];
    const events: LogEvent[] = [];
    if (now - this.lastDataAt >= partialFlushMs && (this.splitter.holding || this.joiner?.holding)) {
      const batch = new LineBatch();
      this.splitter.flush(batch);
      events.push(...this.process(batch, now, true));
    }
    if (this.grouper?.holding && now - this.lastUnitAt >= multilineFlushMs) {
      const units: LineUnit[] = [];
      this.grouper.flush(units);
      events.push(...this.build(units, now));
    }
    return events;
  }

  /** Everything held, at once (end of input, a file that is gone). */
  flushAll(now = Date.now()): LogEvent[] {
    const batch = new LineBatch();
    this.splitter.flush(batch);
    const events = this.process(batch, now, true);
    if (this.grouper?.holding) {
      const units: LineUnit[] = [];
      this.grouper.flush(units);
      events.push(...this.build(units, now));
    }
    return events;
  }

  private process(batch: LineBatch, now: number, flushJoiner: boolean): LogEvent[] {
    if (!this.joiner && !this.grouper) return this.buildLines(batch, now);
    let units: LineUnit[] = [];
    if (this.joiner) {
      this.joiner.push(batch, units);
      if (flushJoiner) this.joiner.flush(units);
    } else {
      const { texts, ends } = batch;
      let t = 0;
      for (let i = 0; i < texts.length; i++) {
        const truncated = batch.truncated[t] === i;
        if (truncated) t++;
        units.push({ text: texts[i]!, end: ends[i]!, truncated });
      }
    }
    if (this.grouper && units.length > 0) {
      this.lastUnitAt = now;
      const grouped: LineUnit[] = [];
      this.grouper.push(units, grouped);
      units = grouped;
    }
    return this.build(units, now);
  }

  /** The hot path: plain lines, one event each, no intermediate objects. */
  private buildLines(batch: LineBatch, now: number): LogEvent[] {
    const { texts, ends } = batch;
    const n = texts.length;
    const events: LogEvent[] = new Array(n);
    if (n === 0) return events;
    const time = EventTime.fromMillis(now);
    const { tag, id, path } = this;
    const pathKey = this.options.pathKey;
    for (let i = 0; i < n; i++) {
      const record: Record<string, unknown> = { message: texts[i] };
      if (pathKey !== undefined) record[pathKey] = path;
      events[i] = id === undefined ? { tag, time, record } : { tag, time, record, options: { src: { id, off: ends[i] } } };
    }
    for (const i of batch.truncated) events[i]!.record.truncated = true;
    this.emittedEnd = ends[n - 1]!;
    return events;
  }

  private build(units: readonly LineUnit[], now: number): LogEvent[] {
    const n = units.length;
    const events: LogEvent[] = new Array(n);
    if (n === 0) return events;
    const readTime = EventTime.fromMillis(now);
    const { tag, id, path } = this;
    const pathKey = this.options.pathKey;
    for (let i = 0; i < n; i++) {
      const unit = units[i]!;
      const record: Record<string, unknown> = { message: unit.text, ...unit.fields };
      if (pathKey !== undefined) record[pathKey] = path;
      if (unit.truncated) record.truncated = true;
      const time = unit.time ?? readTime;
      events[i] = id === undefined ? { tag, time, record } : { tag, time, record, options: { src: { id, off: unit.end } } };
    }
    this.emittedEnd = units[n - 1]!.end;
    return events;
  }
}
