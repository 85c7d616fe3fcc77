import { INPUT_FORMATS } from '../codec/read-events.js';
import { OUTPUT_FORMATS } from '../codec/event-writer.js';
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
