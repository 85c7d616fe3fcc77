import { defineCommand } from '../src/cli/spec.js';
import { INPUT_OPTIONS, OPERATION_OPTIONS } from '../src/cli/common-options.js';
import { BUFFER_LIMIT_OPTIONS } from '../src/buffer/buffer-options.js';
import { ExitCode } from '../src/base/exit-codes.js';
import { DEDUP_MODES, FILE_COMPRESSIONS, FILE_FORMATS, FSYNC_POLICIES, STORE_TARGETS } from '../src/store/store-choices.js';

export default defineCommand(
  {
    name: 'store',
    summary: 'write events to files, PostgreSQL, MySQL/MariaDB or ClickHouse',
    description:
      'Reads events from standard input and stores them in batches (bounded by --batch-events, --batch-bytes and --flush-interval). ' +
      'TARGET is file (DESTINATION a path template: strftime fields of the event time in UTC, ${tag} and ${tag[N]}), ' +
      'postgres, mysql (MySQL and MariaDB) or clickhouse (its HTTP interface); DESTINATION is then the server URL. ' +
      'Events that carry an identity (options.src, from tail or receive) and were already committed are dropped (see DEDUP). ' +
      'A batch is committed as a whole: one database transaction (one INSERT request for ClickHouse), or one appended ' +
      'unit per file followed by fsync. Transient failures (connection refused or lost, server restarting, disk full) ' +
      'are retried with capped backoff and lose nothing; permanent ones (bad credentials, a table of the wrong shape) ' +
      'stop the store with a message saying how many events read were not stored. On SIGTERM it stores what it has ' +
      'read and exits 0. Tags are sanitized before they reach a file name: a tag can never name a file outside the ' +
      "template's base directory.",
    positionals: [
      { name: 'target', type: 'string', required: true, choices: STORE_TARGETS, describe: 'Where to store: file, postgres, mysql or clickhouse' },
      { name: 'destination', type: 'string', required: true, describe: 'The path template (file) or server URL (postgres://, mysql://, http://HOST:8123/DB)', completion: 'file' },
    ],
    options: {
      ...INPUT_OPTIONS,
      ...OPERATION_OPTIONS,
      'batch-events': { type: 'number', default: 10000, value: 'N', integer: true, min: 1, describe: 'Write a batch once this many events are pending (one transaction / one append per file)', group: 'Batching' },
      'batch-bytes': { type: 'size', default: '8m', min: '1k', describe: 'Or once the input carrying the pending events reaches this size (bounds memory per batch)', group: 'Batching' },
      'flush-interval': { type: 'duration', default: '1s', min: '1ms', max: '1d', describe: 'Write pending events at the latest once the oldest has waited this long (sooner when the input pauses and no write is under way)', group: 'Batching' },
      'retry-max-interval': { type: 'duration', default: '30s', min: '1ms', max: '1d', describe: 'Cap of the exponential backoff between retries of a transient failure', group: 'Batching' },
      'retry-timeout': { type: 'duration', default: '0s', min: 0, max: '1d', describe: 'Give up (exit 75) after retrying one batch this long; 0 retries forever', group: 'Batching' },
      'drain-timeout': { type: 'duration', default: '30s', min: 0, max: '1d', describe: 'On SIGTERM, how long to keep retrying an unavailable destination before giving up (exit 75)', group: 'Batching' },
      checkpoint: { type: 'string', value: 'FILE', completion: 'file', describe: 'Commit here: after each commit (COMMIT, or fsync of the files) write the highest source position per file (options.src from tail) to FILE; with --buffer, once events are durable in DIR', group: 'Delivery' },
      buffer: { type: 'string', value: 'DIR', completion: 'directory', describe: 'Make the input durable in a disk buffer first and store from it; a chunk is deleted after the commit of its last event, and what is left is stored first after a restart', group: 'Delivery' },
      ...BUFFER_LIMIT_OPTIONS,
      table: { type: 'string', default: 'logs', value: 'NAME', describe: 'Table (NAME or SCHEMA.NAME; letters, digits, _) for postgres, mysql and clickhouse', group: 'Databases' },
      create: { type: 'boolean', default: false, describe: 'Create the table (and its indexes, the identity key among them) if it does not exist', group: 'Databases' },
      dedup: { type: 'string', choices: DEDUP_MODES, default: 'auto', describe: 'Drop events the destination already committed, by their identity (options.src: source and offset): auto where the table has the identity key (always in the file store), on refuses to start without it (exit 78), off stores every event', group: 'Delivery' },
      timeout: { type: 'duration', default: '1m', min: '1ms', max: '1d', describe: 'ClickHouse: a request taking longer counts as a transient failure', group: 'Databases' },
      format: { type: 'string', choices: FILE_FORMATS, defaultDescription: 'from the extension: .msgpack, .log/.txt (text), else ndjson', describe: 'File format: NDJSON events, MessagePack entries, or text (the message field alone)', group: 'Files' },
      compress: { type: 'string', choices: FILE_COMPRESSIONS, defaultDescription: 'gzip when the template ends in .gz', describe: 'Compress files: each batch appends one complete gzip member', group: 'Files' },
      'gzip-level': { type: 'number', default: 6, value: 'N', integer: true, min: 1, max: 9, describe: 'gzip compression level, 1 fast, 9 small', group: 'Files' },
      fsync: { type: 'string', choices: FSYNC_POLICIES, default: 'always', describe: 'always: fsync after each batch, then commit; interval: fsync and commit every --fsync-interval; never: commit once written to the OS', group: 'Files' },
      'fsync-interval': { type: 'duration', default: '1s', min: '1ms', max: '1d', describe: 'With --fsync interval: the time between fsyncs (and commits)', group: 'Files' },
      'max-open-files': { type: 'number', default: 64, value: 'N', integer: true, min: 1, describe: 'Keep at most this many files open (least recently used closed first)', group: 'Files' },
      'message-key': { type: 'string', default: 'message', value: 'FIELD', describe: 'With --format text: the record field written as the line', group: 'Files' },
    },
    renamed: { 'batch-size': 'batch-events', 'retry-max-delay': 'retry-max-interval', 'shutdown-timeout': 'drain-timeout' },
    exitStatuses: [ExitCode.DATA_ERROR, ExitCode.NO_INPUT, ExitCode.UNAVAILABLE, ExitCode.CANT_CREATE, ExitCode.IO_ERROR, ExitCode.TEMP_FAIL, ExitCode.CONFIG],
    examples: [
      ["logkit receive | logkit store file 'logs/${tag}/%Y/%m/%d/%H.ndjson.gz'", 'hourly gzip NDJSON files per tag, sliced by event time'],
      ['logkit receive | logkit store postgres postgres://logs@db/logs --create', 'store into PostgreSQL (table logs, created with indexes)'],
      ['logkit receive | logkit store mysql mysql://root@127.0.0.1/test --table events --create', 'store into MySQL or MariaDB'],
      ['logkit receive | logkit store --buffer /var/spool/logkit/store file \'logs/${tag}/%Y-%m-%d.ndjson\'', 'input durable on disk first; stored from the buffer, even across restarts of the store'],
      ['logkit tail --checkpoint app.ckpt app.log | logkit store --checkpoint app.ckpt postgres postgres://logs@db/logs', 'store commits: tail resumes from what the database committed'],
      ['logkit receive | logkit store clickhouse http://127.0.0.1:8123/default --create', 'store into ClickHouse over HTTP (ReplacingMergeTree on the event identity, partitioned by day)'],
    ],
    sections: [
      ['TABLES', 'postgres: (time timestamptz, time_nsec integer, tag text, record jsonb, src_id text, src_off bigint), indexes BRIN(time), (tag, time) and UNIQUE (src_id, src_off). ' +
        'mysql: (id bigint auto_increment, time DATETIME(6), time_nsec INT UNSIGNED, tag MEDIUMTEXT, record JSON, src_id VARCHAR(255), src_off BIGINT UNSIGNED), indexes (time), (tag(191), time), UNIQUE (src_id, src_off). ' +
        "clickhouse: (time DateTime('UTC'), time_nsec UInt32, tag String, record String, src_id String, src_off UInt64) ENGINE ReplacingMergeTree PARTITION BY toYYYYMMDD(time) ORDER BY (src_id, src_off). " +
        'time has the column precision (microseconds; seconds in ClickHouse); time_nsec holds the exact nanoseconds within the second. ' +
        'src_id and src_off are the event identity (options.src: source and offset; NULL without one; a source id over 255 characters is stored as sha256:HEX).'],
      ['DEDUP', 'An event whose identity the destination already committed is dropped (and acknowledged): PostgreSQL by INSERT … ON CONFLICT (src_id, src_off) DO NOTHING ' +
        'from a temporary table the batch is copied into, MySQL/MariaDB by ON DUPLICATE KEY UPDATE (a no-op), the file store by the ranges of positions it committed per source ' +
        '(BASE/.logkit-store/committed/, at most 10,000 sources and 1,000,000 ranges, the oldest forgotten first). ClickHouse collapses replays when it merges parts: read with FINAL ' +
        '(or GROUP BY src_id, src_off). Events without an identity are always stored. A table made without the identity columns or key is stored into as before, with one warning ' +
        'naming the statements to run; --dedup on refuses it (exit 78). The duplicates dropped are counted (duplicates in --stats, logkit_store_duplicates_total).'],
      ['GUARANTEES', 'At least once: an event is acknowledged (committed) only after its transaction committed or its file was fsynced. ' +
        'A batch is retried whole after a transient failure, so a connection lost between COMMIT and its reply may store that batch twice, unless dedup drops the events that carry an identity (see DEDUP). ' +
        'With --checkpoint FILE the store is the committing stage: after each commit it writes the source positions of the committed events for tail --checkpoint FILE. ' +
        'With --buffer DIR the input is durable in DIR before it is stored (the checkpoint then advances on durability), a chunk is deleted once all its events are committed, ' +
        'and after a crash the chunks left are stored first (a chunk partly committed before the crash is stored again whole). ' +
        'SIGHUP closes the open files; the next batch opens them by name again (for logrotate). ' +
        'Files: each batch appends complete units (lines, entries, or one gzip member); a torn last unit left by a crash is cut off ' +
        'at the next start (files open at the crash are listed in BASE/.logkit-store/open/). One store process per file.'],
    ],
  },
  async (args, io) => {
    const { runStoreCommand } = await import('../src/store/store-command.js');
    await runStoreCommand({
      target: args.target,
      destination: args.destination,
      input: args.input,
      batchEvents: args.batchEvents,
      batchBytes: args.batchBytes,
      flushIntervalMs: args.flushInterval,
      retryMaxIntervalMs: args.retryMaxInterval,
      retryTimeoutMs: args.retryTimeout,
      drainTimeoutMs: args.drainTimeout,
      checkpoint: args.checkpoint,
      buffer: args.buffer,
      totalLimitBytes: args.totalLimit,
      overflow: args.overflow,
      table: args.table,
      create: args.create,
      timeoutMs: args.timeout,
      format: args.format,
      compress: args.compress,
      gzipLevel: args.gzipLevel,
      fsync: args.fsync,
      fsyncIntervalMs: args.fsyncInterval,
      maxOpenFiles: args.maxOpenFiles,
      messageKey: args.messageKey,
      metrics: args.metrics,
      stats: args.stats,
      statsIntervalMs: args.statsInterval,
      dedup: args.dedup,
    }, io);
  },
);
