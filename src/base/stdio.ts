import { createReadStream } from 'node:fs';
import { CliError, ExitCode } from './exit-codes.js';

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
