import { log } from '../log/logger.js';

/**
 * Diagnostics on stderr, bounded: a flood of bad connections (a scanner, a fuzzer, a broken
 * client in a loop) must not turn into a flood of log lines. At most `perSecond` lines a second;
 * the rest are counted and summarized once the second is over.
 */
export class RateLimitedLog {
  private windowStart = 0;
  private lines = 0;
  private suppressed = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly perSecond = 20,
    private readonly write: (message: string) => void = (message) => log.warn(message),
  ) {}

  line(message: string): void {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.lines = 0;
    }
    if (this.lines < this.perSecond) {
      this.lines++;
      this.write(message);
      return;
    }
    this.suppressed++;
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        const n = this.suppressed;
        this.suppressed = 0;
        if (n > 0) this.write(`(${n} similar messages suppressed)`);
      }, 1000);
      this.timer.unref();
    }
  }
}
