import { createUnpackr } from '../codec/msgpack-reader.js';

interface IncompleteError extends Error {
  incomplete?: boolean;
}

/** Bound on bytes of one undecoded server message: acks and PONGs are tiny, anything bigger is garbage. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Splits what a server sends back (HELO, PONG, `{ack: id}` maps — a MessagePack stream) into
 * values. Throws on garbage or an oversize message, so the caller drops that connection.
 */
export class ResponseDecoder {
  private pending: Buffer | undefined;
  private readonly unpackr = createUnpackr();

  push(chunk: Buffer): unknown[] {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    const values: unknown[] = [];
    let consumed = 0;
    try {
      this.unpackr.unpackMultiple(buf, (value: unknown, _start?: number, end?: number) => {
        values.push(value);
        consumed = end!;
      });
    } catch (error) {
      if (!(error as IncompleteError).incomplete) throw new Error(`invalid response from server: ${(error as Error).message}`);
    }
    this.pending = consumed < buf.length ? buf.subarray(consumed) : undefined;
    if (this.pending && this.pending.length > MAX_RESPONSE_BYTES) {
      throw new Error(`response from server larger than ${MAX_RESPONSE_BYTES} bytes`);
    }
    return values;
  }
}

/** The chunk id of an `{ack: id}` response, or undefined for anything else. */
export function ackIdOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const ack = (value as Record<string, unknown>).ack;
  if (typeof ack === 'string') return ack;
  if (ack instanceof Uint8Array) return Buffer.from(ack.buffer, ack.byteOffset, ack.byteLength).toString('latin1');
  return undefined;
}
