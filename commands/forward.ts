import { defineCommand } from '../src/cli/spec.js';
import { INPUT_OPTIONS, OPERATION_OPTIONS } from '../src/cli/common-options.js';
import { BUFFER_LIMIT_OPTIONS } from '../src/buffer/buffer-options.js';
import type { IdentityMode } from '../src/forward/chunk.js';
import { ExitCode } from '../src/base/exit-codes.js';
import { MAX_CHUNK_BYTES } from '../src/buffer/defaults.js';
import { formatSize } from '../src/base/units.js';
import { COMPRESSIONS, FLUSH_MODES, HEARTBEAT_TYPES } from '../src/forward/forward-choices.js';

export default defineCommand(
  {
    name: 'forward',
    summary: 'send events to Fluentd Forward Protocol servers (logkit receive, Fluentd, Fluent Bit)',
    description:
      'Reads events from standard input and sends them over the Fluentd Forward Protocol v1 in PackedForward ' +
      'chunks (CompressedPackedForward with --compress gzip): one chunk per tag, sealed when it reaches ' +
      '--chunk-bytes or when --flush-interval has passed since its first event. Each chunk carries a unique id ' +
      'and is kept until the server acknowledges it; a chunk whose server fails, or does not answer within ' +
      '--ack-timeout, is sent again (to another server if one is up), with the same id so the receiver can drop a ' +
      'duplicate. Events with an identity (options.src, from tail) go by source: each source to one server (weighted rendezvous hashing), to the next one if it is down for --failover-delay; other chunks go to the servers named by weighted round-robin over those that are up; --standby servers ' +
      'get chunks only while every primary is down. A failed server is retried with exponential backoff up to ' +
      '--retry-max-interval, and at once when a heartbeat reaches it again. When --max-pending-bytes are held ' +
      'unacknowledged, forward stops reading its input (back pressure up the pipe). At the end of input, or on ' +
      'SIGTERM, it sends what it holds and waits up to --drain-timeout for the acknowledgements: exit status 0 when ' +
      'every event was acknowledged, 69 with the number of events not delivered otherwise. Nothing is dropped ' +
      'silently. With --no-ack a chunk counts as delivered once the kernel accepted its bytes (at most once: a ' +
      'server that dies may lose what it had not read). The per-event options map (source positions) is not sent: ' +
      'PackedForward entries are [time, record]. SIGUSR1 prints the counters on standard error.\n\n' +
      'With --buffer DIR every chunk is made durable in DIR (written, fsynced, renamed) before it is first sent and ' +
      'deleted once acknowledged; after a crash or a restart the chunks left in DIR are sent first, in order, with ' +
      'their original chunk ids (so logkit receive drops those it already stored). --total-limit and --overflow bound ' +
      'DIR as in logkit buffer (block holds back the input; drop-oldest deletes the oldest chunk not in flight and ' +
      'reports it; fail exits 75). Events not acknowledged within --drain-timeout stay in DIR: on SIGTERM that is a ' +
      'clean stop (exit 0); at the end of input the exit status is 75. With --checkpoint FILE forward is the committing ' +
      'stage: it writes the source positions of events that are durable in DIR (or, without --buffer, acknowledged) ' +
      'for tail --checkpoint FILE to resume from. --buffer and --checkpoint decode the input (source positions are ' +
      'read from each event), which costs throughput.',
    positionals: [
      {
        name: 'server',
        type: 'string',
        variadic: true,
        required: true,
        describe: 'Servers to send to, HOST:PORT[@WEIGHT] (port 24224 and weight 1 when left out; weight 1 to 1000; IPv6 as [::1]:24224)',
        completion: 'none',
      },
    ],
    options: {
      ...INPUT_OPTIONS,
      standby: {
        type: 'string',
        array: true,
        value: 'HOST:PORT',
        describe: 'A standby server, used only while every primary server is down (repeatable)',
        group: 'Servers',
      },
      'chunk-bytes': {
        type: 'size',
        default: '1m',
        min: 1,
        max: formatSize(MAX_CHUNK_BYTES),
        describe: 'Seal a chunk when its packed events reach this size (it exceeds it by at most one event); keep it below the receiver\'s request limit (logkit receive: 32m by default)',
        group: 'Chunks',
      },
      'flush-interval': {
        type: 'duration',
        default: '50ms',
        min: '1ms',
        max: '1d',
        describe: 'How long after its first event a partly filled chunk is sealed and sent at the latest: the bound on the delay batching adds',
        group: 'Chunks',
      },
      'flush-mode': {
        type: 'string',
        choices: FLUSH_MODES,
        default: 'immediate',
        describe: 'immediate: with no chunk in flight, a partly filled chunk is sent as soon as the input pauses (chunks still fill up under load, while acknowledgements are awaited); interval: only when full or --flush-interval has passed',
        group: 'Chunks',
      },
      compress: {
        type: 'string',
        choices: COMPRESSIONS,
        default: 'none',
        describe: 'Compress chunks (gzip: CompressedPackedForward, compressed in a worker thread)',
        group: 'Chunks',
      },
      identities: {
        type: 'string',
        choices: ['auto', 'on', 'off'],
        default: 'auto',
        describe:
          "Send each event's identity (its source position, options.src) with the chunk, in the logkit_src option, so that the stores behind a logkit receive drop replays. " +
          'auto: to every server until its first acknowledgement shows it is not logkit (Fluentd and Fluent Bit ignore the option), and never with --no-ack (no acknowledgement tells); on: always; off: never',
        group: 'Delivery',
      },
      ack: {
        type: 'boolean',
        default: true,
        describe: 'Ask the server to acknowledge each chunk and resend unacknowledged ones; --no-ack sends each chunk once',
        group: 'Delivery',
      },
      'ack-timeout': {
        type: 'duration',
        default: '20s',
        min: '1ms',
        max: '1d',
        describe: 'A server that has not acknowledged a chunk after this long is treated as failed and its chunks go to another server',
        group: 'Delivery',
      },
      'failover-delay': {
        type: 'duration',
        default: '10s',
        min: 0,
        max: '1d',
        describe: 'How long the chunks of a source (events with an identity, options.src) wait for their server after it went down, before they move to the next server of the source\'s order; a server restarting within it keeps its sources, so replays reach the store that has seen them. 0: move at once. Without --buffer, the drain at exit moves at once too',
        group: 'Delivery',
      },
      'max-pending-bytes': {
        type: 'size',
        default: '8m',
        min: 1,
        describe: 'Bound on the bytes held in chunks not yet acknowledged; when it is reached, forward stops reading its input',
        group: 'Delivery',
      },
      'drain-timeout': {
        type: 'duration',
        default: '10s',
        min: 0,
        max: '1d',
        describe: 'How long to wait, at the end of input or on SIGTERM, for outstanding acknowledgements before giving up (exit status 69)',
        group: 'Delivery',
      },
      buffer: {
        type: 'string',
        value: 'DIR',
        completion: 'directory',
        describe: 'Keep chunks in a disk buffer: each is durable (fsynced) before it is first sent and deleted once acknowledged; after a restart the chunks left are sent first, in order, with their original ids',
        group: 'Buffer',
      },
      checkpoint: {
        type: 'string',
        value: 'FILE',
        completion: 'file',
        describe: 'Commit here: write the highest source position per file (options.src from tail) to FILE once its events are durable in --buffer, or acknowledged without it; tail --checkpoint FILE resumes from it',
        group: 'Buffer',
      },
      ...BUFFER_LIMIT_OPTIONS,
      'dead-letter': {
        type: 'string',
        value: 'FILE',
        completion: 'file',
        describe:
          'Append events that a server refuses as bad data (it closes the connection or answers an error on their chunk while it accepts others) to FILE, a MessagePack event stream (replay: logkit forward SERVER < FILE), and move on; the offending events are found by cutting the refused chunk in halves. Without it such events are held, reported and counted as not delivered (exit status 69)',
        group: 'Delivery',
      },
      heartbeat: {
        type: 'string',
        choices: HEARTBEAT_TYPES,
        default: 'transport',
        describe:
          'How a server is known to be alive besides acknowledging chunks (which always counts): transport (as Fluentd\'s default) judges by the data connection and retries an unreachable server every interval with a complete connection (TLS and handshake), so the server logs no error; ' +
          'tcp probes only unreachable servers with a bare TCP connect; udp sends the protocol\'s heartbeat datagram to every server (it also notices a hung server: 3 missed by a server that answered before take it out until one is answered; a server that never answers, such as Fluent Bit, is judged by its data connection); none: reconnect on the backoff only',
        group: 'Servers',
      },
      'heartbeat-interval': {
        type: 'duration',
        default: '1s',
        min: '1ms',
        max: '1d',
        describe: 'Time between heartbeats to each server',
        group: 'Servers',
      },
      'retry-max-interval': {
        type: 'duration',
        default: '30s',
        min: '1ms',
        max: '1d',
        describe: 'Cap of the exponential backoff between reconnection attempts (it starts at 500ms and doubles)',
        group: 'Servers',
      },
      'connect-timeout': {
        type: 'duration',
        default: '5s',
        min: '1ms',
        max: '1d',
        describe: 'How long a connection attempt (TCP, TLS and the shared-key handshake) may take before it is given up',
        group: 'Servers',
      },
      'keepalive-interval': {
        type: 'duration',
        default: '30s',
        min: '1s',
        max: '1d',
        describe: 'TCP keepalive: silence on a connection before the kernel probes it',
        group: 'Servers',
      },
      'shared-key': {
        type: 'string',
        value: 'KEY',
        describe: 'Authenticate with the shared-key handshake (HELO/PING/PONG); the environment variable LOGKIT_SHARED_KEY is read when this is absent',
        group: 'Security',
      },
      username: {
        type: 'string',
        value: 'NAME',
        describe: 'User name for servers that require user authentication (with --shared-key)',
        group: 'Security',
      },
      password: {
        type: 'string',
        value: 'PASSWORD',
        describe: 'Password for user authentication; the environment variable LOGKIT_PASSWORD is read when this is absent',
        group: 'Security',
      },
      'self-hostname': {
        type: 'string',
        value: 'NAME',
        describe: 'Our host name, sent in the handshake (PING)',
        defaultDescription: 'the system host name',
        group: 'Security',
      },
      tls: {
        type: 'boolean',
        default: false,
        describe: 'Connect with TLS',
        group: 'Security',
      },
      'tls-ca': {
        type: 'string',
        value: 'FILE',
        completion: 'file',
        describe: 'PEM file of the certificate authorities to trust instead of the system ones',
        group: 'Security',
      },
      'tls-verify': {
        type: 'boolean',
        default: true,
        describe: 'Verify the server certificate and its name; --no-tls-verify accepts any certificate (testing only)',
        group: 'Security',
      },
      'tls-servername': {
        type: 'string',
        value: 'NAME',
        describe: 'Name to verify the server certificate against (and send in SNI)',
        defaultDescription: 'the host of each server',
        group: 'Security',
      },
      ...OPERATION_OPTIONS,
    },
    renamed: { hostname: 'self-hostname' },
    exitStatuses: [ExitCode.DATA_ERROR, ExitCode.NO_INPUT, ExitCode.UNAVAILABLE, ExitCode.CANT_CREATE, ExitCode.IO_ERROR, ExitCode.TEMP_FAIL, ExitCode.CONFIG],
    examples: [
      ['logkit tail app.log | logkit parse json | logkit forward agg1:24224 agg2:24224', 'send to two aggregators by round-robin'],
      ['logkit forward agg1:24224@3 agg2:24224@1 --standby dr:24224', 'three chunks to agg1 for one to agg2; dr only while both are down'],
      ['LOGKIT_SHARED_KEY=secret logkit forward --tls --tls-ca ca.pem --compress gzip agg:24224', 'TLS, shared-key authentication and gzip'],
      ['logkit forward --stats --stats-interval 60 agg:24224', 'print counters every minute and at exit'],
      ['logkit tail --checkpoint /var/lib/logkit/app.ckpt app.log | logkit parse json | logkit forward --buffer /var/spool/logkit/fwd --checkpoint /var/lib/logkit/app.ckpt agg:24224', 'at least once from the file to the aggregator across crashes of any process'],
    ],
  },
  async (args, io) => {
    const { runForward } = await import('../src/forward/run-forward.js');
    await runForward({
      servers: args.server,
      standby: args.standby ?? [],
      input: args.input,
      chunkBytes: args.chunkBytes,
      flushIntervalMs: args.flushInterval,
      flushMode: args.flushMode,
      compress: args.compress,
      identities: args.identities as IdentityMode,
      ack: args.ack,
      ackTimeoutMs: args.ackTimeout,
      failoverDelayMs: args.failoverDelay,
      maxPendingBytes: args.maxPendingBytes,
      drainTimeoutMs: args.drainTimeout,
      heartbeat: args.heartbeat,
      heartbeatIntervalMs: args.heartbeatInterval,
      retryMaxIntervalMs: args.retryMaxInterval,
      connectTimeoutMs: args.connectTimeout,
      keepaliveIntervalMs: args.keepaliveInterval,
      sharedKey: args.sharedKey,
      username: args.username,
      password: args.password,
      selfHostname: args.selfHostname,
      tls: args.tls,
      tlsCa: args.tlsCa,
      tlsVerify: args.tlsVerify,
      tlsServername: args.tlsServername,
      stats: args.stats,
      statsIntervalMs: args.statsInterval,
      buffer: args.buffer,
      deadLetter: args.deadLetter,
      checkpoint: args.checkpoint,
      totalLimitBytes: args.totalLimit,
      overflow: args.overflow,
      metrics: args.metrics,
    }, io);
  },
);
