import { randomBytes } from 'node:crypto';
import type { LogEvent } from '../../event/event.js';
import { CliError, ExitCode } from '../../base/exit-codes.js';
import { PermanentStoreError, TransientStoreError, errnoCode, errorMessage } from '../store-errors.js';
import { storedIdentityOf } from '../stored-identity.js';
import type { CommitHook, DedupMode, StoreSink } from '../store-sink.js';
import { plainName, quoteTable, redactUrl, type TableName } from './identifier.js';
import { dedupMessages, type IdentityColumns } from './identity-columns.js';
import { recordJSON } from './row-text.js';

export interface ClickhouseOptions {
  url: string;
  table: TableName;
  create: boolean;
  dedup: DedupMode;
  onCommit: CommitHook;
  log: (message: string) => void;
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
 * batch twice (at-least-once) unless the table deduplicates.
 *
 * Dedup: the table --create makes is a ReplacingMergeTree ordered by the identity (src_id,
 * src_off), so a replay collapses with the row already stored when their parts merge; queries
 * that must not see a replay not yet merged read with FINAL (see the store's documentation).
 * ClickHouse cannot tell at INSERT time whether a row is a replay, so no duplicates are counted.
 * An event without an identity gets a unique one of this process (src_id `~` and a random
 * nonce, src_off a counter), so it never collapses with another; a batch retried keeps the ones
 * it was given, so even a retry after a lost reply collapses.
 */
export class ClickhouseSink implements StoreSink {
  readonly description: string;
  private readonly endpoint: URL;
  private readonly headers: Record<string, string> = {};
  private readonly quoted: string;
  private columns: IdentityColumns = { present: false, unique: false };
  /** Identities given to events without one: `~` + a random nonce per process, and a counter. */
  private readonly ownId = `~${randomBytes(12).toString('hex')}`;
  private nextOwnOff = 0;
  private readonly ownBase = new WeakMap<readonly LogEvent[], number>();

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
        record String,
        src_id String,
        src_off UInt64
      ) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMMDD(time) ORDER BY (src_id, src_off)`);
    }
    const exists = (await this.query(`EXISTS TABLE ${this.quoted}`)).trim();
    if (exists !== '1') throw new PermanentStoreError(`table ${plainName(this.options.table)} does not exist (--create makes it)`);
    await this.checkIdentity();
  }

  async write(events: readonly LogEvent[]): Promise<void> {
    let body = '';
    const withIdentity = this.columns.present;
    // the batcher retries the same array: a retried batch keeps the identities it was given
    let base = this.ownBase.get(events);
    if (base === undefined) {
      base = this.nextOwnOff;
      this.nextOwnOff += events.length;
      this.ownBase.set(events, base);
    }
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      body += `{"time":${e.time.sec},"time_nsec":${e.time.nsec},"tag":${JSON.stringify(e.tag)},"record":${JSON.stringify(recordJSON(e))}`;
      if (withIdentity) {
        // --dedup off: every event gets an identity of its own, so nothing collapses
        const identity = this.options.dedup === 'off' ? undefined : storedIdentityOf(e);
        body += identity ? `,"src_id":${JSON.stringify(identity.id)},"src_off":${identity.off}}\n` : `,"src_id":"${this.ownId}","src_off":${base + i}}\n`;
      } else {
        body += '}\n';
      }
    }
    await this.query(`INSERT INTO ${this.quoted} (time, time_nsec, tag, record${withIdentity ? ', src_id, src_off' : ''}) FORMAT JSONEachRow`, body);
    await this.options.onCommit(events);
  }

  /** Whether the table collapses replays: the identity columns, and a ReplacingMergeTree ordered by exactly them. */
  private async checkIdentity(): Promise<void> {
    const name = this.options.table;
    const database = name.schema ? `'${name.schema}'` : 'currentDatabase()';
    const columns = await this.query(`SELECT name FROM system.columns WHERE database = ${database} AND table = '${name.table}' FORMAT TSV`);
    const have = new Set(columns.split('\n'));
    const present = have.has('src_id') && have.has('src_off');
    const [engine, sortingKey] = (await this.query(`SELECT engine, sorting_key FROM system.tables WHERE database = ${database} AND name = '${name.table}' FORMAT TSV`)).trim().split('\t');
    const unique = present && /ReplacingMergeTree$/.test(engine ?? '') && (sortingKey ?? '').replace(/\s/g, '') === 'src_id,src_off';
    this.columns = { present, unique };
    // ClickHouse has nothing to switch: collapsing is the table's; this warns or refuses (--dedup on)
    dedupMessages(this.options.dedup, this.columns, name, this.options.log,
      `a ReplacingMergeTree ordered by (src_id, src_off): create one with logkit store --create --table NEW_TABLE, then INSERT INTO NEW_TABLE SELECT time, time_nsec, tag, record${present ? ', src_id, src_off' : ''} FROM ${plainName(name)}`);
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
