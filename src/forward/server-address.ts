import { CliError, ExitCode } from '../base/exit-codes.js';

/** Where one server listens, and its share of the chunks. */
export interface ServerAddress {
  readonly host: string;
  readonly port: number;
  /** Relative share in the weighted round-robin (1 to 1000). */
  readonly weight: number;
  /** A standby gets chunks only while every primary is down. */
  readonly standby: boolean;
  /** `host:port`, for messages and counters. */
  readonly label: string;
}

export const DEFAULT_FORWARD_PORT = 24224;
export const MAX_WEIGHT = 1000;

/**
 * Parses `HOST[:PORT][@WEIGHT]` (IPv6 as `[::1]:24224`). A bad address is a usage error,
 * reported before anything is read or sent.
 */
export function parseServerAddress(text: string, standby = false): ServerAddress {
  const match = /^(?:\[([^\]]+)\]|([^:@[\]]+))(?::(\d+))?(?:@(\d+))?$/.exec(text.trim());
  if (!match) throw new CliError(`bad server address ${JSON.stringify(text)} (expected HOST:PORT or HOST:PORT@WEIGHT)`, ExitCode.USAGE);
  const host = match[1] ?? match[2]!;
  const port = match[3] === undefined ? DEFAULT_FORWARD_PORT : Number(match[3]);
  if (!(port >= 1 && port <= 65535)) throw new CliError(`bad port in ${JSON.stringify(text)} (1 to 65535)`, ExitCode.USAGE);
  const weight = match[4] === undefined ? 1 : Number(match[4]);
  if (!(weight >= 1 && weight <= MAX_WEIGHT)) {
    throw new CliError(`bad weight in ${JSON.stringify(text)} (1 to ${MAX_WEIGHT})`, ExitCode.USAGE);
  }
  const label = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { host, port, weight, standby, label };
}
