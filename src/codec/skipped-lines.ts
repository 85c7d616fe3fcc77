import { DecodeError } from './decode-error.js';
import { log } from '../log/logger.js';

/** Lines named one by one on stderr; the rest are counted (a wrong input must not flood the log). */
const NAMED_LINES = 10;

/**
 * The NDJSON lines a reader skipped: over the line limit, or not an event (invalid JSON, a
 * record nested deeper than the stream's limit, a wrong shape). One such line must not stop the
 * stage, so it is skipped, named on stderr, and counted; the error that reports them all comes at
 * the end of the input, after every other event went on (exit status 65).
 */
export class SkippedLines {
  private count = 0;
  private tooLong = 0;
  private first = 0;
  private firstReason = '';

  constructor(private readonly maxLineBytes: number) {}

  overLimit(line: number): void {
    this.tooLong++;
    this.skip(line, `an NDJSON line longer than ${this.maxLineBytes} bytes`);
  }

  notAnEvent(line: number, reason: string): void {
    this.skip(line, reason);
  }

  /** The error that reports every skipped line, or undefined when none was. */
  error(endOffset: number): DecodeError | undefined {
    if (this.count === 0) return undefined;
    const lines = (n: number) => `${n} NDJSON ${n === 1 ? 'line was' : 'lines were'}`;
    const notEvents = this.count - this.tooLong;
    const what =
      notEvents === 0
        ? `${lines(this.count)} longer than the ${this.maxLineBytes}-byte line limit and skipped`
        : this.tooLong === 0
          ? `${lines(this.count)} not ${this.count === 1 ? 'an event' : 'events'} and skipped`
          : `${lines(this.count)} skipped, ${this.tooLong} longer than the ${this.maxLineBytes}-byte line limit and ${notEvents} not events`;
    return new DecodeError(`${what} (this is the first: ${this.firstReason}); every other event was read`, endOffset, [], this.first);
  }

  private skip(line: number, reason: string): void {
    if (this.count++ === 0) {
      this.first = line;
      this.firstReason = reason;
    }
    if (this.count <= NAMED_LINES) log.warn(`line ${line}: ${reason}, skipped`);
    if (this.count === NAMED_LINES) log.warn(`further skipped lines are counted, not named`);
  }
}
