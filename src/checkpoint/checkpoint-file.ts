import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CliError, ExitCode } from '../base/exit-codes.js';

/**
 * The checkpoint file: the highest offset per source that is safe to resume from.
 *
 *     {"version":1,"sources":{"<id>":{"off":N}}}
 *
 * The same format serves two writers: a committing stage (the offsets it has durably committed)
 * and `logkit tail --pos` (the offsets it has handed to its output; entries there also carry the
 * `path`, for people). Unknown fields are kept, so either side can add to an entry.
 *
 * Writes are atomic: a temporary file in the same directory, fsync, rename over the old file,
 * fsync of the directory. A reader therefore sees the old file or the new one, never a torn one,
 * even after a power cut.
 */
export interface SourcePosition {
  off: number;
  path?: string;
}

export const CHECKPOINT_VERSION = 1;

export type SourcePositions = Map<string, SourcePosition>;

/** Reads a checkpoint; a missing file is an empty one. A malformed file is a data error, not a silent restart. */
export async function readCheckpointFile(path: string): Promise<SourcePositions> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new CliError(`${path}: cannot read: ${(error as Error).message}`, ExitCode.NO_INPUT);
  }
  return parseCheckpoint(text, path);
}

export function parseCheckpoint(text: string, path = 'checkpoint'): SourcePositions {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError(`${path}: not a checkpoint file (invalid JSON)`, ExitCode.DATA_ERROR);
  }
  const doc = value as { version?: unknown; sources?: unknown };
  if (!doc || typeof doc !== 'object' || doc.version !== CHECKPOINT_VERSION || !doc.sources || typeof doc.sources !== 'object') {
    throw new CliError(`${path}: not a version ${CHECKPOINT_VERSION} checkpoint file`, ExitCode.DATA_ERROR);
  }
  const positions: SourcePositions = new Map();
  for (const [id, entry] of Object.entries(doc.sources as Record<string, unknown>)) {
    const off = (entry as { off?: unknown } | null)?.off;
    if (typeof off !== 'number' || !Number.isSafeInteger(off) || off < 0) {
      throw new CliError(`${path}: source ${JSON.stringify(id)} has no valid offset`, ExitCode.DATA_ERROR);
    }
    positions.set(id, { ...(entry as SourcePosition) });
  }
  return positions;
}

export function formatCheckpoint(positions: SourcePositions): string {
  const sources: Record<string, SourcePosition> = {};
  for (const [id, position] of positions) sources[id] = position;
  return JSON.stringify({ version: CHECKPOINT_VERSION, sources }) + '\n';
}

/** Atomically replaces the checkpoint at `path` (temp + fsync + rename + directory fsync). */
export async function writeCheckpointFile(path: string, positions: SourcePositions): Promise<void> {
  await replaceFileAtomically(path, formatCheckpoint(positions));
}

/** Replaces the file at `path` so that a reader (or a restart after a power cut) sees the old content or the new, never a mix. */
export async function replaceFileAtomically(path: string, content: string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  const handle = await open(temp, 'w', 0o644);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(temp, path);
  // The rename is durable only once the directory entry is on disk.
  const dir = await open(dirname(path), 'r').catch(() => undefined);
  if (dir) {
    await dir.sync().catch(() => undefined);
    await dir.close();
  }
}
