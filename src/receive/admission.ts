import type { Socket } from 'node:net';
import { addressKey } from './address-key.js';
import type { AuthBackoff } from './auth-backoff.js';

/** Why a new connection is closed at once. */
export type Refusal = { why: 'per-address'; limit: number } | { why: 'backoff'; waitMs: number };

/** One admitted connection's hold on its address's share; `release` is idempotent. */
export interface Admitted {
  readonly key: string | undefined;
  release(): void;
}

/**
 * Who may open a connection, decided the moment the TCP connection is accepted (before any TLS or
 * shared-key handshake, so connections that never finish one count too): at most `maxPerAddress`
 * open connections per address (`addressKey`), and none from an address that is backing off after
 * failed authentications. Unix socket peers have no address and are not limited here.
 */
export class ConnectionAdmission {
  private readonly open = new Map<string, number>();

  constructor(
    readonly maxPerAddress: number,
    readonly backoff: AuthBackoff,
  ) {}

  admit(socket: Socket): Admitted | Refusal {
    const key = addressKey(socket.remoteAddress);
    if (key === undefined) return { key, release: () => {} };
    const waitMs = this.backoff.waitMs(key);
    if (waitMs > 0) return { why: 'backoff', waitMs };
    const count = this.open.get(key) ?? 0;
    if (count >= this.maxPerAddress) return { why: 'per-address', limit: this.maxPerAddress };
    this.open.set(key, count + 1);
    let released = false;
    return {
      key,
      release: () => {
        if (released) return;
        released = true;
        const left = this.open.get(key)! - 1;
        if (left > 0) this.open.set(key, left);
        else this.open.delete(key);
      },
    };
  }

}
