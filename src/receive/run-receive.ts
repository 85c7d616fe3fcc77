import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { TlsOptions } from 'node:tls';
import { CliError, ExitCode } from '../cli/exit-codes.js';
import { EventWriter, colorWanted, resolveOutputFormat } from '../codec/event-writer.js';
import { isLoopback, parseBindAddress } from './bind-address.js';
import { BufferBudget, type ConnectionConfig } from './connection.js';
import { StreamSink } from './event-sink.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { ReceiveServer } from './receive-server.js';
import { ReceiveStats } from './receive-stats.js';
import { isCleanTag } from './sanitize-tag.js';
import { receiveMetrics } from './receive-metrics.js';
import { CommandMetrics, type MetricsSettings } from '../metrics/command-metrics.js';
import { observeOutput } from '../metrics/stage-metrics.js';
import { log as logger } from '../log/logger.js';

export interface ReceiveOptions {
  bind: string;
  output?: string;
  sharedKey?: string;
  user: readonly string[];
  selfHostname?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  maxChunkBytes: number;
  maxDecompressedBytes: number;
  maxBufferedBytes: number;
  maxDepth: number;
  maxConnections: number;
  idleTimeout: number;
  sourceAddressKey?: string;
  sourceHostnameKey?: string;
  tagPrefix?: string;
  metrics: MetricsSettings;
}

const MIB = 1024 * 1024;

export async function runReceive(options: ReceiveOptions): Promise<void> {
  const bind = parseBindAddress(options.bind);
  if (typeof bind === 'string') throw new CliError(`--bind: ${bind}`, ExitCode.USAGE);
  if (options.tagPrefix !== undefined && !isCleanTag(options.tagPrefix)) {
    throw new CliError(`--tag-prefix ${JSON.stringify(options.tagPrefix)} is not a valid tag (letters, digits, _ - : @ + = ~, dot-separated)`, ExitCode.USAGE);
  }
  for (const [name, value] of [['--max-chunk-bytes', options.maxChunkBytes], ['--max-decompressed-bytes', options.maxDecompressedBytes], ['--max-buffered-bytes', options.maxBufferedBytes], ['--max-depth', options.maxDepth], ['--max-connections', options.maxConnections]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new CliError(`${name} must be a positive integer`, ExitCode.USAGE);
  }
  if (!(options.idleTimeout > 0)) throw new CliError('--idle-timeout must be a positive number of seconds', ExitCode.USAGE);
  const users = new Map<string, string>();
  for (const entry of options.user) {
    const i = entry.indexOf(':');
    if (i <= 0) throw new CliError(`--user ${JSON.stringify(entry.slice(0, 40))}: expected NAME:PASSWORD`, ExitCode.USAGE);
    users.set(entry.slice(0, i), entry.slice(i + 1));
  }
  const sharedKey = options.sharedKey ?? process.env.LOGKIT_SHARED_KEY;
  if (users.size > 0 && !sharedKey) throw new CliError('--user needs --shared-key (user authentication is part of the shared-key handshake)', ExitCode.USAGE);
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) throw new CliError('--tls-cert and --tls-key go together', ExitCode.USAGE);
  if (options.tlsCa && !options.tlsCert) throw new CliError('--tls-ca needs --tls-cert and --tls-key', ExitCode.USAGE);

  let tls: TlsOptions | undefined;
  if (options.tlsCert && options.tlsKey) {
    const read = async (path: string, what: string) => {
      try {
        return await readFile(path);
      } catch (error) {
        throw new CliError(`${what} ${path}: ${(error as Error).message}`, ExitCode.NO_INPUT);
      }
    };
    tls = { cert: await read(options.tlsCert, '--tls-cert'), key: await read(options.tlsKey, '--tls-key') };
    if (options.tlsCa) Object.assign(tls, { ca: await read(options.tlsCa, '--tls-ca'), requestCert: true, rejectUnauthorized: true });
  }

  const log = new RateLimitedLog();
  if (bind.kind === 'tcp' && !isLoopback(bind.host) && !sharedKey && !tls) {
    logger.warn(
      `WARNING: listening on ${bind.host}, reachable from the network, with neither --shared-key nor TLS: ` +
        'anyone who can connect can inject events',
    );
  }

  const config: ConnectionConfig = {
    limits: { maxBytes: options.maxChunkBytes, maxDepth: options.maxDepth, maxDecompressedBytes: options.maxDecompressedBytes },
    auth: sharedKey ? { sharedKey, users, serverHostname: options.selfHostname ?? hostname() } : undefined,
    sourceAddressKey: options.sourceAddressKey || undefined,
    sourceHostnameKey: options.sourceHostnameKey || undefined,
    tagPrefix: options.tagPrefix || undefined,
    idleTimeoutMs: options.idleTimeout * 1000,
    handshakeTimeoutMs: Math.min(options.idleTimeout * 1000, 30_000),
    maxBatchEvents: 10_000,
  };
  const format = resolveOutputFormat(options.output, process.stdout.isTTY);
  const writer = new EventWriter(process.stdout, format, colorWanted(process.stdout.isTTY));
  const sink = new StreamSink(process.stdout, writer, 4 * MIB);
  const stats = new ReceiveStats();
  const server = new ReceiveServer(
    { bind, tls, maxConnections: options.maxConnections, heartbeat: bind.kind === 'tcp' },
    { config, sink, log, stats, budget: new BufferBudget(options.maxBufferedBytes) },
  );
  let where: string;
  try {
    where = await server.listen();
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const what = bind.kind === 'unix' ? bind.path : `${bind.host}:${bind.port}`;
    if (e.code === 'EADDRINUSE') throw new CliError(`cannot listen on ${what}: address in use${e.message.includes('another') ? ` (${e.message})` : ''}`, ExitCode.UNAVAILABLE);
    if (e.code === 'EACCES') throw new CliError(`cannot listen on ${what}: permission denied`, ExitCode.UNAVAILABLE);
    throw new CliError(`cannot listen on ${what}: ${e.message}`, ExitCode.UNAVAILABLE);
  }
  logger.info(`listening on ${where}${config.auth ? ', shared-key authentication' : ''}${tls ? ', TLS' : ''}`);

  // Counters: --metrics, --stats, --stats-interval and SIGUSR1 (src/metrics/).
  const registry = receiveMetrics(stats);
  observeOutput(registry, writer);
  const metrics = await CommandMetrics.start(registry, options.metrics);

  // SIGTERM/SIGINT: stop accepting, stop reading, let in-flight events reach stdout and their
  // acks reach the clients (bounded), flush, exit 0.
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      server.stopListening();
      void server
        .closeConnections(5000)
        .then(() => withTimeout(sink.flush(), 10_000))
        .then((flushed) => {
          if (!flushed) {
            // stdout is stuck: what was not written was not acknowledged either, so the senders
            // still hold it and will resend; say so and end rather than hang
            logger.error('stdout did not drain within 10 s of SIGTERM; unwritten events were not acknowledged');
            process.exit(ExitCode.TEMP_FAIL);
          }
          resolve();
        }, resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await metrics.finish();
}

/** true when the promise settled in time, false on timeout. */
function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    timer.unref();
    promise.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}
