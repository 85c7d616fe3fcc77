import { BufferError } from '../buffer/buffer-error.js';
import { DecodeError } from '../codec/decode-error.js';
import { CliError, ExitCode, type ExitCodeValue } from '../base/exit-codes.js';

/**
 * The exit status and the last message for the error that ended a command: the one mapping from
 * logkit's typed errors to sysexits(3), used by main.ts alone (library code throws, it never exits).
 */
export function exitStatusOf(error: unknown): { message: string; status: ExitCodeValue } {
  if (error instanceof CliError) return { message: error.message, status: error.exitCode };
  if (error instanceof DecodeError) {
    const where = error.line !== undefined ? `line ${error.line}` : `byte ${error.offset}`;
    return { message: `${error.source}: ${where}: ${error.message}`, status: ExitCode.DATA_ERROR };
  }
  if (error instanceof BufferError) return { message: error.message, status: BUFFER_STATUS[error.reason] };
  return { message: `internal error: ${(error as Error)?.stack ?? String(error)}`, status: ExitCode.SOFTWARE };
}

/** One fault, one status, whichever command holds the buffer. */
const BUFFER_STATUS: Record<BufferError['reason'], ExitCodeValue> = {
  // the directory cannot be created or opened
  open: ExitCode.CANT_CREATE,
  // a chunk cannot be written or read once open
  io: ExitCode.IO_ERROR,
  // --overflow fail, or another process holds the directory: try again later
  full: ExitCode.TEMP_FAIL,
  locked: ExitCode.TEMP_FAIL,
};
