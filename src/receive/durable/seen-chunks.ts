import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** The file in the buffer directory that keeps the duplicate memory of chunks already deleted. */
export const SEEN_FILE = 'receive-seen.json';

/**
 * receive's memory of the forward-protocol chunk ids it has made durable, to drop a chunk a
 * forwarder resends because its ack was lost. Bounded: the most recent `limit` ids (a forwarder
 * resends within seconds, so a window of thousands of chunks is plenty).
 *
 * Durability: an id is durable with its data — it is written in the metadata of the buffer chunk
 * holding the request's last event, so a restart reads it back from the chunks on disk. Before
 * chunks are deleted (once the store's checkpoint passes them), the memory is written to
 * DIR/receive-seen.json (atomically), so a resend arriving after that is still recognised.
 * The same file keeps `floor`: the highest event offset ever handed out, so offsets keep
 * increasing across restarts even when every chunk was deleted.
 */
export class SeenChunks {
  private readonly ids = new Map<string, true>();
  floor = 0;

  private constructor(
    private readonly path: string,
    readonly limit: number,
  ) {}

  static async load(dir: string, limit: number): Promise<SeenChunks> {
    const seen = new SeenChunks(join(dir, SEEN_FILE), limit);
    let text: string | undefined;
    try {
      text = await readFile(seen.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== undefined) {
      try {
        const doc = JSON.parse(text) as { floor?: unknown; ids?: unknown };
        if (typeof doc.floor === 'number' && Number.isSafeInteger(doc.floor)) seen.floor = doc.floor;
        if (Array.isArray(doc.ids)) seen.addAll(doc.ids.filter((id): id is string => typeof id === 'string'));
      } catch {
        // a damaged memory costs duplicates, never data: start without it
      }
    }
    return seen;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  addAll(ids: readonly string[]): void {
    for (const id of ids) {
      this.ids.delete(id);
      this.ids.set(id, true);
    }
    while (this.ids.size > this.limit) this.ids.delete(this.ids.keys().next().value!);
  }

  get size(): number {
    return this.ids.size;
  }

  /** Writes the memory atomically (temp + fsync + rename); call before deleting chunks. */
  async save(): Promise<void> {
    const temp = `${this.path}.tmp`;
    const handle = await open(temp, 'w', 0o644);
    try {
      await handle.writeFile(JSON.stringify({ version: 1, floor: this.floor, ids: [...this.ids.keys()] }));
      await handle.sync();
    } catch (error) {
      await handle.close();
      await unlink(temp).catch(() => {});
      throw error;
    }
    await handle.close();
    await rename(temp, this.path);
  }
}
