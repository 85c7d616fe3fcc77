/**
 * A progress line for a person watching a long run on a terminal: rewritten in place on stderr
 * once a second (`\r` + clear to end of line), erased at the end. Only when stderr is a
 * terminal and stdout is not (the events would scroll it away), so pipelines, files and
 * journald never see it.
 */
export class ProgressLine {
  private timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();
  private shown = false;

  private constructor(
    private readonly render: (elapsedSeconds: number) => string,
    private readonly out: NodeJS.WriteStream,
  ) {}

  /** Starts one when it helps (see above); undefined otherwise. */
  static start(render: (elapsedSeconds: number) => string, out: NodeJS.WriteStream = process.stderr, stdoutIsTTY = process.stdout.isTTY): ProgressLine | undefined {
    if (!out.isTTY || stdoutIsTTY || process.env.LOGKIT_NO_PROGRESS) return undefined;
    const progress = new ProgressLine(render, out);
    progress.timer = setInterval(() => progress.draw(), 1000);
    progress.timer.unref();
    return progress;
  }

  private draw(): void {
    const width = Math.max(20, (this.out.columns || 80) - 1);
    this.out.write(`\r\x1b[K${this.render((Date.now() - this.started) / 1000).slice(0, width)}`);
    this.shown = true;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.shown) this.out.write('\r\x1b[K');
  }
}

/** `1234567` → `1,234,567`. */
export const grouped = (n: number): string => Math.round(n).toLocaleString('en-US');

/** A rate per second over the elapsed time. */
export const perSecond = (n: number, seconds: number): string => grouped(seconds > 0 ? n / seconds : 0);
