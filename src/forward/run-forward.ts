import { readFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { DecodeError } from '../codec/decode-error.js';
import { prepend, readEvents, startsMessagePackArray, type InputFormat } from '../codec/read-events.js';
import { CliError, ExitCode } from '../cli/exit-codes.js';
import type { LogEvent } from '../event/event.js';
import type { ChunkStore } from './chunk-ledger.js';
import type { OverflowPolicy } from '../buffer/defaults.js';
import { DurableInput } from './durable-input.js';
import { Forwarder } from './forwarder.js';
import type { HeartbeatType } from './heartbeat.js';
import type { IdentityMode } from './chunk.js';
import { RawEntryScanner } from './raw-entry-scanner.js';
import { parseServerAddress } from './server-address.js';
import { formatStats } from './stats.js';
import { forwardMetrics } from './forward-metrics.js';
import { CommandMetrics } from '../metrics/command-metrics.js';
import { DeadLetterFile } from './dead-letter.js';
import { log } from '../log/logger.js';

export interface ForwardOptions {
  servers: readonly string[];
  standby: readonly string[];
  input: InputFormat;
  chunkBytes: number;
  /** Seconds (as every duration of the command line). */
  flushInterval: number;
  flushMode: 'immediate' | 'interval';
  compress: 'gzip' | 'none';
  identities: IdentityMode;
  ack: boolean;
  ackTimeout: number;
  /** Seconds a source's chunks wait for their server after it went down. */
  failoverDelay: number;
  maxPendingBytes: number;
  heartbeat: HeartbeatType;
  heartbeatInterval: number;
  retryMaxInterval: number;
  connectTimeout: number;
  keepaliveInterval: number;
  drainTimeout: number;
  sharedKey?: string;
  username?: string;
  password?: string;
  hostname?: string;
  tls: boolean;
  tlsCa?: string;
  tlsVerify: boolean;
  tlsServername?: string;
  stats: boolean;
  statsInterval: number;
  metrics?: string;
  /** Where chunks persist; memory by default (--buffer brings its own, see durable-input.ts). */
  store?: ChunkStore;
  /** --dead-letter FILE: where events a server refuses as bad data are kept (see poison-isolation.ts). */
  deadLetter?: string;
  /** --buffer DIR: a disk buffer of chunks (durable before the first send, deleted on ack, replayed after a restart). */
  buffer?: string;
  /** --checkpoint FILE: commit source positions (on durability with --buffer, on acknowledgement without). */
  checkpoint?: string;
  totalLimit: string | number;
  overflow: OverflowPolicy;
}

const ms = (seconds: number): number => Math.round(seconds * 1000);

function positive(name: string, value: number, min = 0): number {
  if (!Number.isFinite(value) || value <= min) throw new CliError(`--${name} must be a number greater than ${min}`, ExitCode.USAGE);
  return value;
}

/** `logkit forward`: stdin → chunks → servers; exits once every event is acknowledged. */
export async function runForward(options: ForwardOptions): Promise<void> {
  if (options.servers.length === 0) throw new CliError('name at least one server (HOST:PORT)', ExitCode.USAGE);
  const servers = [
    ...options.servers.map((s) => parseServerAddress(s)),
    ...options.standby.map((s) => parseServerAddress(s, true)),
  ];
  positive('chunk-bytes', options.chunkBytes);
  positive('flush-interval', options.flushInterval);
  positive('ack-timeout', options.ackTimeout);
  positive('max-pending-bytes', options.maxPendingBytes);
  positive('heartbeat-interval', options.heartbeatInterval);
  positive('retry-max-interval', options.retryMaxInterval);
  positive('connect-timeout', options.connectTimeout);
  positive('keepalive-interval', options.keepaliveInterval);
  if (!(options.failoverDelay >= 0)) throw new CliError('--failover-delay must be 0 or more', ExitCode.USAGE);
  if (!(options.drainTimeout >= 0)) throw new CliError('--drain-timeout must be 0 or more', ExitCode.USAGE);
  if (!(options.statsInterval >= 0)) throw new CliError('--stats-interval must be 0 or more', ExitCode.USAGE);
  // Secrets on a command line show in `ps`: the environment is the better place for them.
  const sharedKey = options.sharedKey ?? process.env.LOGKIT_SHARED_KEY;
  const password = options.password ?? process.env.LOGKIT_PASSWORD ?? '';
  if ((options.username || password) && !sharedKey) {
    throw new CliError('--username and --password need --shared-key (user authentication is part of the shared-key handshake)', ExitCode.USAGE);
  }
  if (!options.tls && (options.tlsCa || options.tlsServername)) {
    throw new CliError('--tls-ca and --tls-servername need --tls', ExitCode.USAGE);
  }
  let ca: Buffer | undefined;
  if (options.tlsCa) {
    try {
      ca = await readFile(options.tlsCa);
    } catch (error) {
      throw new CliError(`--tls-ca ${options.tlsCa}: ${(error as Error).message}`, ExitCode.NO_INPUT);
    }
  }

  const deadLetter = options.deadLetter !== undefined ? await DeadLetterFile.open(options.deadLetter) : undefined;

  // A committing forward (--buffer, --checkpoint) reads its input into segments with source positions.
  const durable =
    options.buffer !== undefined || options.checkpoint !== undefined
      ? await DurableInput.open({
          buffer: options.buffer,
          checkpoint: options.checkpoint,
          totalLimit: options.totalLimit,
          overflow: options.overflow,
          chunkBytes: Math.floor(options.chunkBytes),
          flushIntervalMs: ms(options.flushInterval),
          input: options.input,
        })
      : undefined;

  const forwarder = new Forwarder({
    servers,
    compress: options.compress,
    chunkBytes: Math.floor(options.chunkBytes),
    flushIntervalMs: ms(options.flushInterval),
    flushMode: options.flushMode,
    ackTimeoutMs: ms(options.ackTimeout),
    maxPendingBytes: options.maxPendingBytes,
    heartbeat: options.heartbeat,
    heartbeatIntervalMs: ms(options.heartbeatInterval),
    failoverDelayMs: ms(options.failoverDelay),
    store: durable?.sender ?? options.store,
    deadLetter,
    connection: {
      ack: options.ack,
      identities: options.identities,
      tls: options.tls ? { ca, verify: options.tlsVerify, servername: options.tlsServername } : undefined,
      auth: sharedKey
        ? { sharedKey, username: options.username ?? '', password, hostname: options.hostname ?? osHostname() }
        : undefined,
      connectTimeoutMs: ms(options.connectTimeout),
      keepaliveMs: ms(options.keepaliveInterval),
      retryInitialMs: Math.min(500, ms(options.retryMaxInterval)),
      retryMaxMs: ms(options.retryMaxInterval),
      // Enough to keep the pipe full; beyond it a slow server takes no new chunks.
      writeHighWaterBytes: Math.max(4 * options.chunkBytes, 8 * 1024 * 1024),
    },
  });

  // Counters: --metrics, --stats, --stats-interval and SIGUSR1 (src/metrics/); the line keeps forward's own format.
  const metrics = await CommandMetrics.start(
    forwardMetrics(() => forwarder.stats()),
    { metrics: options.metrics, stats: options.stats, statsInterval: options.statsInterval },
    { line: () => formatStats(forwarder.stats()) },
  );

  // SIGTERM / SIGINT: stop reading, deliver what we hold, exit. (One fresh promise per wait:
  // racing every read against one long-lived promise would pile reactions on it, each holding a batch.)
  let terminated = false;
  let wake: ((value: 'terminated') => void) | undefined;
  const terminate = (): void => {
    terminated = true;
    wake?.('terminated');
  };
  const orTerminated = <T>(work: Promise<T>): Promise<T | 'terminated'> => {
    if (terminated) return Promise.resolve('terminated');
    return new Promise((resolve, reject) => {
      wake = resolve;
      work.then(resolve, reject);
    });
  };
  process.once('SIGTERM', terminate);
  process.once('SIGINT', terminate);

  // Defensive: if the event loop ever ran dry before we finished (nothing left to wake us), say
  // so and fail instead of exiting 0 with events undelivered.
  let finished = false;
  const stalled = (): void => {
    if (finished) return;
    process.stderr.write('logkit forward: internal error: stalled with nothing left to wait for\n');
    process.exit(ExitCode.SOFTWARE);
  };
  process.on('beforeExit', stalled);

  forwarder.start();
  let inputError: CliError | undefined;
  if (durable) {
    inputError = await durable.read(forwarder, orTerminated);
    process.stdin.destroy();
    const outcome = await durable.complete(forwarder, ms(options.drainTimeout), terminated);
    finished = true;
    await forwarder.close();
    await deadLetter?.close();
    await metrics.finish();
    if (outcome.keptEvents > 0) {
      const kept = `${outcome.keptEvents} events in ${outcome.keptChunks} chunks not acknowledged within --drain-timeout ${options.drainTimeout} s ` +
        `are kept in ${options.buffer} and sent first at the next start (${serverStates(forwarder)})`;
      // SIGTERM: they are durable, the stop is clean; at the end of input a supervisor should run us again.
      if (terminated) log.warn(kept);
      else throw new CliError(kept, ExitCode.TEMP_FAIL);
    } else if (outcome.undeliveredEvents > 0) {
      throw new CliError(
        `${outcome.undeliveredEvents} events could not be delivered: no acknowledgement within --drain-timeout ${options.drainTimeout} s ` +
          `(${serverStates(forwarder)}); they are not checkpointed, tail reads them again`,
        ExitCode.UNAVAILABLE,
      );
    }
    if (inputError) throw inputError;
    process.exit(0);
  }

  const chunks = process.stdin[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    const first = await orTerminated(chunks.next());
    if (first !== 'terminated' && !first.done) {
      const head = first.value;
      if (options.input !== 'json' && options.input !== 'text' && startsMessagePackArray(head)) {
        // The fast path: MessagePack entries are copied into chunks without decoding records.
        const scanner = new RawEntryScanner();
        let next: IteratorResult<Buffer> | 'terminated' = first;
        while (next !== 'terminated' && !next.done) {
          if ((await orTerminated(forwarder.writeRaw(next.value, scanner))) === 'terminated') break;
          next = await orTerminated(chunks.next());
        }
        if (next !== 'terminated' && next.done) scanner.end();
      } else {
        const batches = readEvents(prepend(head, chunks), { format: options.input })[Symbol.asyncIterator]();
        for (;;) {
          const next = await orTerminated(batches.next());
          if (next === 'terminated' || next.done) break;
          if ((await orTerminated(forwarder.write(next.value as LogEvent[]))) === 'terminated') break;
        }
      }
    }
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    // Deliver what came before the fault, then report it.
    await forwarder.write(error.decoded);
    const where = error.line !== undefined ? `line ${error.line}` : `byte ${error.offset}`;
    inputError = new CliError(`stdin: ${where}: ${error.message}`, ExitCode.DATA_ERROR);
  }
  process.stdin.destroy();

  const undelivered = await forwarder.drain(ms(options.drainTimeout));
  finished = true;
  const why = serverStates(forwarder);
  const refused = forwarder.ledger.refusedEvents;
  await forwarder.close();
  await deadLetter?.close();
  await metrics.finish();
  if (undelivered.length > 0) {
    const events = undelivered.reduce((sum, chunk) => sum + chunk.events, 0);
    const refusedPart = refused > 0 ? `, of which ${refused} refused by the server as bad data (give --dead-letter FILE to keep such events)` : '';
    throw new CliError(
      `${events} events in ${undelivered.length} chunks could not be delivered${refusedPart}: no acknowledgement within ` +
        `--drain-timeout ${options.drainTimeout} s (${why})`,
      ExitCode.UNAVAILABLE,
    );
  }
  if (inputError) throw inputError;
  // stdin may still be open (SIGTERM with a live producer): do not wait for it.
  process.exit(0);
}

function serverStates(forwarder: Forwarder): string {
  return forwarder
    .servers()
    .map((s) => `${s.label} ${s.state}${s.lastError ? `: ${s.lastError}` : ''}`)
    .join('; ');
}

