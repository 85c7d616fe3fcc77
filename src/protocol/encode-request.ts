/**
 * Client → server requests, encoded with the project's MsgpackWriter (integers beyond 32 bits
 * stay integers, EventTime stays ext 0). The entries of a PackedForward request are encoded
 * once into a Buffer (`encodeEntryStream`), optionally gzipped by the caller, then framed.
 */
import type { LogEvent } from '../event/event.js';
import { MsgpackWriter } from '../codec/msgpack-writer.js';
import { IDENTITY_OPTION } from './identity-option.js';

export interface RequestOptions {
  /** The chunk id (base64 of 16 random bytes, by convention); asks the server for an ack. */
  chunk?: string;
  /** Number of events in the request. */
  size?: number;
  /** 'gzip' marks CompressedPackedForward (the caller has gzipped the entries). */
  compressed?: 'gzip';
  /** The entries' identities, the `logkit_src` value already encoded (see identity-option.ts). */
  identities?: Buffer;
}

/** MessagePackEventStream: `[time, record]` entries back to back (tags are per request). */
export function encodeEntryStream(events: readonly LogEvent[], writer = new MsgpackWriter()): Buffer {
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    writer.writeArrayHeader(2);
    writer.writeEventTime(event.time);
    writer.writeMap(event.record, 1);
  }
  return writer.take();
}

function writeOptions(w: MsgpackWriter, options: RequestOptions): void {
  const keys = (['chunk', 'size', 'compressed'] as const).filter((k) => options[k] !== undefined);
  w.writeMapHeader(keys.length + (options.identities ? 1 : 0));
  for (const key of keys) {
    w.writeString(key);
    w.writeValue(options[key]);
  }
  if (options.identities) {
    w.writeString(IDENTITY_OPTION);
    w.writeRaw(options.identities);
  }
}

/** The option map alone, as encodePackedForward ends the request with it. */
export function encodeOptions(options: RequestOptions): Buffer {
  const w = new MsgpackWriter(64 + (options.identities?.length ?? 0));
  writeOptions(w, options);
  return w.take();
}

function hasOptions(options: RequestOptions | undefined): options is RequestOptions {
  return options !== undefined && (options.chunk !== undefined || options.size !== undefined || options.compressed !== undefined);
}

/** `[tag, bin(entries), options?]`: PackedForward, or CompressedPackedForward with compressed: 'gzip'. */
export function encodePackedForward(tag: string, entries: Uint8Array, options?: RequestOptions): Buffer {
  // sized to the whole request, so that the chunk is copied once and take() has no slack to trim
  const w = new MsgpackWriter(entries.length + Buffer.byteLength(tag) + (options?.identities?.length ?? 0) + 160);
  w.writeArrayHeader(hasOptions(options) ? 3 : 2);
  w.writeString(tag);
  w.writeBinHeader(entries.length);
  w.writeRaw(entries);
  if (hasOptions(options)) writeOptions(w, options);
  return w.take();
}

/** `[tag, [[time, record], ...], options?]`: Forward mode. */
export function encodeForward(tag: string, events: readonly LogEvent[], options?: RequestOptions): Buffer {
  const w = new MsgpackWriter();
  w.writeArrayHeader(hasOptions(options) ? 3 : 2);
  w.writeString(tag);
  w.writeArrayHeader(events.length);
  for (const event of events) {
    w.writeArrayHeader(2);
    w.writeEventTime(event.time);
    w.writeMap(event.record, 1);
  }
  if (hasOptions(options)) writeOptions(w, options);
  return w.take();
}

/** `[tag, time, record, options?]`: Message mode. */
export function encodeMessage(event: LogEvent, options?: RequestOptions): Buffer {
  const w = new MsgpackWriter(1024);
  w.writeArrayHeader(hasOptions(options) ? 4 : 3);
  w.writeString(event.tag);
  w.writeEventTime(event.time);
  w.writeMap(event.record, 1);
  if (hasOptions(options)) writeOptions(w, options);
  return w.take();
}
