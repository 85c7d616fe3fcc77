import type { LogEvent } from '../../event/event.js';
import { MsgpackWriter } from '../../codec/msgpack-writer.js';
import { eventToJSON, valueToJSON } from '../../codec/ndjson.js';
import { EventWithLine } from '../../codec/ndjson-line-events.js';

import type { FileFormat } from '../store-choices.js';
export { FILE_FORMATS, type FileFormat } from '../store-choices.js';

/**
 * Encodes a group of events bound for one file into one buffer: NDJSON (logkit's event lines),
 * MessagePack (Message-mode entries, what `logkit cat` and Fluentd read), or text (the message
 * field alone, one a line; a record without it is written as its JSON).
 */
export class FileEncoder {
  private readonly msgpack = new MsgpackWriter();

  constructor(
    readonly format: FileFormat,
    private readonly messageKey: string,
  ) {}

  encode(events: readonly LogEvent[]): Buffer {
    const parts = this.encodeParts(events);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** The same bytes in parts, to be written with one writev: NDJSON lines copied as they lie. */
  encodeParts(events: readonly LogEvent[]): Buffer[] {
    switch (this.format) {
      case 'msgpack':
        for (let i = 0; i < events.length; i++) this.msgpack.writeEntry(events[i]!);
        return [this.msgpack.take()];
      case 'ndjson':
        return ndjsonLines(events);
      case 'text': {
        let text = '';
        for (let i = 0; i < events.length; i++) {
          const value = events[i]!.record[this.messageKey];
          text += (typeof value === 'string' ? value : valueToJSON(value === undefined ? events[i]!.record : value)) + '\n';
        }
        return [Buffer.from(text)];
      }
    }
  }
}

/**
 * NDJSON lines: an event read with its line (EventWithLine) is copied as bytes, and the lines of
 * consecutive events, which lie next to each other in one buffer, are copied as one run.
 */
function ndjsonLines(events: readonly LogEvent[]): Buffer[] {
  const parts: Buffer[] = [];
  let text = '';
  let run: { buf: Buffer; start: number; end: number } | undefined;
  const endRun = (): void => {
    if (run) parts.push(run.buf.subarray(run.start, run.end));
    run = undefined;
  };
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    if (event instanceof EventWithLine) {
      if (text) {
        parts.push(Buffer.from(text));
        text = '';
      }
      if (run && run.buf === event.lineBuf && run.end === event.lineStart) run.end = event.lineEnd;
      else {
        endRun();
        run = { buf: event.lineBuf, start: event.lineStart, end: event.lineEnd };
      }
    } else {
      endRun();
      text += eventToJSON(event) + '\n';
    }
  }
  endRun();
  if (text) parts.push(Buffer.from(text));
  // the lines' bytes are never written over (JsonOutput): the runs are used as they are
  return parts;
}
