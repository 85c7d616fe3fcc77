import { open, type FileHandle } from 'node:fs/promises';
import { CliError, ExitCode } from '../base/exit-codes.js';
import { chunkAsEventStream } from './chunk-split.js';
import type { Chunk } from './chunk.js';

/**
 * `forward --dead-letter FILE`: events a healthy server refused as bad data (poison-isolation.ts),
 * appended as a MessagePack event stream (`[tag, time, record]` entries, with `{src}` options for
 * events that carried an identity: the stream every logkit command reads) and fsynced before the
 * chunk is let go, so that a crash right after loses none.
 * Replay: `logkit forward SERVER < FILE` once the server accepts them, or `logkit cat FILE` to look.
 * The file is opened for appending: earlier runs' events stay.
 */
export class DeadLetterFile {
  private chain: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  static async open(path: string): Promise<DeadLetterFile> {
    try {
      return new DeadLetterFile(path, await open(path, 'a', 0o600));
    } catch (error) {
      throw new CliError(`--dead-letter ${path}: ${(error as Error).message}`, ExitCode.CANT_CREATE);
    }
  }

  /** Appends the chunk's events durably; writes are serialized, in call order. */
  keep(chunk: Chunk): Promise<void> {
    const written = this.chain.then(async () => {
      const bytes = await chunkAsEventStream(chunk);
      await this.handle.write(bytes);
      await this.handle.datasync();
    });
    this.chain = written.catch(() => {});
    return written;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.handle.close();
  }
}
