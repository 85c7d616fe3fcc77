import { isUtf8 } from 'node:buffer';
import { EventTime } from '../event/event-time.js';
import type { LineBatch, LineText } from '../codec/line-splitter.js';
import { appendBounded, byteLength, type LineUnit } from './line-unit.js';

import type { LineFormat } from './tail-choices.js';
export { LINE_FORMATS, type LineFormat } from './tail-choices.js';

/**
 * Container runtime log files, decoded and re-joined: a container's long line is split by the
 * runtime into pieces, and these join them back into one event.
 *
 * - docker (json-file driver): `{"log":"…\n","stream":"stdout","time":"…"}` per line; a `log`
 *   not ending in a newline is a partial piece, joined with the next.
 * - cri (containerd, CRI-O): `<RFC 3339 time> <stream> <P|F> <content>`; `P` is a partial piece,
 *   `F` the final one.
 *
 * The event's record is `{message, stream}` and its time is the runtime's time of the first
 * piece. A line that is not in the format is kept as `{message: LINE, error: …}`.
 */
export class ContainerLogJoiner {
  private held: LineUnit | undefined;
  private size = { bytes: 0 };

  constructor(
    private readonly format: 'docker' | 'cri',
    private readonly maxBytes: number,
  ) {}

  get holding(): boolean {
    return this.held !== undefined;
  }

  reset(): void {
    this.held = undefined;
  }

  push(batch: LineBatch, out: LineUnit[]): void {
    const { texts, ends } = batch;
    let t = 0;
    for (let i = 0; i < texts.length; i++) {
      const truncated = batch.truncated[t] === i;
      if (truncated) t++;
      const piece = this.format === 'docker' ? decodeDocker(texts[i]!) : decodeCri(texts[i]!);
      const unit: LineUnit = { text: piece.text, end: ends[i]!, truncated, time: piece.time, fields: piece.fields };
      if (this.held && piece.partialOf && this.held.fields?.stream === piece.fields?.stream) {
        appendBounded(this.held, unit, '', this.maxBytes, this.size);
        if (!piece.partial) {
          out.push(this.held);
          this.held = undefined;
        }
        continue;
      }
      if (this.held) {
        // a malformed line or another stream ends the held piece rather than being mixed into it
        out.push(this.held);
        this.held = undefined;
      }
      if (piece.partial) {
        this.held = unit;
        this.size.bytes = byteLength(unit.text);
        continue;
      }
      out.push(unit);
    }
  }

  flush(out: LineUnit[]): void {
    if (this.held) out.push(this.held);
    this.held = undefined;
  }
}

interface Piece {
  text: LineText;
  partial: boolean;
  /** A piece that may continue a held one (every well-formed piece). */
  partialOf: boolean;
  time?: EventTime;
  fields: Record<string, unknown>;
}

function malformed(text: LineText, format: string): Piece {
  return { text, partial: false, partialOf: false, fields: { error: `not a ${format} log line` } };
}

function decodeDocker(line: LineText): Piece {
  const text = typeof line === 'string' ? line : line.toString('utf8');
  let value: { log?: unknown; stream?: unknown; time?: unknown };
  try {
    value = JSON.parse(text) as typeof value;
  } catch {
    return malformed(line, 'Docker json-file');
  }
  if (!value || typeof value.log !== 'string') return malformed(line, 'Docker json-file');
  let log = value.log;
  const partial = !log.endsWith('\n');
  if (!partial) log = log.slice(0, log.endsWith('\r\n') ? -2 : -1);
  const fields: Record<string, unknown> = {};
  if (typeof value.stream === 'string') fields.stream = value.stream;
  const time = typeof value.time === 'string' ? EventTime.fromISO(value.time) : undefined;
  return { text: log, partial, partialOf: true, time, fields };
}

function decodeCri(line: LineText): Piece {
  // byte positions equal character positions in latin1, so the content keeps its raw bytes
  const head = typeof line === 'string' ? line : line.toString('latin1');
  const s1 = head.indexOf(' ');
  const s2 = s1 < 0 ? -1 : head.indexOf(' ', s1 + 1);
  if (s2 < 0) return malformed(line, 'CRI');
  let s3 = head.indexOf(' ', s2 + 1);
  if (s3 < 0) s3 = head.length;
  const flag = head.slice(s2 + 1, s3);
  const time = EventTime.fromISO(head.slice(0, s1));
  if ((flag !== 'P' && flag !== 'F') || !time) return malformed(line, 'CRI');
  let text: LineText;
  if (typeof line === 'string') text = line.slice(s3 + 1);
  else {
    const bytes = line.subarray(Math.min(s3 + 1, line.length));
    text = isUtf8(bytes) ? bytes.toString('utf8') : Buffer.from(bytes);
  }
  return { text, partial: flag === 'P', partialOf: true, time, fields: { stream: head.slice(s1 + 1, s2) } };
}
