/**
 * The shared-key handshake of the Forward Protocol v1 (HELO / PING / PONG), both sides, as pure
 * functions: building and checking messages is separated from the socket so `receive` (server)
 * and `forward` (client) share one implementation and tests can check bytes against the spec.
 *
 *   server → HELO  ["HELO", {nonce, auth, keepalive}]
 *   client → PING  ["PING", client_hostname, shared_key_salt, sha512_hex(salt+client_hostname+nonce+key),
 *                   username, sha512_hex(auth_salt+username+password)]   (username/password '' without user auth)
 *   server → PONG  ["PONG", ok, reason, server_hostname, sha512_hex(salt+server_hostname+nonce+key)]
 *                  (failure: ["PONG", false, reason, "", ""], then the server closes)
 *
 * Salts and nonces are BYTES: peers send them as bin or as str holding raw bytes (Fluent Bit), so
 * every function here takes and returns Buffers for them and never decodes them as UTF-8; the
 * server side accepts either type. What we send in PING is a str (see encodePing).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { MsgpackWriter } from '../codec/msgpack-writer.js';
import { elementSpans, readArrayHeader, readBoolean, readBytes, readMapSpans, ProtocolError } from './frame.js';

export type Bytes = Buffer | Uint8Array | string;

function toBuffer(value: Bytes): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** sha512 over the concatenation of the parts, as lowercase hex (the spec's `sha512_hex(a + b + ...)`). */
export function sha512Hex(...parts: Bytes[]): string {
  const hash = createHash('sha512');
  for (const part of parts) hash.update(toBuffer(part));
  return hash.digest('hex');
}

/** The PING digest: sha512_hex(shared_key_salt + client_hostname + nonce + shared_key). */
export function pingDigest(sharedKeySalt: Bytes, clientHostname: Bytes, nonce: Bytes, sharedKey: Bytes): string {
  return sha512Hex(sharedKeySalt, clientHostname, nonce, sharedKey);
}

/** The PONG digest: sha512_hex(shared_key_salt + server_hostname + nonce + shared_key). */
export function pongDigest(sharedKeySalt: Bytes, serverHostname: Bytes, nonce: Bytes, sharedKey: Bytes): string {
  return sha512Hex(sharedKeySalt, serverHostname, nonce, sharedKey);
}

/** The user-auth digest: sha512_hex(auth_salt + username + password). */
export function passwordDigest(authSalt: Bytes, username: Bytes, password: Bytes): string {
  return sha512Hex(authSalt, username, password);
}

/** Compares two digests (or any secrets) in time independent of where they differ. */
export function constantTimeEqual(a: Bytes, b: Bytes): boolean {
  const x = toBuffer(a);
  const y = toBuffer(b);
  if (x.length !== y.length) {
    timingSafeEqual(x, x); // spend comparable time; the length of a hex digest is public anyway
    return false;
  }
  return timingSafeEqual(x, y);
}

// ------------------------------------------------------------------------------------ server side

export interface HeloState {
  nonce: Buffer;
  /** Empty when no user authentication is required. */
  authSalt: Buffer;
}

export function newHeloState(userAuth: boolean): HeloState {
  return { nonce: randomBytes(16), authSalt: userAuth ? randomBytes(16) : Buffer.alloc(0) };
}

/** HELO as bytes: nonce and auth salt as bin (Fluentd's in_forward sends str; both are allowed). */
export function encodeHelo(state: HeloState, keepalive = true): Buffer {
  const w = new MsgpackWriter(128);
  w.writeArrayHeader(2);
  w.writeString('HELO');
  w.writeMapHeader(3);
  w.writeString('nonce');
  w.writeBinHeader(state.nonce.length);
  w.writeRaw(state.nonce);
  w.writeString('auth');
  w.writeBinHeader(state.authSalt.length);
  w.writeRaw(state.authSalt);
  w.writeString('keepalive');
  w.writeValue(keepalive);
  return w.take();
}

export interface Ping {
  clientHostname: Buffer;
  sharedKeySalt: Buffer;
  sharedKeyHexdigest: Buffer;
  username: Buffer;
  passwordHexdigest: Buffer;
}

/** Parses a complete PING frame (`frame` holds exactly one msgpack value). Throws ProtocolError. */
export function parsePing(frame: Buffer): Ping {
  const { count, pos } = readArrayHeader(frame, 0);
  if (count !== 6) throw new ProtocolError(`expected PING, an array of 6, got an array of ${count}`);
  const spans = elementSpans(frame, pos, count);
  const field = (i: number, name: string): Buffer => {
    const bytes = readBytes(frame, spans[i]![0]);
    if (!bytes) throw new ProtocolError(`PING ${name} is not a string`);
    return bytes;
  };
  if (field(0, 'type').toString('latin1') !== 'PING') throw new ProtocolError('expected PING');
  return {
    clientHostname: field(1, 'client_hostname'),
    sharedKeySalt: field(2, 'shared_key_salt'),
    sharedKeyHexdigest: field(3, 'shared_key_hexdigest'),
    username: field(4, 'username'),
    passwordHexdigest: field(5, 'password'),
  };
}

export interface ServerAuthConfig {
  sharedKey: string;
  /** user name → password; empty = no user authentication. */
  users: ReadonlyMap<string, string>;
  serverHostname: string;
}

export type PingVerdict = { ok: true; username: string } | { ok: false; reason: string };

