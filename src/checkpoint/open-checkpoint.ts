import { CliError, ExitCode } from '../base/exit-codes.js';
import { CheckpointTracker } from './checkpoint-tracker.js';
import { log } from '../log/logger.js';

/**
 * A committing stage writes its checkpoint as soon as the previous write is done (commits that
 * arrive meanwhile share the next write): commits come per chunk or per batch, not per event, and
 * every moment the file lags is lines re-read after a crash (duplicates, never losses).
 */
export const CHECKPOINT_INTERVAL_MS = 0;

/**
 * Opens the checkpoint of a committing stage (buffer, forward, store): read if present, created
 * empty at once if missing, so that an unwritable or malformed file is a clear configuration
 * error at start (exit 78) rather than a surprise later.
 */
export async function openCheckpoint(command: string, path: string): Promise<CheckpointTracker> {
  try {
    return await CheckpointTracker.open(path, {
      create: true,
      intervalMs: CHECKPOINT_INTERVAL_MS,
      log: (message) => log.warn(message),
    });
  } catch (error) {
    throw new CliError(`${command}: --checkpoint ${path}: ${(error as Error).message}`, ExitCode.CONFIG);
  }
}

/** Writes the last positions at exit; a failure is an I/O error with the path. */
export async function closeCheckpoint(command: string, tracker: CheckpointTracker | undefined): Promise<void> {
  if (!tracker) return;
  try {
    await tracker.close();
  } catch (error) {
    throw new CliError(`${command}: cannot write the checkpoint ${tracker.path}: ${(error as Error).message}`, ExitCode.IO_ERROR);
  }
}
