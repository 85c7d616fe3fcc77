import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { LogEvent } from '../../event/event.js';
import { PermanentStoreError, TransientStoreError, errnoCode, errorMessage } from '../store-errors.js';
import { storedIdentityOf } from '../stored-identity.js';
import type { CommitHook, DedupMode, StoreSink } from '../store-sink.js';
import { plainName, quoteTable, redactUrl, type TableName } from './identifier.js';
import { dedupMessages, type IdentityColumns } from './identity-columns.js';
import { recordJSON, utcMicros } from './row-text.js';

export interface PostgresOptions {
  url: string;
  table: TableName;
  create: boolean;
  dedup: DedupMode;
  onCommit: CommitHook;
  log: (message: string) => void;
}

/** The columns logkit writes; a table made by hand needs at least these. */
const COLUMNS = ['time', 'time_nsec', 'tag', 'record'] as const;
/** The event's identity (options.src), NULL for an event without one; unique together where dedup is on. */
const IDENTITY = ['src_id', 'src_off'] as const;
/** Per connection: a dedup batch is copied here first, then moved with ON CONFLICT DO NOTHING. */
const INCOMING = 'logkit_incoming';

/**
 * PostgreSQL: each batch is one transaction holding one COPY (text format), so a batch is
 * stored whole or not at all. With the identity key (src_id, src_off) the batch is copied into
 * a temporary table and moved with `INSERT … ON CONFLICT DO NOTHING`, so an event already
 * committed (a replay, a retry after a lost COMMIT reply) is dropped; events without an
 * identity are always stored. Without the key, a retry after a lost reply can store a batch
 * twice (at-least-once).
 */
export class PostgresSink implements StoreSink {
  readonly description: string;
  private client: pg.Client | undefined;
  private readonly quoted: string;
  /** What the table has, found by open(). */
  private columns: IdentityColumns = { present: false, unique: false };
  private dedup = false;
  /** The connection the temporary table was made on (a new connection needs its own). */
  private incomingOn: pg.Client | undefined;
  duplicates = 0;

  constructor(private readonly options: PostgresOptions) {
    this.description = `postgres ${redactUrl(options.url)} table ${plainName(options.table)}`;
    this.quoted = quoteTable(options.table, '"');
  }

