import { LOG_FORMATS, LOG_LEVELS } from '../log/logger.js';
import { INPUT_FORMATS, OUTPUT_FORMATS } from '../codec/stream-formats.js';
import type { OptionSpec } from './spec.js';

/** Options every stage that reads a logkit stream shares. */
export const INPUT_OPTIONS = {
  input: {
    type: 'string',
    alias: 'i',
    choices: INPUT_FORMATS,
    default: 'auto',
    describe: 'Input encoding: auto detects MessagePack, NDJSON events or raw text lines from the first bytes',
    group: 'Stream',
  },
} as const satisfies Record<string, OptionSpec>;

/** Options every stage that writes a logkit stream shares. */
export const OUTPUT_OPTIONS = {
  output: {
    type: 'string',
    alias: 'o',
    choices: OUTPUT_FORMATS,
    describe: 'Output encoding; by default MessagePack to a pipe or file, the human format to a terminal',
    defaultDescription: 'msgpack, or pretty on a terminal',
    group: 'Stream',
  },
} as const satisfies Record<string, OptionSpec>;

/**
 * Options of every long-running command: how it shows its counters (src/metrics/) and how it
 * logs (src/log/). main.ts configures the logger from the log options for every command.
 */
export const OPERATION_OPTIONS = {
  metrics: {
    type: 'string',
    value: 'HOST:PORT',
    describe: 'Serve the counters in the Prometheus text format at http://HOST:PORT/metrics (port 0: any free port; the address is logged at start). At most 16 connections',
    group: 'Diagnostics',
  },
  stats: {
    type: 'boolean',
    default: false,
    describe: 'Print a summary line of the counters on standard error at exit; SIGUSR1 prints it any time',
    group: 'Diagnostics',
  },
  'stats-interval': {
    type: 'duration',
    default: '0s',
    min: 0,
    max: '1d',
    describe: 'Also print the summary line this often (0: never)',
    group: 'Diagnostics',
  },
  'log-level': {
    type: 'string',
    choices: LOG_LEVELS,
    defaultDescription: 'info, or $LOGKIT_LOG_LEVEL',
    describe: "Least severe of logkit's own messages (on standard error) to print",
    group: 'Diagnostics',
  },
  'log-format': {
    type: 'string',
    choices: LOG_FORMATS,
    defaultDescription: 'text, or $LOGKIT_LOG_FORMAT',
    describe: "Format of logkit's own messages: text (logkit CMD: message) or json (one object a line)",
    group: 'Diagnostics',
  },
} as const satisfies Record<string, OptionSpec>;
