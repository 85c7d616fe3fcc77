import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { LogEvent } from '../event/event.js';
import { EventTime } from '../event/event-time.js';
import { DecodeError } from './decode-error.js';
import { LineSplitter } from './line-splitter.js';
import { MessageStreamDecoder, type EntryForm } from './msgpack-reader.js';
import { isEventLine, jsonToEvent } from './ndjson.js';

export const INPUT_FORMATS = ['auto', 'msgpack', 'json', 'text'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

export interface ReadOptions {
  /** `auto` (default) detects msgpack, NDJSON events, or raw text lines from the first bytes. */
  format?: InputFormat;
  /** Tag for events made from raw text lines. */
  textTag?: string;
  maxEntryBytes?: number;
  maxLineBytes?: number;
  /** What MessagePack entries become (see EntryForm): objects by default. */
  entries?: EntryForm;
}

/**
 * Reads a logkit stream and yields its events in batches (one batch per input chunk, so a
 * consumer pays per buffer, not per event). Gzip input is unwrapped. Throws DecodeError at the
 * first bad entry, after yielding every event before it.
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
  const firstLine = head.subarray(0, newline < 0 ? head.length : newline).toString('utf8');
  return firstLine.trimStart().startsWith('{') && isEventLine(firstLine) ? 'json' : 'text';
}

function looksTextual(byte: number): boolean {
  return byte >= 0x20 && byte < 0x80;
}

async function* readMessagePack(chunks: AsyncIterable<Buffer>, options: ReadOptions): AsyncGenerator<LogEvent[]> {
  const decoder = new MessageStreamDecoder(options.maxEntryBytes, options.entries);
  for await (const chunk of chunks) {
    const events = decoder.push(chunk);
    if (events.length > 0) yield events;
  }
  decoder.end();
}

async function* readLines(chunks: AsyncIterable<Buffer>, format: InputFormat, options: ReadOptions): AsyncGenerator<LogEvent[]> {
  const splitter = new LineSplitter(options.maxLineBytes);
  let lineNumber = 0;
  let offset = 0;
  const toEvents = (lines: string[]): LogEvent[] => {
    const events: LogEvent[] = [];
    if (format === 'text') {
      const time = EventTime.now();
      const tag = options.textTag ?? 'stdin';
      for (const message of lines) events.push({ tag, time, record: { message } });
      lineNumber += lines.length;
      return events;
    }
    for (const line of lines) {
      lineNumber++;
      if (line.trim() === '') continue;
      const event = jsonToEvent(line);
      if (typeof event === 'string') throw new DecodeError(event, offset, events, lineNumber);
      events.push(event);
    }
    return events;
  };
  for await (const chunk of chunks) {
    const events = toEvents(splitter.push(chunk));
    offset += chunk.length;
    if (events.length > 0) yield events;
  }
  const last = toEvents(splitter.end());
  if (last.length > 0) yield last;
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
