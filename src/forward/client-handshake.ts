import { kindAt } from '../protocol/frame.js';
import { encodePing, parseHelo, verifyPong, type Helo } from '../protocol/handshake.js';

export interface HandshakeCredentials {
  sharedKey: string;
  /** Empty for servers without user authentication. */
  username: string;
  password: string;
  /** Our name, sent in PING. */
  hostname: string;
}

/**
 * The client side of the shared-key handshake, as a small state machine over the protocol
 * layer's pure functions (src/protocol/handshake.ts): HELO → our PING; PONG → verified (the
 * server must prove it knows the key too). Throws when the handshake fails.
 */
export class ClientHandshake {
  done = false;
  private helo: Helo | undefined;
  private salt: Buffer | undefined;

  constructor(private readonly credentials: HandshakeCredentials) {}

  /** Takes one complete server message; returns the reply to write, if any. */
  receive(frame: Buffer): Buffer | undefined {
    if (kindAt(frame, 0) !== 'array') throw new Error('unexpected message from the server during the handshake');
    if (!this.helo) {
      this.helo = parseHelo(frame);
      const { sharedKey, hostname, username, password } = this.credentials;
      const ping = encodePing(this.helo, {
        sharedKey,
        clientHostname: hostname,
        username: username || undefined,
        password,
      });
      this.salt = ping.sharedKeySalt;
      return ping.bytes;
    }
    const verdict = verifyPong(frame, this.helo, this.salt!, this.credentials.sharedKey);
    if (!verdict.ok) throw new Error(`authentication failed: ${verdict.reason.slice(0, 200)}`);
    this.done = true;
    return undefined;
  }
}
