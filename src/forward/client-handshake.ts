import { createHash, randomBytes } from 'node:crypto';
import { MsgpackWriter } from '../codec/msgpack-writer.js';

export interface HandshakeCredentials {
  sharedKey: string;
  username: string;
  password: string;
  /** Our name, sent in PING (the server checks nothing about it; it shows up in its logs). */
  hostname: string;
}

function sha512Hex(...parts: Array<string | Buffer>): string {
  const hash = createHash('sha512');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

function bytesOf(value: unknown): Buffer | undefined {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string') return Buffer.from(value, 'latin1');
  return undefined;
}

/**
 * The client side of the shared-key handshake (Forward Protocol v1, "Handshake Messages"):
 * HELO {nonce, auth} from the server → PING with our digest → PONG with the server's digest,
 * which proves the server knows the key too.
 */
export class ClientHandshake {
  done = false;
  private nonce: Buffer | undefined;
  private readonly salt = randomBytes(16).toString('hex');

  constructor(private readonly credentials: HandshakeCredentials) {}

  /** Takes one server message; returns the reply to write, if any. Throws when the handshake fails. */
  receive(message: unknown): Buffer | undefined {
    if (!Array.isArray(message)) throw new Error('unexpected message during the handshake');
    if (message[0] === 'HELO' && !this.nonce) return this.ping(message[1]);
    if (message[0] === 'PONG' && this.nonce) {
      this.pong(message);
      return undefined;
    }
    throw new Error(`unexpected ${String(message[0]).slice(0, 10)} message during the handshake`);
  }

  private ping(options: unknown): Buffer {
    const record = (options ?? {}) as Record<string, unknown>;
    const nonce = bytesOf(record.nonce);
    if (!nonce) throw new Error('HELO without a nonce');
    this.nonce = nonce;
    const authSalt = bytesOf(record.auth) ?? Buffer.alloc(0);
    const { sharedKey, username, password, hostname } = this.credentials;
    const writer = new MsgpackWriter(512);
    writer.writeArrayHeader(6);
    writer.writeString('PING');
    writer.writeString(hostname);
    writer.writeString(this.salt);
    writer.writeString(sha512Hex(this.salt, hostname, nonce, sharedKey));
    writer.writeString(username);
    writer.writeString(authSalt.length > 0 ? sha512Hex(authSalt, username, password) : '');
    return writer.take();
  }

  private pong(message: unknown[]): void {
    const [, ok, reason, serverHostname, digest] = message;
    if (ok !== true) throw new Error(`authentication failed: ${String(reason ?? 'no reason given').slice(0, 200)}`);
    const expected = sha512Hex(this.salt, String(serverHostname ?? ''), this.nonce!, this.credentials.sharedKey);
    if (digest !== expected) throw new Error('the server failed to prove it knows the shared key (PONG digest mismatch)');
    this.done = true;
  }
}
