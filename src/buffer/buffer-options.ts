import { CliError, ExitCode } from '../base/exit-codes.js';
import { formatSize } from '../base/units.js';
import { BUFFER_DEFAULTS, OVERFLOW_POLICIES } from './defaults.js';

/**
 * The limit options of a disk buffer, one definition for every command that has one
 * (`logkit buffer DIR`, and `--buffer DIR` of forward, store and receive), so that --help, the
 * man pages and the behaviour stay the same everywhere.
 */
export const BUFFER_LIMIT_OPTIONS = {
  'total-limit': {
    type: 'size', default: formatSize(BUFFER_DEFAULTS.totalLimitBytes), group: 'Limits',
    describe: 'Most bytes of chunk files kept in the buffer directory (at least twice the chunk size)',
  },
  overflow: {
    type: 'string', choices: OVERFLOW_POLICIES, default: BUFFER_DEFAULTS.overflow, group: 'Limits',
    describe: 'When the total limit is reached or the disk is full: block the input, drop the oldest chunk, or fail (exit 75)',
  },
} as const;

/** --total-limit must hold two chunks: one being written out while the next fills. */
export function checkTotalLimit(totalLimitBytes: number, chunkBytes: number): number {
  if (totalLimitBytes < 2 * chunkBytes) {
    throw new CliError(`--total-limit: expected at least twice the chunk size (${formatSize(2 * chunkBytes)}), got ${formatSize(totalLimitBytes)}`, ExitCode.USAGE);
  }
  return totalLimitBytes;
}
