import { CliError, ExitCode } from '../cli/exit-codes.js';
import { CheckpointTracker } from './checkpoint-tracker.js';

/** How often a committing stage rewrites its checkpoint at most: a lag here costs re-read lines after a crash, never lost ones. */
export const CHECKPOINT_INTERVAL_MS = 100;

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
      log: (message) => process.stderr.write(`logkit ${command}: ${message}\n`),
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
