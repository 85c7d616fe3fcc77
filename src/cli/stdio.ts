import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { CliError, ExitCode } from './exit-codes.js';
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

/** The byte source for a path argument: `-` is stdin. Read chunks of 256 KiB (fewer, larger batches). */
export function openInput(path: string): AsyncIterable<Buffer> {
  if (path === '-') return process.stdin;
  const stream = createReadStream(path, { highWaterMark: 256 * 1024 });
  return (async function* () {
    try {
      for await (const chunk of stream) yield chunk as Buffer;
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') throw new CliError(`${path}: no such file`, ExitCode.NO_INPUT);
      if (e.code === 'EACCES') throw new CliError(`${path}: permission denied`, ExitCode.NO_INPUT);
      if (e.code === 'EISDIR') throw new CliError(`${path}: is a directory`, ExitCode.NO_INPUT);
      throw new CliError(`${path}: ${e.message}`, ExitCode.IO_ERROR);
    }
  })();
}
