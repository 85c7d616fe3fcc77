/**
 * Why a disk buffer refused or stopped. `full` (the total limit or the disk is full under the
 * `fail` policy) and `locked` are temporary (exit 75: the supervisor retries later); `open`: the
 * directory cannot be created or opened (73); `io`: a chunk cannot be written or read (74).
 */
export class BufferError extends Error {
  constructor(
    message: string,
    readonly reason: 'full' | 'locked' | 'open' | 'io',
  ) {
    super(message);
    this.name = 'BufferError';
  }
}
