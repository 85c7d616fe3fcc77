import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { TlsOptions } from 'node:tls';
import { CliError, ExitAtOnce, ExitCode } from '../base/exit-codes.js';
import { EventWriter, colorWanted } from '../codec/event-writer.js';
import { isLoopback, parseBindAddress } from '../net/bind-address.js';
import { AuthBackoff } from './auth-backoff.js';
import { BufferBudget, type ConnectionConfig } from './connection.js';
import { StreamSink, type EventSink } from './event-sink.js';
import { openDurable, type Durable } from './durable/open-durable.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { ReceiveServer } from './receive-server.js';
import { ReceiveStats } from './receive-stats.js';
import { isCleanTag } from '../event/tag.js';
import { receiveMetrics } from './receive-metrics.js';
import { CommandMetrics, type MetricsSettings } from '../metrics/command-metrics.js';
import type { MetricsRegistry } from '../metrics/registry.js';
import { observeOutput } from '../metrics/stage-metrics.js';
import { log as logger } from '../log/logger.js';
import { onAbort } from '../stream/shutdown.js';
import type { StageIO } from '../stream/stage-io.js';

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
  /** Open connections per address (IPv6: per /64); undefined: an eighth of maxConnections. */
  maxConnectionsPerIp?: number;
  idleTimeoutMs: number;
  /** In total, from accept to the end of the TLS and shared-key handshakes. */
  handshakeTimeoutMs: number;
  /** In total, from a request's first byte to its last. */
  requestTimeoutMs: number;
  /** Longest an address is refused after repeated failed authentications (0: no backoff). */
  maxAuthBackoffMs: number;
  sourceAddressKey?: string;
  sourceHostnameKey?: string;
  tagPrefix?: string;
  metrics: MetricsSettings;
  /** Durable mode: buffer directory; acks wait for durability, stdout is replayed from the store's checkpoint. */
  buffer?: string;
  checkpoint?: string;
  totalLimitBytes: number;
  dedupChunks: number;
}

const MIB = 1024 * 1024;

export async function runReceive(options: ReceiveOptions, io: StageIO): Promise<void> {
  const out = io.output.stream;
  const bind = parseBindAddress(options.bind);
  if (typeof bind === 'string') throw new CliError(`--bind: ${bind}`, ExitCode.USAGE);
  if (options.tagPrefix !== undefined && !isCleanTag(options.tagPrefix)) {
    throw new CliError(`--tag-prefix ${JSON.stringify(options.tagPrefix)} is not a valid tag (letters, digits, _ - : @ + = ~, dot-separated)`, ExitCode.USAGE);
  }
  const maxConnectionsPerIp = options.maxConnectionsPerIp ?? defaultConnectionsPerIp(options.maxConnections);
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
    idleTimeoutMs: options.idleTimeoutMs,
    handshakeTimeoutMs: Math.min(options.idleTimeoutMs, options.handshakeTimeoutMs),
    requestTimeoutMs: options.requestTimeoutMs,
    maxBatchEvents: 10_000,
  };
  const format = io.output.format(options.output);
  if ((options.buffer === undefined) !== (options.checkpoint === undefined)) {
    throw new CliError('--buffer and --checkpoint go together (receive deletes buffered events once the store\'s checkpoint covers them)', ExitCode.USAGE);
  }
  let durable: Durable | undefined;
  let emitting: Promise<void> | undefined;
  let writer: EventWriter | undefined;
  let sink: EventSink;
  // A failure of the buffer's writer to stdout stops the server as SIGTERM would, then ends the stage.
  const failed = new AbortController();
  let emitError: Error | undefined;
  if (options.buffer !== undefined) {
    if (format !== 'msgpack') throw new CliError(`--buffer writes MessagePack to stdout (a pipe or file), not ${format}`, ExitCode.USAGE);
    durable = await openDurable(
      { bufferDir: options.buffer, checkpoint: options.checkpoint!, totalLimitBytes: options.totalLimitBytes, dedupChunks: options.dedupChunks, log: (m) => log.line(m) },
      out,
    );
    sink = durable.sink;
    // replay first: chunk files left on disk go out before anything received now (in their order)
    emitting = durable.emitter.run().catch((error: Error) => {
      emitError = error;
      failed.abort();
    });
  } else {
    writer = new EventWriter(out, format, colorWanted(io.output.isTTY));
    sink = new StreamSink(out, writer, 4 * MIB);
  }
  const stats = new ReceiveStats();
  const server = new ReceiveServer(
    { bind, tls, maxConnections: options.maxConnections, maxConnectionsPerAddress: maxConnectionsPerIp, heartbeat: bind.kind === 'tcp' },
    { config, sink, log, stats, budget: new BufferBudget(options.maxBufferedBytes), backoff: new AuthBackoff(options.maxAuthBackoffMs) },
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
  if (writer) observeOutput(registry, writer);
  if (durable) observeDurable(registry, durable);
  const metrics = await CommandMetrics.start(registry, options.metrics);

  // Shutdown (SIGTERM/SIGINT): stop accepting, stop reading, let in-flight events reach stdout and their
  // acks reach the clients (bounded), flush, exit 0.
  const drained = await new Promise<boolean>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      server.stopListening();
      void server
        .closeConnections(5000)
        .then(() => withTimeout(durable ? drainDurable(durable, emitting!, out) : sink.flush(), 10_000))
        .then(resolve, () => resolve(true));
    };
    onAbort(AbortSignal.any([io.signal, failed.signal]), stop);
  });
  if (durable) await durable.buffer.close();
  await metrics.finish();
  if (stats.duplicateChunks > 0 && !options.metrics.stats) logger.info(`dropped ${stats.duplicateChunks} resent requests already received (acknowledged again)`);
  // the writer to stdout may still be pending on a broken or stalled stdout: not waited for
  if (emitError) throw new ExitAtOnce(`receive: ${emitError.message}`, ExitCode.IO_ERROR);
  if (!drained) {
    // stdout is stuck: what was not written was not acknowledged either, so the senders still
    // hold it and will resend; say so and end rather than hang
    throw new ExitAtOnce(
      durable
        ? 'receive: stdout did not drain within 10 s of SIGTERM; what it did not take stays in the buffer and is replayed at the next start'
        : 'receive: stdout did not drain within 10 s of SIGTERM; unwritten events were not acknowledged',
      ExitCode.TEMP_FAIL,
    );
  }
}

