/**
 * logkit's own diagnostics, on standard error (standard output carries the event stream). One
 * process-wide logger, configured once from --log-level/--log-format (or LOGKIT_LOG_LEVEL /
 * LOGKIT_LOG_FORMAT, so that a whole pipeline can be switched at once). The text format is the
 * historical `logkit <command>: message`; json is one object a line, for journald/log shippers.
 */

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export type LogFields = Record<string, string | number | boolean | undefined>;

export class Logger {
  private rank: number;

  constructor(
    public command: string | undefined,
    public level: LogLevel = 'info',
    public format: LogFormat = 'text',
    private readonly write: (line: string) => void = (line) => void process.stderr.write(line),
  ) {
    this.rank = RANK[level];
  }

  configure(settings: { command?: string; level?: LogLevel; format?: LogFormat }): void {
    if (settings.command !== undefined) this.command = settings.command;
    if (settings.level !== undefined) this.level = settings.level;
    if (settings.format !== undefined) this.format = settings.format;
    this.rank = RANK[this.level];
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] <= this.rank;
  }

  error(message: string, fields?: LogFields): void {
    this.log('error', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.log('warn', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.log('info', message, fields);
  }
  debug(message: string, fields?: LogFields): void {
    this.log('debug', message, fields);
  }

  /** What the user asked for explicitly (a --stats line): written whatever the level. */
  report(message: string, fields?: LogFields): void {
    this.write(this.format === 'json' ? this.json('info', message, fields) : this.text(message, fields));
  }

  /** The error that ends the run, as main.ts prints it: `logkit: message` (the message names the command). */
  fatal(message: string): void {
    this.write(this.format === 'json' ? this.json('error', message) : `logkit: ${message}\n`);
  }

  log(level: LogLevel, message: string, fields?: LogFields): void {
    if (RANK[level] > this.rank) return;
    this.write(this.format === 'json' ? this.json(level, message, fields) : this.text(message, fields));
  }

  private text(message: string, fields?: LogFields): string {
    let line = this.command ? `logkit ${this.command}: ${message}` : `logkit: ${message}`;
    if (fields) {
      for (const [key, value] of Object.entries(fields)) if (value !== undefined) line += ` ${key}=${value}`;
    }
    // one diagnostic is one line, whatever a message quotes (a tag, a peer's error text)
    return line.replace(/[\r\n]+/g, ' ') + '\n';
  }

  private json(level: LogLevel, message: string, fields?: LogFields): string {
    return JSON.stringify({ time: new Date().toISOString(), level, command: this.command, msg: message, ...fields }) + '\n';
  }
}

function fromEnv<T extends string>(value: string | undefined, allowed: readonly T[]): T | undefined {
  return value !== undefined && (allowed as readonly string[]).includes(value) ? (value as T) : undefined;
}

/** The process's logger. Commands log through it; main.ts configures it from the options. */
export const log = new Logger(
  undefined,
  fromEnv(process.env.LOGKIT_LOG_LEVEL, LOG_LEVELS) ?? 'info',
  fromEnv(process.env.LOGKIT_LOG_FORMAT, LOG_FORMATS) ?? 'text',
);
