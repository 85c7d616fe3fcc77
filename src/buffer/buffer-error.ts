/**
 * Why a disk buffer refused or stopped. `full` (the total limit or the disk is full under the
 * `fail` policy) is temporary: the caller should exit 75 so the supervisor retries later.
 */
export class BufferError extends Error {
  constructor(
    message: string,
    readonly reason: 'full' | 'locked' | 'io',
  ) {
    super(message);
    this.name = 'BufferError';
  }
}
