import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SourcePositions } from './disk-buffer.js';

/**
 * The checkpoint a committing stage writes for `tail` to resume from:
 * `{"version":1,"sources":{"<id>":{"off":N}}}`, replaced atomically (temporary file, fsync,
 * rename, directory fsync), so a crash leaves the old or the new file, never a torn one.
 *
 * This is the minimal writer the buffer stage needs. The format is the contract with tail's
 * src/checkpoint/ module (owned by the tail branch, not merged when this was written); once both
 * are merged, this file should become a thin use of that module (its CheckpointTracker, given
 * a way to commit a positions record rather than events).
 *
 * Writes are coalesced: `advance()` only records positions; one write is in flight at a time
 * and the next one carries everything recorded meanwhile, so a fast stream costs at most one
 * checkpoint write per sealed chunk and usually far fewer.
 */
export class CheckpointFile {
  /** Entries keep any other fields (tail's own position file adds `path`): only `off` is ours. */
  private readonly sources: Record<string, { off: number; [field: string]: unknown }> = {};
  private dirty = false;
  private writing: Promise<void> | undefined;
  private lastError: Error | undefined;
  /** Diagnostics: a failed write is reported once, and again when writing works again. */
  log: (message: string) => void = () => {};

  private constructor(readonly path: string) {}

  /**
   * Loads the existing checkpoint (sources not in this stream keep their positions), or creates
   * an empty one at once, so that a path that cannot be written fails at start, not later.
   */
  static async open(path: string): Promise<CheckpointFile> {
    const file = new CheckpointFile(path);
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await writeAtomically(path, JSON.stringify({ version: 1, sources: {} }) + '\n');
    }
    if (text !== undefined) {
      const parsed = JSON.parse(text) as { version?: number; sources?: Record<string, { off?: unknown }> };
      if (parsed.version !== 1 || typeof parsed.sources !== 'object' || parsed.sources === null) {
        throw new Error(`${path}: not a version 1 logkit checkpoint`);
      }
      for (const [id, value] of Object.entries(parsed.sources)) {
        if (typeof value?.off === 'number') file.sources[id] = { ...value, off: value.off };
      }
    }
    return file;
  }

  /** Positions come in stream order, so the latest offset per source is the committed one. */
  advance(positions: SourcePositions): void {
    for (const id in positions) {
      this.sources[id] = { ...this.sources[id], off: positions[id]! };
      this.dirty = true;
    }
    if (this.dirty) this.writing ??= this.writeLoop();
  }

  position(id: string): number | undefined {
    return this.sources[id]?.off;
  }

  /** Resolves when everything advanced so far is on disk; rejects with the last write error. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.lastError) throw this.lastError;
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        const text = JSON.stringify({ version: 1, sources: this.sources }) + '\n';
        try {
          await writeAtomically(this.path, text);
          if (this.lastError) this.log(`checkpoint ${this.path} written again`);
          this.lastError = undefined;
        } catch (error) {
          // Keep the data flowing (the positions stay behind, so tail would re-read, not lose);
          // the next advance retries, flush() reports it.
          if (!this.lastError) this.log(`cannot write the checkpoint ${this.path}: ${(error as Error).message}; retrying with the next chunk`);
          this.lastError = error as Error;
          this.dirty = true;
          return;
        }
      }
    } finally {
      this.writing = undefined;
    }
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.tmp`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
