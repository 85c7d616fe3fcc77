import { defineCommand } from '../src/cli/spec.js';
import { OPERATION_OPTIONS, OUTPUT_OPTIONS } from '../src/cli/common-options.js';
import { SYMLINK_POLICIES } from '../src/tail/symlink-policy.js';
import { ExitCode } from '../src/base/exit-codes.js';
import { LINE_FORMATS, MULTILINE_MODES } from '../src/tail/tail-choices.js';


export default defineCommand(
  {
    name: 'tail',
    summary: 'follow log files and globs, surviving rotation, and emit one event per line',
    description:
      'Follows the files named and the files the glob patterns match (quote globs so tail expands them: new matches ' +
      'are picked up by a rescan every --refresh-interval and at once on directory events). Each line becomes an ' +
      'event {message: LINE} tagged with --tag; lines that are not valid UTF-8 keep their bytes (MessagePack bin). ' +
      'Files present at start are read from their end unless --from-head; files found later from their beginning. ' +
      'Rotation by rename+create and by copytruncate, truncation, deletion, re-creation and symbolic links lose no ' +
      'line and repeat none: files are known by device, inode and a fingerprint of their first bytes, not by name. ' +
      'When the globs also match the rotated copies of a copytruncate rotation, a copy is recognized as the file being ' +
      'read and its unread rest is read from it. Every event carries its source position in the options map ' +
      '(src: {id, off}); --pos saves read positions, --checkpoint resumes from the offsets a committing stage ' +
      'further down the pipe has committed. With - it reads lines from standard input. SIGTERM lets it finish the ' +
      'current read, save positions and exit 0.',
    positionals: [
      { name: 'paths', type: 'string', variadic: true, required: true, describe: 'Files and glob patterns to follow; - alone reads standard input', completion: 'file' },
    ],
    options: {
      tag: { type: 'string', alias: 't', default: 'tail.*', value: 'TAG', describe: 'Tag of the events; * becomes the file path with slashes turned into dots (app.* + /var/log/a.log = app.var.log.a.log)', group: 'Events' },
      'path-key': { type: 'string', value: 'KEY', describe: 'Also put the file path in the record under KEY', group: 'Events' },
      format: { type: 'string', choices: LINE_FORMATS, default: 'text', describe: 'Line format: text (one event per line), docker (json-file lines; partial lines joined; record {message, stream}, time from the line) or cri (containerd/CRI-O lines; P pieces joined with their F line)', group: 'Events' },
      multiline: { type: 'string', choices: MULTILINE_MODES, describe: 'Join stack traces into one event: java (indented frames, Caused by:) or python (Traceback … exception line)', group: 'Events' },
      'multiline-start': { type: 'string', value: 'REGEX', describe: 'Join lines into one event: a line matching REGEX starts an event, other lines continue it', group: 'Events' },
      'multiline-flush': { type: 'duration', default: '1s', min: 0, max: '1d', describe: 'Emit a multiline event after this long without a further line', group: 'Events' },
      'from-head': { type: 'boolean', default: false, describe: 'Read files present at start from their beginning (files found later always are)', group: 'Reading' },
      follow: { type: 'boolean', default: true, describe: 'Keep following; --no-follow reads what is there (from the beginning, or from --pos) and exits', group: 'Reading' },
      pos: { type: 'string', value: 'FILE', completion: 'file', describe: 'Save read positions to FILE (atomically, at most every --pos-interval and at exit) and resume from them', group: 'Positions' },
      checkpoint: { type: 'string', value: 'FILE', completion: 'file', describe: 'Resume from the committed offsets a committing stage wrote to FILE, in preference to --pos; a file --pos knows that FILE does not is read again from its head', group: 'Positions' },
      'pos-interval': { type: 'duration', default: '1s', min: 0, max: '1d', describe: 'Save positions at most this often', group: 'Positions' },
      'refresh-interval': { type: 'duration', default: '10s', min: '1ms', max: '1d', describe: 'Rescan the globs this often, besides on directory events', group: 'Reading' },
      'poll-interval': { type: 'duration', default: '250ms', min: '1ms', max: '1d', describe: 'Check idle files for new data this often when no file event arrives', group: 'Reading' },
      'rotate-wait': { type: 'duration', default: '5s', min: 0, max: '1d', describe: 'Keep reading a renamed or deleted file this long after its name stops matching, and until its end', group: 'Reading' },
      'partial-flush': { type: 'duration', default: '5s', min: 0, max: '1d', describe: 'Emit an unfinished last line after this long without new data', group: 'Reading' },
      'max-line-bytes': { type: 'size', default: '1m', min: 1, describe: 'Longest line (and multiline or joined event) kept; longer ones are cut and flagged truncated: true', group: 'Limits' },
      symlinks: {
        type: 'string',
        choices: SYMLINK_POLICIES,
        default: 'follow',
        describe:
          'Which symbolic links to follow: follow (all, like Fluent Bit and Fluentd), inside (only links whose target stays inside the directories the paths and globs name) or never. ' +
          'A refused link is named once on standard error. Use inside when tail runs with more rights than the writers of the log directory',
        group: 'Reading',
      },
      'max-open-files': { type: 'number', default: 1024, value: 'N', integer: true, min: 1, describe: 'Files open at once; further matches wait until others are let go', group: 'Limits' },
      ...OUTPUT_OPTIONS,
      ...OPERATION_OPTIONS,
    },
    exitStatuses: [ExitCode.DATA_ERROR, ExitCode.NO_INPUT, ExitCode.UNAVAILABLE, ExitCode.CANT_CREATE, ExitCode.IO_ERROR],
    examples: [
      ["logkit tail '/var/log/app/*.log' --tag 'app.*' --pos /var/lib/logkit/app.pos | logkit forward agg:24224", 'follow every app log, surviving rotation and restarts'],
      ["logkit tail --format docker '/var/lib/docker/containers/*/*-json.log' --tag 'docker.*'", 'container logs with split long lines joined'],
      ['logkit tail --multiline java app.log', 'one event per Java stack trace'],
      ['logkit tail --no-follow --from-head -o json app.log', 'convert a whole file to NDJSON events and exit'],
      ['kubectl logs pod | logkit tail - --multiline python | logkit cat', 'lines from standard input'],
    ],
    sections: [
      [
        'POSITIONS AND CHECKPOINTS',
        'Every event carries src: {id, off} in its options map: id is <device>:<inode>:<fingerprint length>:<fingerprint hash>, ' +
          'off the byte offset just past the event\'s last line. --pos and --checkpoint files are JSON ' +
          '{"version":1,"sources":{"<id>":{"off":N}}}, replaced atomically (temporary file, fsync, rename). A saved --pos offset ' +
          'never covers a line still inside tail, so after kill -9 lines may be read twice, never lost. With --checkpoint, files ' +
          'whose identity is in the checkpoint resume at the committed offset, and files --pos knows that the checkpoint does not (read, never committed) from their head.',
      ],
    ],
  },
  async (args, io) => {
    const { runTail } = await import('../src/tail/run-tail.js');
    // yargs drops a lone `-` from positionals: it means standard input here
    const paths = process.argv.slice(3).includes('-') && !args.paths.includes('-') ? ['-', ...args.paths] : args.paths;
    await runTail({
      paths,
      tag: args.tag,
      pathKey: args.pathKey,
      format: args.format,
      multiline: args.multiline,
      multilineStart: args.multilineStart,
      multilineFlushMs: args.multilineFlush,
      fromHead: args.fromHead,
      follow: args.follow,
      pos: args.pos,
      checkpoint: args.checkpoint,
      posIntervalMs: args.posInterval,
      refreshIntervalMs: args.refreshInterval,
      pollIntervalMs: args.pollInterval,
      rotateWaitMs: args.rotateWait,
      partialFlushMs: args.partialFlush,
      maxLineBytes: args.maxLineBytes,
      maxOpenFiles: args.maxOpenFiles,
      symlinks: args.symlinks as 'follow' | 'inside' | 'never',
      output: args.output,
      metrics: { metrics: args.metrics, stats: args.stats, statsIntervalMs: args.statsInterval },
    }, io);
  },
);
