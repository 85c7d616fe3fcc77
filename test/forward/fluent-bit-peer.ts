import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import type { ExecutionContext } from 'ava';
import type { LogEvent } from '../../src/event/event.js';
import { FrameScanner } from '../../src/protocol/frame.js';
import { createInnerUnpackr, packedEvents, parseRequest, requestEvents } from '../../src/protocol/request.js';
import { MsgpackWriter } from '../../src/codec/msgpack-writer.js';

/**
 * The checks Fluent Bit's in_forward makes on a PING (check_ping() in plugins/in_forward/fw_prot.c),
 * byte by byte: an array of 6, every element a str (0xa0-0xbf, 0xd9, 0xda or 0xdb), the first
 * "PING". Returns the fields, or the error line Fluent Bit logs before it closes without a PONG.
 */
export function fluentBitCheckPing(frame: Buffer, acceptBinSalt = false): { hostname: string; salt: Buffer; digest: string } | string {
  if (frame[0] !== 0x96) return 'Invalid PING message';
  const errors = ['Invalid PING type message', 'Invalid hostname type message', 'Invalid shared_key_salt type message', 'Invalid shared_key_digest type message', 'Invalid username type message', 'Invalid password_digest type message'];
  let pos = 1;
  const fields: Buffer[] = [];
  for (let i = 0; i < 6; i++) {
    const type = frame[pos]!;
    let length: number;
    if ((type & 0xe0) === 0xa0) [length, pos] = [type & 0x1f, pos + 1];
    else if (type === 0xd9) [length, pos] = [frame[pos + 1]!, pos + 2];
    else if (type === 0xda) [length, pos] = [frame.readUInt16BE(pos + 1), pos + 3];
    else if (type === 0xdb) [length, pos] = [frame.readUInt32BE(pos + 1), pos + 5];
    else if (acceptBinSalt && i === 2 && type === 0xc4) [length, pos] = [frame[pos + 1]!, pos + 2];
    else return errors[i]!;
    fields.push(frame.subarray(pos, pos + length));
    pos += length;
  }
  if (pos !== frame.length) return 'PING MSGPACK_UNPACK_EXTRA_BYTES';
  if (fields[0]!.toString('latin1') !== 'PING') return 'Invalid PING message';
  return { hostname: fields[1]!.toString('latin1'), salt: fields[2]!, digest: fields[3]!.toString('latin1') };
}

const sha512Hex = (...parts: Buffer[]): string => {
  const hash = createHash('sha512');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
};

function str(w: MsgpackWriter, bytes: Buffer): void {
  // str of raw bytes, as Fluent Bit's msgpack_pack_str + msgpack_pack_str_body write them
  if (bytes.length < 32) w.writeRaw(Buffer.from([0xa0 | bytes.length]));
  else w.writeRaw(Buffer.from([0xd9, bytes.length]));
  w.writeRaw(bytes);
}

export interface FluentBitPeer {
  port: number;
  events: LogEvent[];
  /** The lines its log would have: handshake errors, refused PINGs. */
  errors: string[];
  /** Connections open now, and accepted since the start. */
  connections: () => number;
  accepted: number;
}

/**
 * A stand-in for Fluent Bit's in_forward over real sockets, as its source behaves: with a shared
 * key it sends HELO (nonce and auth salt as str of 16 raw bytes), refuses a PING that fails
 * check_ping, or carries the wrong key, by closing without a PONG; it acknowledges
 * every chunk that asks for it; it has no UDP heartbeat (nothing listens on UDP).
 */
export async function startFluentBitPeer(
  t: ExecutionContext,
  options: { sharedKey?: string; hostname?: string; /** Take a bin salt too (as Fluentd does), to test something else than the salt. */ acceptBinSalt?: boolean } = {},
): Promise<FluentBitPeer> {
  const peer: FluentBitPeer = { port: 0, events: [], errors: [], connections: () => sockets.size, accepted: 0 };
  const sockets = new Set<Socket>();
  const unpackr = createInnerUnpackr();
  const limits = { maxBytes: 64 << 20, maxDepth: 1000, maxDecompressedBytes: 256 << 20 };
  const server = createServer((socket) => {
    peer.accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const scanner = new FrameScanner(limits);
    let pending = Buffer.alloc(0);
    const nonce = randomBytes(16);
    let authenticated = options.sharedKey === undefined;
    let sawPing = false;
    if (!authenticated) {
      const w = new MsgpackWriter(128);
      w.writeArrayHeader(2);
      w.writeString('HELO');
      w.writeMapHeader(2);
      w.writeString('nonce');
      str(w, nonce);
      w.writeString('auth');
      str(w, randomBytes(16));
      socket.write(w.take());
    }
    socket.on('end', () => {
      if (!authenticated && !sawPing) peer.errors.push('handshake error expecting PING');
      socket.end();
    });
    socket.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      let length: number;
      while ((length = scanner.scan(pending)) >= 0) {
        const frame = Buffer.from(pending.subarray(0, length));
        pending = pending.subarray(length);
        if (!authenticated) {
          sawPing = true;
          const ping = fluentBitCheckPing(frame, options.acceptBinSalt);
          if (typeof ping === 'string') {
            peer.errors.push(ping);
            socket.destroy();
            return;
          }
          const key = Buffer.from(options.sharedKey!);
          if (sha512Hex(ping.salt, Buffer.from(ping.hostname, 'latin1'), nonce, key) !== ping.digest) {
            // check_ping returns -1 on a key mismatch: fw_prot_secure_forward_handshake closes, no PONG
            peer.errors.push('shared_key mismatch');
            socket.destroy();
            return;
          }
          const w = new MsgpackWriter(256);
          w.writeArrayHeader(5);
          w.writeString('PONG');
          const self = Buffer.from(options.hostname ?? 'fluent-bit');
          w.writeValue(true);
          w.writeString('');
          str(w, self);
          w.writeString(sha512Hex(ping.salt, self, nonce, key));
          socket.write(w.take());
          authenticated = true;
          continue;
        }
        const request = parseRequest(frame, unpackr);
        if (!request) continue;
        if (request.mode === 'PackedForward') packedEvents(request.tag, request.payload!, unpackr, limits, peer.events);
        else requestEvents(request, unpackr, limits, peer.events);
        if (request.chunk) socket.write(Buffer.concat([Buffer.from([0x81, 0xa3]), Buffer.from('ack'), request.chunk]));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  peer.port = (server.address() as { port: number }).port;
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return peer;
}
