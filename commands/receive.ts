import { defineCommand } from '../src/cli/spec.js';
import { OPERATION_OPTIONS, OUTPUT_OPTIONS } from '../src/cli/common-options.js';
import { MAX_DEPTH } from '../src/codec/depth-limit.js';
import { BUFFER_LIMIT_OPTIONS } from '../src/buffer/buffer-options.js';
import { ExitCode } from '../src/base/exit-codes.js';

export default defineCommand(
  {
    name: 'receive',
    summary: 'accept events over the Fluentd Forward Protocol (TCP, TLS, Unix socket) and write them to stdout',
    description:
      'Listens for Fluentd Forward Protocol v1 clients — Docker\'s fluentd log driver, fluent-logger libraries, Fluent Bit, ' +
      'Fluentd, logkit forward — and writes every event it receives to standard output as a logkit stream. All four event ' +
      'modes (Message, Forward, PackedForward, CompressedPackedForward with gzip) are accepted, with integer, EventTime and ' +
      'v1.5 [time, metadata] times. A request carrying a chunk option is acknowledged ({ack: chunk}) only after its events ' +
      'have been written to standard output — with --buffer DIR, once they are durable (fsynced) in DIR; then the buffered ' +
      'events are written to standard output stamped with receive\'s own source positions, deleted once the store\'s ' +
      '--checkpoint FILE covers them, replayed after a restart, and a chunk resent with an id already received is dropped ' +
      '(and acknowledged again). UDP heartbeats are answered on the same port. With --shared-key, clients must ' +
      'pass the HELO/PING/PONG handshake (and, with --user, give a user name and password); --tls-cert/--tls-key turn on TLS. ' +
      'When standard output is slower than the senders, receive stops reading its sockets (TCP back pressure) instead of ' +
      'buffering. Every size a client controls is bounded: a request larger than --max-chunk-bytes is rejected with an ' +
      '{error} response and the connection closed; invalid data closes that connection with one log line, other connections ' +
      'are unaffected. No one client can hold the server: one address gets at most --max-connections-per-ip connections ' +
      '(counted from the TCP accept), the handshakes and each request must finish within total deadlines ' +
      '(--handshake-timeout, --request-timeout) however slowly their bytes trickle in, and an address that keeps failing the ' +
      'shared key is refused for a growing time (--max-auth-backoff). Tags are sanitized: characters outside A-Z a-z 0-9 _ . : @ + = ~ - become _, runs of dots collapse, ' +
      'leading/trailing dots are removed, and tags are cut to 255 bytes. SIGTERM stops accepting, writes and acknowledges ' +
      'what it holds, and exits 0 (75 when standard output does not drain within 10 s).',
    positionals: [],
    options: {
      bind: { type: 'string', alias: 'b', default: '127.0.0.1:24224', value: 'HOST:PORT', describe: 'Address to listen on: HOST:PORT, [IPv6]:PORT, or unix:///path/to.sock. Binding beyond loopback without --shared-key or TLS prints a warning', group: 'Listening' },
      'max-connections': { type: 'number', default: 1024, value: 'N', integer: true, min: 1, describe: 'Open connections accepted at once, TLS handshakes in progress included; further ones are closed at once (and logged)', group: 'Limits' },
      'max-connections-per-ip': { type: 'number', value: 'N', integer: true, min: 1, defaultDescription: '--max-connections / 8 (128)', describe: 'Open connections one address may hold (an IPv6 /64 counts as one address; Unix socket peers are not limited), counted from the TCP accept; further ones from it are closed at once (and logged), so one client cannot take every connection', group: 'Limits' },
      'max-chunk-bytes': { type: 'size', default: '32m', min: 1, describe: 'Largest request accepted; a larger one gets an {error} response and the connection is closed', group: 'Limits' },
      'max-decompressed-bytes': { type: 'size', default: '128m', min: 1, describe: 'Largest size a gzip-compressed request may expand to', group: 'Limits' },
      'max-buffered-bytes': { type: 'size', default: '512m', min: 1, describe: 'Memory all connections together may hold for requests still arriving; beyond it, a connection holding over 1m gets an {error} (server busy) response and is closed', group: 'Limits' },
      'max-depth': { type: 'number', default: MAX_DEPTH, value: 'N', integer: true, min: 1, describe: 'Deepest nesting of arrays and maps accepted in a request (the stream\'s own limit by default: every logkit stage writes within it)', group: 'Limits' },
      'idle-timeout': { type: 'duration', default: '1h', min: '1ms', max: '1d', describe: 'Close a connection silent for this long', group: 'Limits' },
      'handshake-timeout': { type: 'duration', default: '10s', min: '1ms', max: '1d', describe: 'Time in total, from the TCP accept, for the TLS and shared-key handshakes to finish (at most --idle-timeout); bytes trickling in do not extend it', group: 'Limits' },
      'request-timeout': { type: 'duration', default: '60s', min: '1ms', max: '1d', describe: 'Time in total for a request to arrive whole once its first byte has; bytes trickling in do not extend it (time receive itself waits for stdout does not count)', group: 'Limits' },
      'max-auth-backoff': { type: 'duration', default: '60s', min: 0, max: '1d', describe: 'After 2 failed shared-key handshakes in a row from one address, refuse it for 1s, then 2s, 4s … up to this long per further failure; a success clears it (0 turns this off)', group: 'Security' },
      'shared-key': { type: 'string', value: 'KEY', describe: 'Require the shared-key handshake with this key; prefer the LOGKIT_SHARED_KEY environment variable, which other users cannot see in the process list', group: 'Security' },
      user: { type: 'string', array: true, value: 'NAME:PASSWORD', describe: 'With --shared-key, also require one of these users (repeatable)', group: 'Security' },
      'self-hostname': { type: 'string', value: 'NAME', defaultDescription: 'the host name', describe: 'Server host name sent in the PONG handshake message', group: 'Security' },
      'tls-cert': { type: 'string', value: 'FILE', completion: 'file', describe: 'PEM certificate: serve TLS (with --tls-key)', group: 'Security' },
      'tls-key': { type: 'string', value: 'FILE', completion: 'file', describe: 'PEM private key of --tls-cert', group: 'Security' },
      'tls-ca': { type: 'string', value: 'FILE', completion: 'file', describe: 'PEM CA bundle: require client certificates signed by it', group: 'Security' },
      'source-address-key': { type: 'string', value: 'FIELD', describe: 'Add the sender\'s IP address to each record under this field', group: 'Records' },
      'source-hostname-key': { type: 'string', value: 'FIELD', describe: 'Add the sender\'s host name (reverse DNS, else its address) under this field', group: 'Records' },
      'tag-prefix': { type: 'string', value: 'PREFIX', describe: 'Prepend PREFIX. to every tag', group: 'Records' },
      buffer: { type: 'string', value: 'DIR', completion: 'directory', describe: 'Durable mode: write received events to a disk buffer in DIR and acknowledge a chunk only once it is fsynced; replay from DIR after a restart; remember chunk ids to drop resends (needs --checkpoint; stdout is MessagePack)', group: 'Durability' },
      checkpoint: { type: 'string', value: 'FILE', completion: 'file', describe: 'With --buffer: the checkpoint FILE of the store reading stdout (logkit store --checkpoint); buffered events are deleted once it covers them, and a restart replays what it does not cover', group: 'Durability' },
      'total-limit': { ...BUFFER_LIMIT_OPTIONS['total-limit'], min: 1, describe: 'With --buffer: most bytes of chunk files kept in DIR; when full, receive stops acknowledging and reading (back pressure)', group: 'Durability' },
      'dedup-chunks': { type: 'number', default: 100_000, value: 'N', integer: true, min: 1, describe: 'With --buffer: remember the ids of the last N chunks received (kept across restarts) and drop a resent one, acknowledging it again', group: 'Durability' },
      ...OUTPUT_OPTIONS,
      ...OPERATION_OPTIONS,
    },
    renamed: { 'buffer-max-bytes': 'total-limit' },
    exitStatuses: [ExitCode.DATA_ERROR, ExitCode.NO_INPUT, ExitCode.UNAVAILABLE, ExitCode.CANT_CREATE, ExitCode.IO_ERROR, ExitCode.TEMP_FAIL],
    examples: [
      ['logkit receive | logkit cat', 'receive on 127.0.0.1:24224 and show the events'],
      ['logkit receive --bind 0.0.0.0:24224 --shared-key "$KEY" | logkit store postgres://db/logs', 'an aggregator for a fleet, with authentication'],
      ['logkit receive --bind unix:///run/logkit/fluent.sock --tag-prefix docker', 'a Unix socket for Docker\'s fluentd driver'],
      ['logkit receive --buffer /var/lib/logkit/rcv --checkpoint /var/lib/logkit/store.ckpt | logkit store file \'logs/${tag}.ndjson\' --checkpoint /var/lib/logkit/store.ckpt', 'an aggregator that loses nothing acknowledged when either process is killed'],
      ['logkit receive --tls-cert server.pem --tls-key server.key --tls-ca clients.pem', 'TLS with client certificates'],
    ],
  },
  async (args, io) => {
    const { runReceive } = await import('../src/receive/run-receive.js');
    await runReceive({
      bind: args.bind,
      output: args.output,
      sharedKey: args.sharedKey,
      user: args.user ?? [],
      selfHostname: args.selfHostname,
      tlsCert: args.tlsCert,
      tlsKey: args.tlsKey,
      tlsCa: args.tlsCa,
      maxChunkBytes: args.maxChunkBytes,
      maxDecompressedBytes: args.maxDecompressedBytes,
      maxBufferedBytes: args.maxBufferedBytes,
      maxDepth: args.maxDepth,
      maxConnections: args.maxConnections,
      maxConnectionsPerIp: args.maxConnectionsPerIp,
      idleTimeoutMs: args.idleTimeout,
      handshakeTimeoutMs: args.handshakeTimeout,
      requestTimeoutMs: args.requestTimeout,
      maxAuthBackoffMs: args.maxAuthBackoff,
      sourceAddressKey: args.sourceAddressKey,
      sourceHostnameKey: args.sourceHostnameKey,
      tagPrefix: args.tagPrefix,
      metrics: { metrics: args.metrics, stats: args.stats, statsIntervalMs: args.statsInterval },
      buffer: args.buffer,
      checkpoint: args.checkpoint,
      totalLimitBytes: args.totalLimit,
      dedupChunks: args.dedupChunks,
    }, io);
  },
);
