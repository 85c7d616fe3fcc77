import { CliError, ExitCode } from '../cli/exit-codes.js';
import { parseByteSize } from './byte-size.js';
import { BUFFER_DEFAULTS, OVERFLOW_POLICIES } from './defaults.js';

/**
 * The limit options of a disk buffer, one definition for every command that has one
 * (`logkit buffer DIR`, and `--buffer DIR` of forward and store), so that --help, the man pages
 * and the behaviour stay the same everywhere.
 */
export const BUFFER_LIMIT_OPTIONS = {
  'total-limit': {
    type: 'string', value: 'BYTES', default: '1g', group: 'Limits',
    describe: 'Most bytes of chunk files kept in the buffer directory (k, m, g suffixes; at least twice the chunk size)',
  },
  overflow: {
    type: 'string', choices: OVERFLOW_POLICIES, default: BUFFER_DEFAULTS.overflow, group: 'Limits',
    describe: 'When the total limit is reached or the disk is full: block the input, drop the oldest chunk, or fail (exit 75)',
  },
} as const;

/** --total-limit in bytes, checked against the chunk size it must hold twice. */
export function parseTotalLimit(text: string | number, chunkBytes: number): number {
  const totalLimit = parseByteSize(text);
  if (totalLimit === undefined || totalLimit < 2 * chunkBytes) {
    throw new CliError(`--total-limit: expected a size of at least twice the chunk size (${chunkBytes} bytes), like 1g (got ${text})`, ExitCode.USAGE);
  }
  return totalLimit;
}
