/**
 * Decoding one forward-protocol request (a complete top-level msgpack value, as FrameScanner
 * delimits it) into events, for all four event modes:
 *
 *   Message                  [tag, time, record, option?]
 *   Forward                  [tag, [[time, record], ...], option?]
 *   PackedForward            [tag, <<[time, record]>>* as bin or str, option?]
 *   CompressedPackedForward  [tag, gzip(<<[time, record]>>*) as bin, {compressed: "gzip", ...}]
 *
 * time: integer seconds, EventTime (ext 0), or v1.5 [EventTime|integer, {metadata}].
 * The mode is told by the second element, as the specification requires.
 */
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { Unpackr } from 'msgpackr/unpack';
import { EventTime } from '../event/event-time.js';
import type { EventRecord, LogEvent } from '../event/event.js';
import { describe, isRecord, toEventTime } from '../codec/event-shape.js';
import '../codec/msgpack-reader.js'; // registers the EventTime extension with msgpackr
import {
  ProtocolError,
  bytesSpan,
  countValues,
  elementSpans,
  kindAt,
  readArrayHeader,
  readMapSpans,
  readUInt,
  type ScanLimits,
} from './frame.js';

import { IDENTITY_OPTION } from './identity-option.js';

const gunzipAsync = promisify(gunzip);

export type EventMode = 'Message' | 'Forward' | 'PackedForward' | 'CompressedPackedForward';

export interface RequestLimits extends ScanLimits {
  /** Cap on the decompressed size of one CompressedPackedForward payload. */
  maxDecompressedBytes: number;
}

export interface ParsedRequest {
  mode: EventMode;
  /** The tag exactly as sent (UTF-8 decoded, NOT sanitized: that is the receiver's job). */
  tag: string;
  /** The `chunk` option's value as raw msgpack bytes, to echo in the ack byte for byte. */
  chunk?: Buffer;
  /** The `size` option (number of events announced), when sent. */
  size?: number;
  /** Message mode: the single decoded event's parts; Forward: the decoded entries. */
  entries?: unknown[];
  /** PackedForward / CompressedPackedForward: the entries stream (compressed for the latter). */
  payload?: Buffer;
  /** The `logkit_src` option (the entries' identities, see identity-option.ts), as raw MessagePack. */
  identities?: Buffer;
}

/**
 * msgpackr for the inner values. copyBuffers: binary values in records must not alias the
 * connection's receive buffer, which is reused for the next request.
 */
export function createInnerUnpackr(): Unpackr {
  return new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'auto' as 'bigint', copyBuffers: true });
}

/**
 * Reads the outer structure of a request. Returns undefined for a value that is not an array
 * (a heartbeat `nil`, which the specification says to ignore). Throws ProtocolError.
 */
export function parseRequest(frame: Buffer, unpackr: Unpackr): ParsedRequest | undefined {
  if (kindAt(frame, 0) !== 'array') return undefined;
  const { count, pos } = readArrayHeader(frame, 0);
  if (count < 2 || count > 4) throw new ProtocolError(`expected a request [tag, ...] of 2 to 4 elements, got an array of ${count}`);
  const spans = elementSpans(frame, pos, count);
  const tagSpan = bytesSpan(frame, spans[0]![0]);
  if (!tagSpan || kindAt(frame, spans[0]![0]) !== 'string') throw new ProtocolError('expected a tag (string) as the first element');
  const tag = frame.toString('utf8', tagSpan[0], tagSpan[1]);
  const [secondStart, secondEnd] = spans[1]!;
  const second = kindAt(frame, secondStart);

  let mode: EventMode;
  let optionIndex: number;
  const request: ParsedRequest = { mode: 'Message', tag };
  if (second === 'string' || second === 'binary') {
    if (count > 3) throw new ProtocolError(`a PackedForward request has 2 or 3 elements, got ${count}`);
    const payload = bytesSpan(frame, secondStart)!;
    request.payload = Buffer.from(frame.subarray(payload[0], payload[1]));
    mode = 'PackedForward';
    optionIndex = 2;
  } else if (second === 'array' && isForwardEntries(frame, secondStart)) {
    if (count > 3) throw new ProtocolError(`a Forward request has 2 or 3 elements, got ${count}`);
    request.entries = inner(() => unpackr.unpack(frame.subarray(secondStart, secondEnd)) as unknown[]);
    mode = 'Forward';
    optionIndex = 2;
  } else {
    if (count < 3) throw new ProtocolError(`expected a Message [tag, time, record], got ${count} elements with ${describeKind(second)} second`);
    // time and record decoded together (one call), the option map read as spans below
    const [timeStart] = spans[1]!;
    const [, recordEnd] = spans[2]!;
    const decoded = inner(() => unpackr.unpackMultiple(frame.subarray(timeStart, recordEnd)) as unknown[]);
    request.entries = [decoded];
    mode = 'Message';
    optionIndex = 3;
  }
  request.mode = mode;

  if (count > optionIndex) {
    const [optStart] = spans[optionIndex]!;
    const optKind = kindAt(frame, optStart);
    if (optKind === 'map') {
      const options = readMapSpans(frame, optStart);
      const chunk = options.get('chunk');
      if (chunk) request.chunk = Buffer.from(frame.subarray(chunk[0], chunk[1]));
      const size = options.get('size');
      if (size) request.size = readUInt(frame, size[0]);
      const identities = options.get(IDENTITY_OPTION);
      if (identities) request.identities = Buffer.from(frame.subarray(identities[0], identities[1]));
      const compressed = options.get('compressed');
      if (compressed && mode === 'PackedForward') {
        const value = bytesSpan(frame, compressed[0]);
        // "gzip" compresses; "text" (Fluent Bit, Fluentd) and any other value mean uncompressed
        if (value && frame.toString('latin1', value[0], value[1]) === 'gzip') request.mode = 'CompressedPackedForward';
      }
    } else if (optKind !== 'nil') {
      throw new ProtocolError(`expected an option map as the last element, got ${describeKind(optKind)}`);
    }
  }
  return request;
}

