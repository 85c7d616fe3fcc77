import type { Writable } from 'node:stream';
import { ExitCode } from '../base/exit-codes.js';
import { log } from '../log/logger.js';

/**
 * A closed downstream (`logkit cat | head`) ends the process quietly with status 0, as a Unix
 * filter killed by SIGPIPE would; any other write error is an I/O error.
 */
export function exitQuietlyOnBrokenPipe(stream: Writable): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    log.error(`cannot write output: ${error.message}`);
    process.exit(ExitCode.IO_ERROR);
  });
}
