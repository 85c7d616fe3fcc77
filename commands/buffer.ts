import { defineCommand } from '../src/cli/spec.js';
import { INPUT_OPTIONS, OPERATION_OPTIONS, OUTPUT_OPTIONS } from '../src/cli/common-options.js';
import { BUFFER_DEFAULTS, MAX_CHUNK_BYTES } from '../src/buffer/defaults.js';
import { BUFFER_LIMIT_OPTIONS } from '../src/buffer/buffer-options.js';
import { ExitCode } from '../src/base/exit-codes.js';
import { formatDuration, formatSize } from '../src/base/units.js';

export default defineCommand(
  {
    name: 'buffer',
    summary: 'a durable on-disk queue between a producer and a slow or absent consumer',
    description:
      'Reads events from standard input, makes them durable in DIR and writes them to standard output in the same ' +
      'order. Events are gathered into chunks; a chunk is sealed when it reaches --chunk-bytes or --chunk-events or ' +
      'its first event is --flush-interval old, then written to a temporary file, fsynced, renamed and the ' +
      'directory fsynced. Only durable chunks are written out, and a chunk is deleted once it has been written to ' +
      'standard output completely. After a crash or a restart the chunks left in DIR are written out first, in order; ' +
      'a corrupt or truncated chunk is moved to DIR/corrupt/ with a message and the rest replays.\n\n' +
      'At most --total-limit bytes of chunks are kept on disk. When a chunk would pass it, or the disk is full, ' +
      '--overflow decides: block holds back the input (the producer waits; nothing is lost), drop-oldest deletes the ' +
      'oldest chunk not being written out and reports it, fail exits with status 75.\n\n' +
      'With --checkpoint FILE this stage commits: after each chunk becomes durable it writes the highest source ' +
      'position per file (the options.src that tail puts in each event) to FILE, for tail to resume from. A chunk ' +
      'written to a pipe is gone from DIR: if the next process dies with it unread, it is lost unless a later stage ' +
      'commits instead (see "Delivery guarantee" in the README). SIGTERM or SIGINT stops reading, makes what is held ' +
      'durable, keeps writing out for up to --drain-timeout and exits 0; what is left stays in DIR (a second ' +
      'signal exits at once). SIGHUP ' +
      'seals the open chunk at once (and prints the counters with --stats).',
    positionals: [{ name: 'dir', type: 'string', required: true, describe: 'Buffer directory (created if missing; one process at a time)', completion: 'directory' }],
    options: {
      ...INPUT_OPTIONS,
      ...OUTPUT_OPTIONS,
      'chunk-bytes': {
        type: 'size', default: formatSize(BUFFER_DEFAULTS.chunkBytes), min: '1k', max: formatSize(MAX_CHUNK_BYTES), group: 'Chunks',
        describe: 'Seal a chunk at this payload size',
      },
      'chunk-events': {
        type: 'number', value: 'N', default: BUFFER_DEFAULTS.chunkEvents, integer: true, min: 1, group: 'Chunks',
        describe: 'Seal a chunk at this many events',
      },
      'flush-interval': {
        type: 'duration', default: formatDuration(BUFFER_DEFAULTS.chunkAgeMs), min: '1ms', max: '1d', group: 'Chunks',
        describe: 'Seal a chunk when its first event is this old: the longest a quiet stream waits',
      },
      ...BUFFER_LIMIT_OPTIONS,
      checkpoint: {
        type: 'string', value: 'FILE', completion: 'file', group: 'Delivery',
        describe: 'Commit here: write the source positions of every durable chunk to FILE, for tail to resume from',
      },
      'drain-timeout': {
        type: 'duration', default: '5s', min: 0, max: '1d', group: 'Delivery',
        describe: 'On SIGTERM, how long to keep writing out chunks before exiting (the rest stays in DIR)',
      },
      ...OPERATION_OPTIONS,
    },
    renamed: { 'chunk-age': 'flush-interval' },
    exitStatuses: [ExitCode.DATA_ERROR, ExitCode.NO_INPUT, ExitCode.UNAVAILABLE, ExitCode.CANT_CREATE, ExitCode.IO_ERROR, ExitCode.TEMP_FAIL, ExitCode.CONFIG],
    examples: [
      ['logkit tail app.log | logkit buffer /var/spool/logkit/app | logkit forward agg1:24224', 'spool on disk in front of a network that may be down'],
      ['logkit tail app.log | logkit buffer /var/spool/logkit/app --checkpoint /var/lib/logkit/app.pos | logkit store /srv/logs', 'the buffer commits: tail resumes from what is durable in the spool'],
      ['logkit receive | logkit buffer /var/spool/logkit/in --total-limit 10g --overflow drop-oldest | logkit store postgres://db/logs', 'keep at most 10 GiB while the database is down, dropping the oldest'],
    ],
    sections: [
      ['FILES', 'DIR/chunk-SEQUENCE.lkc: sealed chunks, oldest first (header with CRC-32, metadata, MessagePack entries). ' +
        'DIR/*.tmp: a chunk being written; removed at start-up (never durable, never committed). ' +
        'DIR/corrupt/: chunks that failed their check, kept for inspection and not counted in --total-limit. ' +
        'DIR/lock: the pid and start time of the process using DIR (a stale lock is taken over).'],
    ],
  },
  async (args, io) => {
    const { runBuffer } = await import('../src/buffer/run-buffer.js');
    await runBuffer({
      dir: args.dir,
      input: args.input,
      output: args.output,
      chunkBytes: args.chunkBytes,
      chunkEvents: args.chunkEvents,
      flushIntervalMs: args.flushInterval,
      totalLimitBytes: args.totalLimit,
      overflow: args.overflow,
      checkpoint: args.checkpoint,
      drainTimeoutMs: args.drainTimeout,
      stats: args.stats,
      metrics: args.metrics,
      statsIntervalMs: args.statsInterval,
    }, io);
  },
);
