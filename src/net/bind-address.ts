import { isIP } from 'node:net';

export type BindAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

export const DEFAULT_PORT = 24224;
export const DEFAULT_HOST = '127.0.0.1';

/**
 * `HOST:PORT`, `[IPv6]:PORT`, `HOST` (default port), `:PORT` (default host) or `unix:///path`.
 * Returns a sentence saying what is wrong for anything else.
 */
export function parseBindAddress(text: string): BindAddress | string {
  if (text.startsWith('unix://')) {
    const path = text.slice('unix://'.length);
    if (!path.startsWith('/')) return `unix socket path must be absolute: unix:///path/to.sock`;
    return { kind: 'unix', path };
  }
  let host = text;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d*))?$/.exec(text);
  if (bracket) {
    host = bracket[1]!;
    portText = bracket[2];
  } else if (text.includes(':') && isIP(text) !== 6) {
    const i = text.lastIndexOf(':');
    host = text.slice(0, i);
    portText = text.slice(i + 1);
  }
  if (host === '') host = DEFAULT_HOST;
  let port = DEFAULT_PORT;
  if (portText !== undefined && portText !== '') {
    if (!/^\d+$/.test(portText) || Number(portText) > 65535) return `invalid port in ${JSON.stringify(text)}`;
    port = Number(portText);
  }
  return { kind: 'tcp', host, port };
}

/** Loopback addresses: binding there exposes nothing to the network. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host) || host === '::ffff:127.0.0.1';
}
