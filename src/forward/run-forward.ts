import { readFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { DecodeError } from '../codec/decode-error.js';
import { prepend, readEvents, startsMessagePackArray, type InputFormat } from '../codec/read-events.js';
import { CliError, ExitCode } from '../base/exit-codes.js';
import type { LogEvent } from '../event/event.js';
import type { ChunkStore } from './chunk-ledger.js';
import type { OverflowPolicy } from '../buffer/defaults.js';
import { DurableInput, type DurableOutcome } from './durable-input.js';
import { log } from '../log/logger.js';
import { Forwarder } from './forwarder.js';
import type { IdentityMode } from './chunk.js';
import type { Compression, FlushMode, HeartbeatType } from './forward-choices.js';
import { formatDuration } from '../base/units.js';
import { RawEntryScanner } from './raw-entry-scanner.js';
import { parseServerAddress } from './server-address.js';
import { formatStats } from './stats.js';
import { forwardMetrics } from './forward-metrics.js';
import { ABORTED, untilAborted } from '../stream/shutdown.js';
import type { StageIO } from '../stream/stage-io.js';
import { CommandMetrics } from '../metrics/command-metrics.js';
import { DeadLetterFile } from './dead-letter.js';

export interface ForwardOptions {
  servers: readonly string[];
  standby: readonly string[];
  input: InputFormat;
  chunkBytes: number;
  /** Durations are in milliseconds (the command line's DURATION values, resolved). */
  flushIntervalMs: number;
  flushMode: FlushMode;
  compress: Compression;
  identities: IdentityMode;
  ack: boolean;
  ackTimeoutMs: number;
  /** How long a source's chunks wait for their server after it went down. */
  failoverDelayMs: number;
  maxPendingBytes: number;
  heartbeat: HeartbeatType;
  heartbeatIntervalMs: number;
  retryMaxIntervalMs: number;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  drainTimeoutMs: number;
  sharedKey?: string;
  username?: string;
  password?: string;
  selfHostname?: string;
  tls: boolean;
  tlsCa?: string;
  tlsVerify: boolean;
  tlsServername?: string;
  stats: boolean;
  statsIntervalMs: number;
  metrics?: string;
  /** Where chunks persist; memory by default (--buffer brings its own, see durable-input.ts). */
  store?: ChunkStore;
  /** --dead-letter FILE: where events a server refuses as bad data are kept (see poison-isolation.ts). */
  deadLetter?: string;
  /** --buffer DIR: a disk buffer of chunks (durable before the first send, deleted on ack, replayed after a restart). */
  buffer?: string;
  /** --checkpoint FILE: commit source positions (on durability with --buffer, on acknowledgement without). */
  checkpoint?: string;
  totalLimitBytes: number;
  overflow: OverflowPolicy;
}

/** `logkit forward`: stdin → chunks → servers; exits once every event is acknowledged. */
export async function runForward(options: ForwardOptions, io: StageIO): Promise<void> {
  if (options.servers.length === 0) throw new CliError('name at least one server (HOST:PORT)', ExitCode.USAGE);
  const servers = [
    ...options.servers.map((s) => parseServerAddress(s)),
    ...options.standby.map((s) => parseServerAddress(s, true)),
  ];
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

  // A committing forward (--buffer, --checkpoint) reads its input into runs with source positions: chunk files, or segments in memory.
  const durable =
    options.buffer !== undefined || options.checkpoint !== undefined
      ? await DurableInput.open({
          buffer: options.buffer,
          checkpoint: options.checkpoint,
          totalLimitBytes: options.totalLimitBytes,
          overflow: options.overflow,
          chunkBytes: options.chunkBytes,
          flushIntervalMs: options.flushIntervalMs,
          input: options.input,
        })
      : undefined;

  const forwarder = new Forwarder({
    servers,
    compress: options.compress,
    chunkBytes: options.chunkBytes,
    flushIntervalMs: options.flushIntervalMs,
    flushMode: options.flushMode,
    ackTimeoutMs: options.ackTimeoutMs,
    maxPendingBytes: options.maxPendingBytes,
    heartbeat: options.heartbeat,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    failoverDelayMs: options.failoverDelayMs,
    store: durable?.sender ?? options.store,
    deadLetter,
    connection: {
      ack: options.ack,
      identities: options.identities,
      tls: options.tls ? { ca, verify: options.tlsVerify, servername: options.tlsServername } : undefined,
      auth: sharedKey
        ? { sharedKey, username: options.username ?? '', password, hostname: options.selfHostname ?? osHostname() }
        : undefined,
      connectTimeoutMs: options.connectTimeoutMs,
      keepaliveMs: options.keepaliveIntervalMs,
      retryInitialMs: Math.min(500, options.retryMaxIntervalMs),
      retryMaxMs: options.retryMaxIntervalMs,
      // Enough to keep the pipe full; beyond it a slow server takes no new chunks.
      writeHighWaterBytes: Math.max(4 * options.chunkBytes, 8 * 1024 * 1024),
    },
  });

  // Counters: --metrics, --stats, --stats-interval and SIGUSR1 (src/metrics/); the line keeps forward's own format.
  const metrics = await CommandMetrics.start(
    forwardMetrics(() => forwarder.stats(), options.ack),
    { metrics: options.metrics, stats: options.stats, statsIntervalMs: options.statsIntervalMs },
    { line: () => formatStats(forwarder.stats()) },
  );

  // Shutdown (SIGTERM / SIGINT): stop reading, deliver what we hold, exit.
  const { signal } = io;

  forwarder.start();
  let inputError: DecodeError | undefined;
  if (durable) {
    let outcome: DurableOutcome;
    try {
      inputError = await durable.read(forwarder, io.input, signal);
      io.input.close();
      outcome = await durable.complete(forwarder, options.drainTimeoutMs, signal.aborted);
    } finally {
      // also when the buffer failed (--overflow fail): the counters and the connections end cleanly
      io.input.close();
      await forwarder.close();
      await deadLetter?.close();
      await metrics.finish();
    }
    if (outcome.keptEvents > 0) {
      const kept = `${outcome.keptEvents} events in ${outcome.keptChunks} chunks not acknowledged within --drain-timeout ${formatDuration(options.drainTimeoutMs)} ` +
        `are kept in ${options.buffer} and sent first at the next start (${serverStates(forwarder)})`;
      // SIGTERM: they are durable, the stop is clean; at the end of input a supervisor should run us again.
      if (signal.aborted) log.warn(kept);
      else throw new CliError(kept, ExitCode.TEMP_FAIL);
    } else if (outcome.undeliveredEvents > 0) {
      throw new CliError(
        `${outcome.undeliveredEvents} events could not be delivered: no acknowledgement within --drain-timeout ${formatDuration(options.drainTimeoutMs)} ` +
          `(${serverStates(forwarder)}); they are not checkpointed, tail reads them again`,
        ExitCode.UNAVAILABLE,
      );
    }
    if (inputError) throw inputError;
    return;
  }

  try {
    // The input as it comes. From a stage in this process: batches of events (packed once,
    // straight into the chunks) or of MessagePack entries (receive's). From a pipe: MessagePack
    // is the fast path, its entries copied into chunks without decoding records; NDJSON or text
    // is decoded into events.
    let batches: AsyncIterator<LogEvent[] | Buffer> | undefined;
    if (io.inProcess) {
      batches = io.input.batches()[Symbol.asyncIterator]();
    } else {
      const chunks = io.input.bytes()[Symbol.asyncIterator]();
      const first = await untilAborted(chunks.next(), signal);
      if (first !== ABORTED && !first.done) {
        const raw = options.input !== 'json' && options.input !== 'text' && startsMessagePackArray(first.value);
        batches = raw ? prepend(first.value, chunks) : readEvents(prepend(first.value, chunks), { format: options.input });
      }
    }
    const scanner = new RawEntryScanner();
    while (batches) {
      const next = await untilAborted(batches.next(), signal);
      if (next === ABORTED) break;
      if (next.done) {
        scanner.end();
        break;
      }
      const batch = next.value;
      if ((await untilAborted(Array.isArray(batch) ? forwarder.write(batch) : forwarder.writeRaw(batch, scanner), signal)) === ABORTED) break;
    }
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    // Deliver what came before the fault, then report it.
    await forwarder.write(error.decoded);
    inputError = error;
  }
  io.input.close();

  const undelivered = await forwarder.drain(options.drainTimeoutMs);
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
        `--drain-timeout ${formatDuration(options.drainTimeoutMs)} (${why})`,
      ExitCode.UNAVAILABLE,
    );
  }
  if (inputError) throw inputError;
}

function serverStates(forwarder: Forwarder): string {
  return forwarder
    .servers()
    .map((s) => `${s.label} ${s.state}${s.lastError ? `: ${s.lastError}` : ''}`)
    .join('; ');
}