/** Decoding inner values: any failure (an unknown extension type, a bad EventTime) is the peer's fault. */
function inner<T>(decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    throw new ProtocolError(`invalid entries: ${(error as Error).message}`);
  }
}

/** A Forward-mode entries array holds arrays; a v1.5 time `[EventTime, {meta}]` starts with a time. */
function isForwardEntries(frame: Buffer, pos: number): boolean {
  const { count, pos: first } = readArrayHeader(frame, pos);
  return count === 0 || kindAt(frame, first) === 'array';
}

function describeKind(kind: string): string {
  return kind === 'array' || kind === 'extension' || kind === 'integer' ? `an ${kind}` : `a ${kind}`;
}

/** The events of a request. Only CompressedPackedForward needs to wait (for gunzip). */
export function requestEvents(request: ParsedRequest, unpackr: Unpackr, limits: RequestLimits, out: LogEvent[] = []): LogEvent[] {
  switch (request.mode) {
    case 'Message': {
      const [time, record] = request.entries![0] as unknown[];
      pushEvent(request.tag, time, record, out, 0);
      return out;
    }
    case 'Forward': {
      const entries = request.entries!;
      for (let i = 0; i < entries.length; i++) pushEntry(request.tag, entries[i], out, i);
      return out;
    }
    case 'PackedForward':
      return packedEvents(request.tag, request.payload!, unpackr, limits, out);
    case 'CompressedPackedForward':
      throw new Error('CompressedPackedForward needs decompressRequest first');
  }
}

/** Gunzips a CompressedPackedForward payload (any number of concatenated members), capped in size. */
export async function decompressPayload(payload: Buffer, limits: RequestLimits): Promise<Buffer> {
  try {
    return await gunzipAsync(payload, { maxOutputLength: limits.maxDecompressedBytes });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || /Cannot create a Buffer larger|maxOutputLength|too large/i.test(e.message)) {
      throw new ProtocolError(`compressed entries expand beyond the limit of ${limits.maxDecompressedBytes} bytes`);
    }
    throw new ProtocolError(`invalid gzip entries: ${e.message}`);
  }
}

/** Decodes a MessagePackEventStream (validated first: bounded depth, no truncation). */
export function packedEvents(tag: string, payload: Buffer, unpackr: Unpackr, limits: ScanLimits, out: LogEvent[] = [], validated = false): LogEvent[] {
  if (!validated) countValues(payload, limits);
  let index = 0;
  try {
    unpackr.unpackMultiple(payload, (entry: unknown) => {
      pushEntry(tag, entry, out, index++);
    });
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    throw new ProtocolError(`invalid entries: ${(error as Error).message}`);
  }
  return out;
}

function pushEntry(tag: string, entry: unknown, out: LogEvent[], index: number): void {
  if (!Array.isArray(entry) || entry.length !== 2) {
    throw new ProtocolError(`entry ${index}: expected [time, record], got ${describe(entry)}`);
  }
  pushEvent(tag, entry[0], entry[1], out, index);
}

function pushEvent(tag: string, rawTime: unknown, record: unknown, out: LogEvent[], index: number): void {
  let metadata: unknown;
  let timeValue = rawTime;
  if (Array.isArray(rawTime)) {
    // protocol v1.5: [time, {metadata}]
    timeValue = rawTime[0];
    metadata = rawTime[1];
  }
  const time = timeValue instanceof EventTime ? timeValue : toEventTime(timeValue);
  if (!time || Array.isArray(timeValue)) throw new ProtocolError(`entry ${index}: expected a time, got ${describe(rawTime)}`);
  // EventTime seconds are 32-bit: a larger number (milliseconds sent as seconds?) would wrap silently
  if (time.sec >= 2 ** 32) throw new ProtocolError(`entry ${index}: time ${time.sec} is beyond the 32-bit seconds of the protocol`);
  if (!isRecord(record)) throw new ProtocolError(`entry ${index}: expected a record (map), got ${describe(record)}`);
  const event: LogEvent = { tag, time, record: record as EventRecord };
  if (isRecord(metadata) && Object.keys(metadata).length > 0) event.options = { metadata };
  out.push(event);
}