/**
 * One address may hold an eighth of all connections by default: enough for a host running many
 * senders, while it takes eight abusive addresses, not one, to fill the server.
 */
export function defaultConnectionsPerIp(maxConnections: number): number {
  return Math.max(1, Math.floor(maxConnections / 8));
}

/** SIGTERM with --buffer: make what was received durable, write what the buffer holds to stdout, look at the checkpoint once more. */
async function drainDurable(durable: Durable, emitting: Promise<void>, out: NodeJS.WritableStream): Promise<void> {
  await durable.sink.flush();
  await durable.buffer.finish();
  await emitting;
  await new Promise<void>((resolve) => out.write('', () => resolve()));
  await durable.emitter.finalPoll();
}

/** The durable mode's counters, beside the connection counters (same `--stats` keys as before). */
function observeDurable(registry: MetricsRegistry, durable: Durable): void {
  const e = durable.emitter.stats;
  const b = () => durable.buffer.stats();
  const add = (stat: string, name: string, help: string, type: 'counter' | 'gauge', read: () => number) => registry.observe({ name, help, type, stat }, read);
  add('emitted_chunks', 'logkit_receive_emitted_chunks_total', 'Buffered chunks written to standard output', 'counter', () => e.emittedChunks);
  add('emitted_events', 'logkit_output_events_total', 'Events written to standard output', 'counter', () => e.emittedEvents);
  add('bytes_out', 'logkit_output_bytes_total', 'Bytes written to standard output', 'counter', () => e.emittedBytes);
  add('skipped_chunks', 'logkit_receive_skipped_chunks_total', 'Chunks found at start that the store checkpoint already covered', 'counter', () => e.skippedChunks);
  add('committed_chunks', 'logkit_receive_committed_chunks_total', 'Chunks deleted once the store checkpoint covered them', 'counter', () => e.committedChunks);
  add('buffered_chunks', 'logkit_buffer_chunks', 'Chunks in the buffer directory', 'gauge', () => b().chunksOnDisk);
  add('buffered_events', 'logkit_buffer_events', 'Events in the buffer directory', 'gauge', () => b().eventsOnDisk);
  add('replayed_chunks', 'logkit_buffer_replayed_chunks_total', 'Chunks found in the buffer at start', 'counter', () => b().replayedChunks);
  add('corrupt_chunks', 'logkit_buffer_corrupt_chunks_total', 'Chunks moved aside as unusable', 'counter', () => b().corruptChunks);
  add('fsyncs', 'logkit_buffer_fsyncs_total', 'fsync calls of the buffer', 'counter', () => b().fsyncs);
}

/** true when the promise settled in time, false on timeout. */
function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    // not unref'd: the stage ends by it when nothing else would wake it (cleared once settled)
    const timer = setTimeout(() => resolve(false), ms);
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
