import type { LogEvent } from '../../event/event.js';
import { CliError, ExitCode } from '../../cli/exit-codes.js';
import { PermanentStoreError, TransientStoreError, errnoCode, errorMessage } from '../store-errors.js';
import type { CommitHook, StoreSink } from '../store-sink.js';
import { plainName, quoteTable, redactUrl, type TableName } from './identifier.js';
import { recordJSON } from './row-text.js';

export interface ClickhouseOptions {
  url: string;
  table: TableName;
  create: boolean;
  onCommit: CommitHook;
  /** One HTTP request may take this long before it counts as a transient failure. */
  timeoutMs: number;
}

/**
 * ClickHouse over its HTTP interface: each batch is one `INSERT … FORMAT JSONEachRow` request.
 *
 * Compatibility: written for the oldest server in use (Debian's 18.16) and current releases.
 * `time` is DateTime('UTC') (seconds; DateTime64 only exists from 20.1) sent as a Unix
 * timestamp number, which both read the same whatever the server's time zone; `time_nsec`
 * keeps the exact nanoseconds; `record` is the JSON text in a String column (the JSON column
 * type is recent and was experimental). An INSERT of one batch into one daily partition is
 * atomic; a batch spanning days is one part per day. A retry after a lost reply can store a
 * batch twice (at-least-once) unless the table deduplicates (Replicated*MergeTree, or
 * non_replicated_deduplication_window on current releases).
 */
export class ClickhouseSink implements StoreSink {
  readonly description: string;
  private readonly endpoint: URL;
  private readonly headers: Record<string, string> = {};
  private readonly quoted: string;

  constructor(private readonly options: ClickhouseOptions) {
    this.description = `clickhouse ${redactUrl(options.url)} table ${plainName(options.table)}`;
    let url: URL;
    try {
      url = new URL(options.url.replace(/^clickhouse:/, 'http:'));
    } catch {
      throw new CliError(`clickhouse: ${JSON.stringify(options.url)} is not a URL (http://HOST:8123/DATABASE)`, ExitCode.USAGE);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new CliError(`clickhouse: expected an http:// or https:// URL of the HTTP interface, got ${url.protocol}`, ExitCode.USAGE);
    }
    // fetch refuses credentials in URLs: send them as HTTP basic auth, which every release reads
    if (url.username || url.password) {
      const user = decodeURIComponent(url.username || 'default');
      this.headers.authorization = `Basic ${Buffer.from(`${user}:${decodeURIComponent(url.password)}`).toString('base64')}`;
      url.username = '';
      url.password = '';
    }
    const database = decodeURIComponent(url.pathname.replace(/^\/+|\/+$/g, ''));
    if (database) url.searchParams.set('database', database);
    url.pathname = '/';
    this.endpoint = url;
    this.quoted = quoteTable(options.table, '`');
  }

  async open(): Promise<void> {
    if (this.options.create) {
      // PARTITION BY day and ORDER BY (tag, time): the custom partitioning syntax works from
      // 1.1.54310 (2017) on, and is the documented form in current releases.
      await this.query(`CREATE TABLE IF NOT EXISTS ${this.quoted} (
        time DateTime('UTC'),
        time_nsec UInt32,
        tag String,
        record String
      ) ENGINE = MergeTree() PARTITION BY toYYYYMMDD(time) ORDER BY (tag, time)`);
    }
    const exists = (await this.query(`EXISTS TABLE ${this.quoted}`)).trim();
    if (exists !== '1') throw new PermanentStoreError(`table ${plainName(this.options.table)} does not exist (--create makes it)`);
  }

  async write(events: readonly LogEvent[]): Promise<void> {
    let body = '';
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      body += `{"time":${e.time.sec},"time_nsec":${e.time.nsec},"tag":${JSON.stringify(e.tag)},"record":${JSON.stringify(recordJSON(e))}}\n`;
    }
    await this.query(`INSERT INTO ${this.quoted} (time, time_nsec, tag, record) FORMAT JSONEachRow`, body);
    await this.options.onCommit(events);
  }

  async close(): Promise<void> {}

  /** Runs one statement (the data, if any, as the POST body) and returns the response text. */
  private async query(sql: string, data?: string): Promise<string> {
    const url = new URL(this.endpoint);
    url.searchParams.set('query', sql);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: this.headers,
        body: data ?? '',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const e = error as Error;
      if ((e.cause as Error | undefined)?.message === 'bad port') throw new PermanentStoreError(`${errorMessage(error)}: fetch refuses this port`);
      if (errnoCode(error) || e.name === 'TimeoutError' || e.name === 'AbortError' || /fetch failed|terminated|other side closed/i.test(e.message)) {
        throw new TransientStoreError(errorMessage(error), error);
      }
      throw new PermanentStoreError(errorMessage(error), error);
    }
    if (response.ok) return text;
    const message = text.trim().split('\n')[0]!.slice(0, 500) || `HTTP ${response.status}`;
    const code = Number(/Code: (\d+)/.exec(text)?.[1] ?? 0);
    if (TRANSIENT_CODES.has(code) || (code === 0 && response.status >= 500)) throw new TransientStoreError(message);
    throw new PermanentStoreError(message);
  }
}

/**
 * ClickHouse error codes a retry can fix: timeouts and network errors, too many simultaneous
 * queries or parts (back-pressure from merges), memory limit, read-only replica, unknown
 * status of insert, Keeper hiccups, and a server shutting down.
 */
const TRANSIENT_CODES = new Set([159, 202, 209, 210, 241, 242, 252, 319, 425, 999, 394, 3, 32, 33]);