/** Checks a PING against the server's key (and user list); every secret comparison is constant-time. */
export function verifyPing(ping: Ping, helo: HeloState, config: ServerAuthConfig): PingVerdict {
  const expected = pingDigest(ping.sharedKeySalt, ping.clientHostname, helo.nonce, config.sharedKey);
  const keyOk = constantTimeEqual(expected, ping.sharedKeyHexdigest);
  let userOk = true;
  const username = ping.username.toString('utf8');
  if (config.users.size > 0) {
    const password = config.users.get(username);
    // Compare against a digest even for an unknown user, so timing does not reveal user names.
    const expectedPassword = passwordDigest(helo.authSalt, ping.username, password ?? randomBytes(16));
    userOk = constantTimeEqual(expectedPassword, ping.passwordHexdigest) && password !== undefined;
  }
  if (!keyOk) return { ok: false, reason: 'shared_key mismatch' };
  if (!userOk) return { ok: false, reason: 'username/password mismatch' };
  return { ok: true, username };
}

/** PONG: success carries the server's proof of the key; failure carries empty hostname and digest. */
export function encodePong(verdict: PingVerdict, ping: Ping, helo: HeloState, config: ServerAuthConfig): Buffer {
  const w = new MsgpackWriter(256);
  w.writeArrayHeader(5);
  w.writeString('PONG');
  if (verdict.ok) {
    w.writeValue(true);
    w.writeString('');
    w.writeString(config.serverHostname);
    w.writeString(pongDigest(ping.sharedKeySalt, config.serverHostname, helo.nonce, config.sharedKey));
  } else {
    w.writeValue(false);
    w.writeString(verdict.reason);
    w.writeString('');
    w.writeString('');
  }
  return w.take();
}

// ------------------------------------------------------------------------------------ client side

export interface Helo {
  nonce: Buffer;
  authSalt: Buffer;
  keepalive: boolean;
}

/** Parses a complete HELO frame; nonce and auth salt are kept as raw bytes whatever their msgpack type. */
export function parseHelo(frame: Buffer): Helo {
  const { count, pos } = readArrayHeader(frame, 0);
  if (count !== 2) throw new ProtocolError(`expected HELO, an array of 2, got an array of ${count}`);
  const spans = elementSpans(frame, pos, count);
  const type = readBytes(frame, spans[0]![0]);
  if (!type || type.toString('latin1') !== 'HELO') throw new ProtocolError('expected HELO');
  const options = readMapSpans(frame, spans[1]![0]);
  const nonceSpan = options.get('nonce');
  const nonce = nonceSpan ? readBytes(frame, nonceSpan[0]) : undefined;
  if (!nonce) throw new ProtocolError('HELO without a nonce');
  const authSpan = options.get('auth');
  const authSalt = (authSpan && readBytes(frame, authSpan[0])) || Buffer.alloc(0);
  const keepaliveSpan = options.get('keepalive');
  const keepalive = keepaliveSpan ? readBoolean(frame, keepaliveSpan[0]) !== false : true;
  return { nonce, authSalt, keepalive };
}

export interface ClientAuthConfig {
  sharedKey: string;
  clientHostname: string;
  username?: string;
  password?: string;
}

/**
 * A fresh shared-key salt: 16 random bytes as 32 lowercase hex characters, as Fluentd's
 * out_forward makes it. Text, so that it travels as a MessagePack str that any decoder reads.
 */
export function newSharedKeySalt(): Buffer {
  return Buffer.from(randomBytes(16).toString('hex'), 'latin1');
}

/**
 * Builds PING for a HELO; returns the bytes and the salt, which the PONG check needs. Every
 * field is a MessagePack str: Fluent Bit's in_forward refuses a PING whose salt (or any other
 * field) is not a str, and Fluentd's and Fluent Bit's own out_forward send str.
 */
export function encodePing(helo: Helo, config: ClientAuthConfig, sharedKeySalt: Buffer = newSharedKeySalt()): { bytes: Buffer; sharedKeySalt: Buffer } {
  const username = config.username ?? '';
  const password = helo.authSalt.length > 0 && config.username !== undefined ? passwordDigest(helo.authSalt, username, config.password ?? '') : '';
  const w = new MsgpackWriter(512);
  w.writeArrayHeader(6);
  w.writeString('PING');
  w.writeString(config.clientHostname);
  w.writeString(sharedKeySalt.toString('latin1')); // hex text: one byte per character
  w.writeString(pingDigest(sharedKeySalt, config.clientHostname, helo.nonce, config.sharedKey));
  w.writeString(helo.authSalt.length > 0 ? username : '');
  w.writeString(password);
  return { bytes: w.take(), sharedKeySalt };
}

export type PongVerdict = { ok: true; serverHostname: string } | { ok: false; reason: string };

/** Parses and verifies PONG: the server must prove it knows the key too (digest over OUR salt and ITS nonce). */
export function verifyPong(frame: Buffer, helo: Helo, sharedKeySalt: Buffer, sharedKey: string): PongVerdict {
  const { count, pos } = readArrayHeader(frame, 0);
  if (count !== 5) throw new ProtocolError(`expected PONG, an array of 5, got an array of ${count}`);
  const spans = elementSpans(frame, pos, count);
  const type = readBytes(frame, spans[0]![0]);
  if (!type || type.toString('latin1') !== 'PONG') throw new ProtocolError('expected PONG');
  const authResult = readBoolean(frame, spans[1]![0]);
  const reason = readBytes(frame, spans[2]![0])?.toString('utf8') ?? '';
  const hostname = readBytes(frame, spans[3]![0]) ?? Buffer.alloc(0);
  const digest = readBytes(frame, spans[4]![0]) ?? Buffer.alloc(0);
  if (authResult !== true) return { ok: false, reason: reason || 'authentication failed' };
  const expected = pongDigest(sharedKeySalt, hostname, helo.nonce, sharedKey);
  if (!constantTimeEqual(expected, digest)) return { ok: false, reason: 'server proved a different shared key (PONG digest mismatch)' };
  return { ok: true, serverHostname: hostname.toString('utf8') };
}
