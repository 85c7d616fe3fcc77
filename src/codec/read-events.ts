import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { LogEvent } from '../event/event.js';
import { EventTime } from '../event/event-time.js';
import { DecodeError } from './decode-error.js';
import { ByteLineSplitter, DEFAULT_MAX_LINE_BYTES, LineBatch, type LineText } from './line-splitter.js';
import { decodeEscapedUtf8 } from './escaped-utf8.js';
import type { EntryForm } from './msgpack-reader.js';
import { isEventLine, jsonToEvent } from './ndjson.js';
import { SkippedLines } from './skipped-lines.js';

import type { InputFormat } from './stream-formats.js';
export { INPUT_FORMATS, type InputFormat } from './stream-formats.js';

export interface ReadOptions {
  /** `auto` (default) detects msgpack, NDJSON events, or raw text lines from the first bytes. */
  format?: InputFormat;
  /** Tag for events made from raw text lines. */
  textTag?: string;
  maxEntryBytes?: number;
  /** Longest line (default 1 MiB): a longer text line is cut and flagged, a longer NDJSON line skipped and reported. */
  maxLineBytes?: number;
  /** What MessagePack entries become (see EntryForm): objects by default. */
  entries?: EntryForm;
}

/**
 * Reads a logkit stream and yields its events in batches (one batch per input chunk, so a
 * consumer pays per buffer, not per event). Gzip input is unwrapped. MessagePack: throws
 * DecodeError at the first bad entry, after yielding every event before it (past a broken entry
 * the framing is lost). NDJSON: a bad line (over the line limit, or not an event) is skipped with
 * a warning and reading goes on, since the next line is whole; the DecodeError that reports the
 * skipped lines comes at the end, after every other event.
 */
export async function* readEvents(source: AsyncIterable<Buffer>, options: ReadOptions = {}): AsyncGenerator<LogEvent[]> {
  const iterator = source[Symbol.asyncIterator]();
  // Gather enough bytes to decide: two for the gzip magic, one full line for NDJSON vs text.
  let head: Buffer = Buffer.alloc(0);
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    head = head.length === 0 ? next.value : Buffer.concat([head, next.value]);
    if (head.length >= 2 && (!looksTextual(head[0]!) || head.includes(0x0a) || head.length > 64 * 1024)) break;
  }
  if (head.length === 0) return;
  const chunks = prepend(head, iterator);
  if (head[0] === 0x1f && head[1] === 0x8b) {
    yield* readEvents(gunzip(chunks), options);
    return;
  }
  const format = options.format && options.format !== 'auto' ? options.format : detectFormat(head);
  if (format === 'msgpack') yield* readMessagePack(chunks, options);
  else yield* readLines(chunks, format, options);
}

/** A MessagePack array header: Message-mode entries start with a fixarray of 3 or 4 (array16/32 for other modes). */
export function startsMessagePackArray(head: Buffer): boolean {
  const first = head[0]!;
  return (first >= 0x90 && first <= 0x9f) || first === 0xdc || first === 0xdd;
}

function detectFormat(head: Buffer): InputFormat {
  if (startsMessagePackArray(head)) return 'msgpack';
  const newline = head.indexOf(0x0a);
  if (newline < 0) return EVENT_LINE_START.test(head.subarray(0, 256).toString('latin1')) ? 'json' : 'text';
  const firstLine = head.subarray(0, newline).toString('utf8');
  return firstLine.trimStart().startsWith('{') && isEventLine(firstLine) ? 'json' : 'text';
}

/**
 * How an NDJSON event line begins (logkit writes `{"time":`; other writers may order the keys
 * differently). It decides when the first line is too long to be read whole before deciding.
 */
const EVENT_LINE_START = /^\s*\{\s*"(?:time|tag|record|options)"\s*:/;

function looksTextual(byte: number): boolean {
  return byte >= 0x20 && byte < 0x80;
}

async function* readMessagePack(chunks: AsyncIterable<Buffer>, options: ReadOptions): AsyncGenerator<LogEvent[]> {
  // the decoder (and msgpackr) loads with the first MessagePack input: NDJSON, text or no input never needs it
  const { MessageStreamDecoder } = await import('./msgpack-reader.js');
  const decoder = new MessageStreamDecoder(options.maxEntryBytes, options.entries);
  for await (const chunk of chunks) {
    const events = decoder.push(chunk);
    if (events.length > 0) yield events;
  }
  decoder.end();
}

async function* readLines(chunks: AsyncIterable<Buffer>, format: InputFormat, options: ReadOptions): AsyncGenerator<LogEvent[]> {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const splitter = new ByteLineSplitter(maxLineBytes);
  const lines = new LineBatch();
  const tag = options.textTag ?? 'stdin';
  let lineNumber = 0;
  const skipped = new SkippedLines(maxLineBytes);
  const toEvents = (): LogEvent[] => {
    const { texts, truncated } = lines;
    const events: LogEvent[] = [];
    if (format === 'text') {
      const time = EventTime.now();
      for (let i = 0; i < texts.length; i++) events.push({ tag, time, record: { message: texts[i]! } });
      // the same record `tail` makes of a line: cut at the limit, flagged
      for (const i of truncated) events[i]!.record.truncated = true;
      lineNumber += texts.length;
    } else {
      let t = 0;
      for (let i = 0; i < texts.length; i++) {
        lineNumber++;
        if (truncated[t] === i) {
          t++;
          skipped.overLimit(lineNumber);
          continue;
        }
        const line = textOf(texts[i]!);
        if (line.trim() === '') continue;
        const event = jsonToEvent(line);
        if (typeof event === 'string') skipped.notAnEvent(lineNumber, event);
        else events.push(event);
      }
    }
    lines.clear();
    return events;
  };
  for await (const chunk of chunks) {
    splitter.push(chunk, lines);
    const events = toEvents();
    if (events.length > 0) yield events;
  }
  splitter.flush(lines);
  const last = toEvents();
  if (last.length > 0) yield last;
  const error = skipped.error(splitter.pos);
  if (error) throw error;
}

/** A line as text for JSON.parse; invalid bytes stay apart (a tag in it can name a file). */
function textOf(text: LineText): string {
  return typeof text === 'string' ? text : decodeEscapedUtf8(text);
}

/** The chunk already read, then the rest of the iterator. */
export async function* prepend(first: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield first;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}

async function* gunzip(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const inflater = createGunzip();
  pipeline(Readable.from(chunks), inflater, () => {});
  try {
    for await (const chunk of inflater) yield chunk as Buffer;
  } catch (error) {
    throw new DecodeError(`corrupt gzip input: ${(error as Error).message}`, inflater.bytesWritten);
  }
}
