import { defineCommand } from '../src/cli/spec.js';
import { INPUT_OPTIONS, OPERATION_OPTIONS, OUTPUT_OPTIONS } from '../src/cli/common-options.js';
import { ExitCode } from '../src/base/exit-codes.js';
import { PARSE_FORMATS } from '../src/parse/parse-formats.js';


export default defineCommand(
  {
    name: 'parse',
    summary: 'turn the text in a record field into structured fields (json, apache2, syslog, logfmt, regexp, …)',
    description:
      'Reads events (MessagePack, NDJSON, or raw text lines, each becoming {message: LINE}), parses the text in ' +
      'the field named by --key with FORMAT, and writes the events with the parsed fields. By default the ' +
      'record becomes the parsed fields (Fluentd\'s filter_parser); --keep-original merges them into the ' +
      'record instead, --nest puts them under one key. When the line carries a time (apache2, nginx, ' +
      'apache_error, syslog, docker, cri) or the parsed fields hold one (--time-key, default time), it becomes ' +
      'the event time, with nanoseconds kept; otherwise the event keeps its time.\n\n' +
      'FORMAT is one of: json (one object a line); regexp (--pattern with named groups); apache2 (Apache ' +
      'combined or common: host user method path code size referer agent); apache_error; nginx (combined, ' +
      'optionally with x-forwarded-for); syslog (RFC 3164 and RFC 5424, detected per line; the priority ' +
      'gives pri, facility and severity); ltsv; logfmt; csv and tsv (with --fields); docker (json-file lines: ' +
      'log, stream, time); cri (containerd/CRI-O: TIME STREAM P|F LOG → stream, logtag, message); none (the ' +
      'whole text as message).\n\n' +
      'A line that does not parse is never dropped: it keeps its record and gains the field --error-key (or ' +
      'goes to --errors FILE as NDJSON), and a count is printed on standard error at exit.\n\n' +
      'User regular expressions run on RE2 (linear time: no catastrophic backtracking on hostile lines); ' +
      'the built-in formats are written to be linear too. Time texts longer than 256 characters are not read.',
    positionals: [
      { name: 'format', type: 'string', required: true, choices: PARSE_FORMATS, describe: 'The log format of the text' },
      { name: 'file', type: 'string', variadic: true, describe: 'Files to read; none or - means standard input', completion: 'file' },
    ],
    options: {
      key: { type: 'string', alias: 'k', default: 'message', value: 'FIELD', describe: 'The record field holding the text to parse', group: 'Parsing' },
      pattern: {
        type: 'string',
        alias: 'e',
        value: 'REGEX',
        describe: 'regexp format: an RE2 expression with named groups, (?<name>...), each group a field; /REGEX/i for flags',
        group: 'Parsing',
      },
      fields: { type: 'string', value: 'A,B,C', describe: 'csv and tsv formats: the column names, in order (a line with another count of values is an error)', group: 'Parsing' },
      types: {
        type: 'string',
        value: 'FIELD:TYPE,...',
        describe: 'Convert parsed fields: integer, float, bool or string, e.g. status:integer,latency:float,ok:bool ("-" and empty become null; a value that does not convert stays text)',
        group: 'Parsing',
      },
      'keep-original': {
        type: 'boolean',
        default: false,
        describe: 'Keep the record\'s other fields and the parsed text, the parsed fields added (Fluentd reserve_data); by default the record becomes the parsed fields',
        group: 'Record',
      },
      'remove-key': { type: 'boolean', default: false, describe: 'With --keep-original: drop the field that was parsed', group: 'Record' },
      nest: { type: 'string', value: 'FIELD', describe: 'Put the parsed fields under this field instead of at the top level', group: 'Record' },
      'time-key': {
        type: 'string',
        value: 'FIELD',
        describe: 'The parsed field holding the event time (json, regexp, ltsv, logfmt, csv, tsv); the other formats carry their own',
        defaultDescription: 'time',
        group: 'Time',
      },
      'time-format': {
        type: 'string',
        value: 'FORMAT',
        describe: 'How to read the time: iso8601, epoch (seconds, fraction allowed), epoch_ms, epoch_ns, or a strptime format such as "%d/%b/%Y:%H:%M:%S %z" (%N etc. keep nanoseconds)',
        defaultDescription: 'the format\'s own; numbers as epoch seconds, text as ISO 8601',
        group: 'Time',
      },
      timezone: {
        type: 'string',
        value: 'ZONE',
        default: 'local',
        describe: 'Zone of times written without an offset (syslog RFC 3164, zoneless ISO 8601 and strptime): local, UTC, +09:00 or an IANA name like Europe/Berlin',
        group: 'Time',
      },
      'keep-time-key': { type: 'boolean', default: false, describe: 'Keep the time field in the record (by default it is removed once it is the event time, as Fluentd does)', group: 'Time' },
      errors: {
        type: 'string',
        value: 'FILE',
        completion: 'file',
        describe: 'Append lines that do not parse to FILE as NDJSON events (with the error field) instead of passing them on',
        group: 'Errors',
      },
      'error-key': { type: 'string', value: 'FIELD', default: 'parse_error', describe: 'The field a line that does not parse gains, saying why', group: 'Errors' },
      ...INPUT_OPTIONS,
      ...OUTPUT_OPTIONS,
      ...OPERATION_OPTIONS,
    },
    exitStatuses: [ExitCode.DATA_ERROR, ExitCode.NO_INPUT, ExitCode.UNAVAILABLE, ExitCode.CANT_CREATE, ExitCode.IO_ERROR],
    examples: [
      ['kubectl logs pod | logkit parse json | logkit cat', 'parse JSON application logs from raw text and show them'],
      ['logkit tail /var/log/apache2/access.log | logkit parse apache2 | logkit forward agg:24224', 'parse an access log at the source'],
      ['logkit parse json --time-key ts --keep-original app.msgpack', 'take the event time from the ts field, keep the other fields'],
      ["logkit parse regexp -e '^(?<level>[A-Z]+) (?<code>\\d+) (?<message>.*)$' --types code:integer", 'named groups become typed fields'],
      ['logkit parse syslog --timezone Europe/Berlin --errors bad.ndjson', 'RFC 3164/5424 with local stamps; unparsed lines to a file'],
      ['logkit parse csv --fields time,level,message --time-format epoch_ms', 'CSV columns, epoch milliseconds'],
    ],
    sections: [
      [
        'ERRORS',
        'Lines that do not parse do not change the exit status (they are passed on, marked, or written to --errors, and counted on standard error). Exit status 64 means a malformed option (a bad --pattern, --types or --time-format); 65 means the input stream itself is corrupt; 73 means the --errors file cannot be created.',
      ],
    ],
  },
  async (args, io) => {
    const { runParse } = await import('../src/parse/run-parse.js');
    await runParse({
      files: args.file,
      input: args.input,
      output: args.output,
      format: args.format,
      key: args.key,
      pattern: args.pattern,
      fields: args.fields,
      types: args.types,
      keepOriginal: args.keepOriginal,
      removeKey: args.removeKey,
      nest: args.nest,
      timeKey: args.timeKey,
      timeFormat: args.timeFormat,
      timezone: args.timezone,
      keepTimeKey: args.keepTimeKey,
      errors: args.errors,
      errorKey: args.errorKey,
      metrics: { metrics: args.metrics, stats: args.stats, statsIntervalMs: args.statsInterval },
    }, io);
  },
);
