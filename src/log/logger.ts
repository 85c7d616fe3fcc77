import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * logkit's own diagnostics, on standard error (standard output carries the event stream). One
 * process-wide logger, configured once from --log-level/--log-format (or LOGKIT_LOG_LEVEL /
 * LOGKIT_LOG_FORMAT, so that a whole pipeline can be switched at once). The text format is the
 * historical `logkit <command>: message`; json is one object a line, for journald/log shippers.
 * Under `logkit run`, what a stage logs names it: `logkit run[forward]: message` (json: `stage`).
 */

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export type LogFields = Record<string, string | number | boolean | undefined>;

/**
 * The stage of a `logkit run` chain whose code is running. Carried by the async context, so the
 * modules of a stage keep logging through the one `log` (the piped form never sets it). Created
 * on the first chain: in Node 20 a live AsyncLocalStorage makes every promise a little dearer.
 */
let currentStage: AsyncLocalStorage<string> | undefined;

/** Runs `work` as stage `name` of a chain: everything it logs, now or later, names the stage. */
export function runAsStage<T>(name: string, work: () => T): T {
  currentStage ??= new AsyncLocalStorage<string>();
  return currentStage.run(name, work);
}

/**
 * `handler` bound to the stage running now, for a handler that a process-wide event calls later
 * (a signal: it runs outside every stage's context otherwise).
 */
export function inThisStage<A extends unknown[], R>(handler: (...args: A) => R): (...args: A) => R {
  return currentStage?.getStore() !== undefined ? AsyncLocalStorage.bind(handler) : handler;
}

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
    const stage = currentStage?.getStore();
    const name = this.command && stage !== undefined ? `${this.command}[${stage}]` : this.command;
    let line = name ? `logkit ${name}: ${message}` : `logkit: ${message}`;
    if (fields) {
      for (const [key, value] of Object.entries(fields)) if (value !== undefined) line += ` ${key}=${value}`;
    }
    // one diagnostic is one line, whatever a message quotes (a tag, a peer's error text)
    return line.replace(/[\r\n]+/g, ' ') + '\n';
  }

  private json(level: LogLevel, message: string, fields?: LogFields): string {
    const stage = currentStage?.getStore();
    return JSON.stringify({ time: new Date().toISOString(), level, command: this.command, stage, msg: message, ...fields }) + '\n';
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
