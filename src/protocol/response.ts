/**
 * Server → client responses in the transport phase.
 *
 * - Ack: `{"ack": <chunk>}` where <chunk> is the request's `chunk` option value copied BYTE FOR
 *   BYTE from the request (msgpack type and content), so ids ending in a newline (Fluentd) or
 *   holding bytes that are not UTF-8 come back exactly as the client compares them.
 * - A logkit server adds `logkit_src: true` to its acks: it restores the identities a chunk
 *   carries (see identity-option.ts). Other clients read only `ack`.
 * - Rejection (a logkit extension; other servers just close): `{"error": "<reason>"}`, sent
 *   before the server closes the connection for an oversize request, so a logkit client (or a
 *   person with tcpdump) learns why. A client that does not know it sees the close.
 */
import { MsgpackWriter } from '../codec/msgpack-writer.js';
import { ProtocolError, bytesSpan, readMapSpans } from './frame.js';
import { IDENTITY_OPTION } from './identity-option.js';

const ACK_PREFIX = Buffer.from([0x82, 0xa3, 0x61, 0x63, 0x6b]); // fixmap(2), fixstr "ack"
const IDENTITY_MARK = (() => {
  const w = new MsgpackWriter(16);
  w.writeString(IDENTITY_OPTION);
  w.writeValue(true);
  return w.take();
})();

/** `{"ack": chunk, "logkit_src": true}` from the chunk option's raw msgpack bytes. */
export function encodeAck(rawChunkValue: Uint8Array): Buffer {
  return Buffer.concat([ACK_PREFIX, rawChunkValue, IDENTITY_MARK]);
}

/** `{"ack": "<id>"}` for a chunk id given as a string (a client building its expected ack). */
export function encodeAckForId(chunkId: string): Buffer {
  const w = new MsgpackWriter(64);
  w.writeMapHeader(1);
  w.writeString('ack');
  w.writeString(chunkId);
  return w.take();
}

export function encodeRejection(reason: string): Buffer {
  const w = new MsgpackWriter(256);
  w.writeMapHeader(1);
  w.writeString('error');
  w.writeString(reason);
  return w.take();
}

/** An ack (with whether the server restores carried identities), or a rejection. */
export type Response = { ack: Buffer; identities: boolean } | { error: string };

/**
 * Reads one complete response map (delimit it with FrameScanner): the ack's chunk id as raw
 * bytes (the str/bin payload, no UTF-8 decoding), or a rejection reason.
 */
export function parseResponse(frame: Buffer): Response {
  const fields = readMapSpans(frame, 0);
  const ack = fields.get('ack');
  if (ack) {
    const span = bytesSpan(frame, ack[0]);
    if (!span) throw new ProtocolError('ack is not a string');
    const mark = fields.get(IDENTITY_OPTION);
    return { ack: Buffer.from(frame.subarray(span[0], span[1])), identities: mark !== undefined && frame[mark[0]] === 0xc3 };
  }
  const error = fields.get('error');
  if (error) {
    const span = bytesSpan(frame, error[0]);
    return { error: span ? frame.toString('utf8', span[0], span[1]) : 'rejected' };
  }
  throw new ProtocolError('response without ack');
}