  async open(): Promise<void> {
    const client = await this.connection();
    const { create } = this.options;
    try {
      // CREATE … IF NOT EXISTS is not atomic: of stores starting together on a new table (two
      // aggregators into one), the losers failed on the catalog's unique key (SQLSTATE 23505).
      // One transaction under a lock named after the table makes them take turns.
      if (create) {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`logkit create ${plainName(this.options.table)}`]);
        await this.createTable(client);
      }
      await this.checkTable(client);
      // the identity key, where the table has its columns (one made before them is not altered:
      // see identity-columns.ts); NULLs never conflict, so events without an identity are all kept
      if (create && this.columns.present && !this.columns.unique) {
        await client.query(`CREATE UNIQUE INDEX IF NOT EXISTS "${this.options.table.table}_src" ON ${this.quoted} (src_id, src_off)`);
        this.columns.unique = true;
      }
      if (create) await client.query('COMMIT');
    } catch (error) {
      if (create) await client.query('ROLLBACK').catch(() => this.drop());
      throw this.classify(error);
    }
    const addKey = `CREATE UNIQUE INDEX "${this.options.table.table}_src" ON ${this.quoted} (src_id, src_off)`;
    this.dedup = dedupMessages(this.options.dedup, this.columns, this.options.table, this.options.log,
      this.columns.present ? addKey : `ALTER TABLE ${this.quoted} ADD COLUMN src_id text, ADD COLUMN src_off bigint; ${addKey}`);
  }

  async write(events: readonly LogEvent[]): Promise<void> {
    const client = await this.connection();
    const withIdentity = this.columns.present && this.options.dedup !== 'off';
    const columns = withIdentity ? [...COLUMNS, ...IDENTITY] : COLUMNS;
    let stored = events.length;
    try {
      if (this.dedup && this.incomingOn !== client) {
        // jsonb here too: the rows are parsed once, by COPY, and moved as they are
        await client.query(`CREATE TEMPORARY TABLE IF NOT EXISTS ${INCOMING} (
          time timestamptz, time_nsec integer, tag text, record jsonb, src_id text, src_off bigint) ON COMMIT DELETE ROWS`);
        this.incomingOn = client;
      }
      await client.query('BEGIN');
      const copy = client.query(copyFrom(`COPY ${this.dedup ? INCOMING : this.quoted} (${columns.join(', ')}) FROM STDIN`));
      await pipeline(Readable.from(copyText(events, withIdentity)), copy);
      if (this.dedup) {
        const list = columns.join(', ');
        const moved = await client.query(`INSERT INTO ${this.quoted} (${list}) SELECT ${list} FROM ${INCOMING} ON CONFLICT (src_id, src_off) DO NOTHING`);
        stored = moved.rowCount ?? events.length;
      }
      await client.query('COMMIT');
    } catch (error) {
      const failure = this.classify(error);
      if (failure instanceof TransientStoreError) this.drop();
      else await client.query('ROLLBACK').catch(() => this.drop());
      throw failure;
    }
    this.duplicates += events.length - stored;
    await this.options.onCommit(events);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    // the table in application_name lets a DBA (and a test) tell the stores in pg_stat_activity apart
    const application_name = `logkit store ${plainName(this.options.table)}`.slice(0, 63);
    const client = new pg.Client({ connectionString: this.options.url, application_name });
    // an idle connection killed by the server emits 'error'; the next write reconnects
    client.on('error', () => {
      if (this.client === client) this.client = undefined;
    });
    try {
      await client.connect();
      await client.query("SET TIME ZONE 'UTC'");
    } catch (error) {
      client.end().catch(() => {});
      throw this.classify(error);
    }
    this.client = client;
    return client;
  }

  private drop(): void {
    const client = this.client;
    this.client = undefined;
    client?.end().catch(() => {});
  }

  private async createTable(client: pg.Client): Promise<void> {
    const t = this.options.table.table;
    // BRIN on time: tiny, and ideal for append-mostly rows in time order; (tag, time) serves
    // "this tag over that period". No GIN on record: it costs ingestion (~15 %) and only
    // containment queries need it (CREATE INDEX … USING gin (record jsonb_path_ops) adds it).
    await client.query(`CREATE TABLE IF NOT EXISTS ${this.quoted} (
      time timestamptz NOT NULL,
      time_nsec integer NOT NULL,
      tag text NOT NULL,
      record jsonb NOT NULL,
      src_id text,
      src_off bigint)`);
    await client.query(`CREATE INDEX IF NOT EXISTS "${t}_time_brin" ON ${this.quoted} USING brin (time)`);
    await client.query(`CREATE INDEX IF NOT EXISTS "${t}_tag_time" ON ${this.quoted} (tag, time)`);
  }

  private async checkTable(client: pg.Client): Promise<void> {
    const { rows } = await client.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns
        WHERE table_schema = coalesce($1, current_schema()) AND table_name = $2`,
      [this.options.table.schema ?? null, this.options.table.table],
    );
    if (rows.length === 0) throw new PermanentStoreError(`table ${plainName(this.options.table)} does not exist (--create makes it)`);
    const have = new Set(rows.map((r) => r.column_name));
    const missing = COLUMNS.filter((c) => !have.has(c));
    if (missing.length > 0) {
      throw new PermanentStoreError(`table ${plainName(this.options.table)} lacks the column(s) ${missing.join(', ')}: expected (time timestamptz, time_nsec integer, tag text, record jsonb)`);
    }
    const present = IDENTITY.every((c) => have.has(c));
    // a unique index on exactly (src_id, src_off), in that order: what ON CONFLICT (src_id, src_off) needs
    const unique = present && (await client.query(
      `SELECT 1 FROM pg_index i
         JOIN pg_class c ON c.oid = i.indrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE i.indisunique AND i.indpred IS NULL AND n.nspname = coalesce($1, current_schema()) AND c.relname = $2
          AND (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum) = ARRAY['src_id', 'src_off']`,
      [this.options.table.schema ?? null, this.options.table.table],
    )).rows.length > 0;
    this.columns = { present, unique };
  }

  private classify(error: unknown): Error {
    if (error instanceof PermanentStoreError || error instanceof TransientStoreError) return error;
    const code = (error as { code?: string }).code ?? '';
    const message = errorMessage(error);
    if (errnoCode(error) || TRANSIENT_SQLSTATE.test(code) || TRANSIENT_MESSAGE.test(message)) {
      return new TransientStoreError(message, error);
    }
    return new PermanentStoreError(code ? `${message} (SQLSTATE ${code})` : message, error);
  }
}

/**
 * SQLSTATEs a retry can fix: connection exceptions (08), insufficient resources (53),
 * operator intervention (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now),
 * serialization failure and deadlock.
 */
const TRANSIENT_SQLSTATE = /^(08|53|57P0[1-3]|40001|40P01)/;
const TRANSIENT_MESSAGE = /Connection terminated|connection error|terminating connection|the database system is (starting up|shutting down|in recovery)|not queryable|timeout/i;

/**
 * COPY text format: tab-separated columns, one row a line; backslash, tab, newline and carriage
 * return are escaped. PostgreSQL text cannot hold NUL, so NUL (U+0000) in the tag or in a
 * record string is stored as U+FFFD — the one change the store makes to an event.
 */
function* copyText(events: readonly LogEvent[], withIdentity: boolean): Generator<string> {
  let chunk = '';
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    chunk += `${utcMicros(e)}Z\t${e.time.nsec}\t${escapeCopy(textSafe(e.tag))}\t${escapeCopy(jsonbSafe(recordJSON(e)))}`;
    if (withIdentity) {
      const identity = storedIdentityOf(e);
      // \N is COPY's NULL
      chunk += identity ? `\t${escapeCopy(textSafe(identity.id))}\t${identity.off}\n` : '\t\\N\t\\N\n';
    } else {
      chunk += '\n';
    }
    if (chunk.length >= 256 * 1024) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** PostgreSQL text cannot hold NUL. */
function textSafe(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text;
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIAL_ALL = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeCopy(text: string): string {
  return COPY_SPECIAL.test(text) ? text.replace(COPY_SPECIAL_ALL, (c) => COPY_ESCAPES[c]!) : text;
}

/** jsonb rejects the escape \u0000 (an odd number of backslashes before it is an escape). */
const JSON_NUL = /(?<!\\)((?:\\\\)*)\\u0000/g;
function jsonbSafe(json: string): string {
  return json.includes('\\u0000') ? json.replace(JSON_NUL, '$1\\ufffd') : json;
}
