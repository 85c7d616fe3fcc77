import { defineCommand } from '../src/cli/spec.js';
import { INPUT_OPTIONS, OUTPUT_OPTIONS } from '../src/cli/common-options.js';
import { ExitCode } from '../src/base/exit-codes.js';

export default defineCommand(
  {
    name: 'cat',
    summary: 'show a logkit stream to a person, or convert it between MessagePack and NDJSON',
    description:
      'Reads events from the files named (or standard input; - is standard input too), in MessagePack, ' +
      'NDJSON or gzip-compressed form, and prints one aligned line per event: time, tag, level, message, ' +
      'then the other fields. Lines are colored by level on a terminal (NO_COLOR turns color off, FORCE_COLOR ' +
      'on). With --output json or --output msgpack it converts instead. Corrupt MessagePack stops it with exit ' +
      'status 65 and a message naming the byte offset, after every event before the fault has been written. ' +
      'A bad NDJSON line (invalid JSON, not an event, nested too deep, longer than 1 MiB) is skipped with a ' +
      'warning naming it, the rest is read, and the exit status is 65 at the end. Raw text lines longer than ' +
      '1 MiB are cut and flagged truncated: true.',
    positionals: [{ name: 'file', type: 'string', variadic: true, describe: 'Files to read; none or - means standard input', completion: 'file' }],
    options: {
      ...INPUT_OPTIONS,
      ...OUTPUT_OPTIONS,
      output: { ...OUTPUT_OPTIONS.output, describe: 'Output encoding: pretty (one aligned line per event), json (NDJSON) or msgpack', defaultDescription: 'pretty' },
    },
    exitStatuses: [ExitCode.DATA_ERROR, ExitCode.NO_INPUT, ExitCode.IO_ERROR],
    examples: [
      ['logkit tail app.log | logkit parse json | logkit cat', 'watch parsed events as readable lines'],
      ['logkit cat -o json events.msgpack > events.ndjson', 'convert a MessagePack stream to NDJSON'],
      ['logkit cat -o msgpack events.ndjson.gz > events.msgpack', 'convert gzip-compressed NDJSON to MessagePack'],
    ],
  },
  async (args, io) => {
    const { runCat } = await import('../src/cat/run-cat.js');
    await runCat({ files: args.file, input: args.input, output: args.output }, io);
  },
);
