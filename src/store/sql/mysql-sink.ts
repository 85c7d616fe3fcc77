import mysql from 'mysql2/promise';
import type { LogEvent } from '../../event/event.js';
import { PermanentStoreError, TransientStoreError, errnoCode, errorMessage } from '../store-errors.js';
import { storedIdentityOf } from '../stored-identity.js';
import type { CommitHook, DedupMode, StoreSink } from '../store-sink.js';
import { plainName, quoteTable, redactUrl, type TableName } from './identifier.js';
import { dedupMessages, type IdentityColumns } from './identity-columns.js';
import { approximateRowBytes, recordJSON, utcMicros } from './row-text.js';

export interface MysqlOptions {
  url: string;
  table: TableName;
  create: boolean;
  dedup: DedupMode;
  onCommit: CommitHook;
  log: (message: string) => void;
}

const COLUMNS = ['time', 'time_nsec', 'tag', 'record'] as const;
/** The event's identity (options.src), NULL for an event without one; unique together where dedup is on. */
const IDENTITY = ['src_id', 'src_off'] as const;
/** One INSERT statement carries at most this much row text (the server's max_allowed_packet lowers it). */
const MAX_STATEMENT_BYTES = 4 * 1024 * 1024;

/**
 * MySQL and MariaDB: each batch is one transaction of multi-row INSERTs (split to stay under
 * max_allowed_packet), stored whole or not at all. With the identity key (src_id, src_off),
 * `ON DUPLICATE KEY UPDATE src_off = src_off` drops an event already committed (a replay, a
 * retry after a lost COMMIT reply). Not INSERT IGNORE: it also turns a bad value into a warning
 * and a row silently not stored, a loss. Without the key, a retry after a connection lost
 * between COMMIT and its reply can store a batch twice (at-least-once).
 */
export class MysqlSink implements StoreSink {
  readonly description: string;
  private connection: mysql.Connection | undefined;
  private readonly quoted: string;
  private statementBytes = MAX_STATEMENT_BYTES;
  /** What the table has, found by open(). */
  private columns: IdentityColumns = { present: false, unique: false };
  private dedup = false;
  duplicates = 0;

  constructor(private readonly options: MysqlOptions) {
    this.description = `mysql ${redactUrl(options.url)} table ${plainName(options.table)}`;
    this.quoted = quoteTable(options.table, '`');
  }

  async open(): Promise<void> {
    const connection = await this.connect();
    try {
      if (this.options.create) await this.createTable(connection);
      await this.checkTable(connection);
    } catch (error) {
      throw this.classify(error);
    }
    const addKey = 'ADD UNIQUE KEY src_key (src_id, src_off)';
    this.dedup = dedupMessages(this.options.dedup, this.columns, this.options.table, this.options.log,
      `ALTER TABLE ${this.quoted} ${this.columns.present ? '' : 'ADD COLUMN src_id VARCHAR(255) NULL, ADD COLUMN src_off BIGINT UNSIGNED NULL, '}${addKey}`);
  }

  async write(events: readonly LogEvent[]): Promise<void> {
    const connection = await this.connect();
    const withIdentity = this.columns.present && this.options.dedup !== 'off';
    let stored = 0;
    try {
      await connection.query('START TRANSACTION');
      let rows: unknown[][] = [];
      let bytes = 0;
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        const json = recordJSON(e);
        const row: unknown[] = [utcMicros(e), e.time.nsec, e.tag, json];
        if (withIdentity) {
          const identity = storedIdentityOf(e);
          row.push(identity?.id ?? null, identity?.off ?? null);
        }
        rows.push(row);
        bytes += approximateRowBytes(e.tag, json);
        if (bytes >= this.statementBytes) {
          stored += await this.insert(connection, rows, withIdentity);
          rows = [];
          bytes = 0;
        }
      }
      if (rows.length > 0) stored += await this.insert(connection, rows, withIdentity);
      await connection.query('COMMIT');
    } catch (error) {
      const failure = this.classify(error);
      if (failure instanceof TransientStoreError) this.drop();
      else await connection.query('ROLLBACK').catch(() => this.drop());
      throw failure;
    }
    this.duplicates += events.length - stored;
    await this.options.onCommit(events);
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    await connection?.end().catch(() => {});
  }

  /** Inserts rows; returns how many were stored (the rest were duplicates of committed rows). */
  private async insert(connection: mysql.Connection, rows: unknown[][], withIdentity: boolean): Promise<number> {
    const columns = withIdentity ? [...COLUMNS, ...IDENTITY] : COLUMNS;
    // `VALUES ?` with an array of rows: the driver escapes every value (no text is spliced in).
    // The no-op update leaves a committed row as it is; without CLIENT_FOUND_ROWS (see connect)
    // it counts 0 affected rows, so affectedRows is the number of rows stored.
    const [result] = await connection.query(
      `INSERT INTO ${this.quoted} (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES ?${this.dedup ? ' ON DUPLICATE KEY UPDATE src_off = src_off' : ''}`,
      [rows],
    );
    return this.dedup ? (result as mysql.ResultSetHeader).affectedRows : rows.length;
  }

  private async connect(): Promise<mysql.Connection> {
    if (this.connection) return this.connection;
    let connection: mysql.Connection;
    try {
      // -FOUND_ROWS: affected rows count changed rows, so a duplicate dropped counts 0 (see insert)
      connection = await mysql.createConnection({ uri: this.options.url, charset: 'utf8mb4', timezone: 'Z', supportBigNumbers: true, bigNumberStrings: true, flags: ['-FOUND_ROWS'] });
    } catch (error) {
      throw this.classify(error);
    }
    // a connection killed while idle emits 'error'; the next write reconnects
    connection.on('error', () => {
      if (this.connection === connection) this.connection = undefined;
    });
    try {
      await connection.query("SET time_zone = '+00:00'");
      const [rows] = await connection.query('SELECT @@max_allowed_packet AS packet');
      const packet = Number((rows as Array<{ packet: number | string }>)[0]?.packet ?? 0);
      if (packet > 0) this.statementBytes = Math.max(64 * 1024, Math.min(MAX_STATEMENT_BYTES, Math.floor(packet / 4)));
    } catch (error) {
      connection.destroy();
      throw this.classify(error);
    }
    this.connection = connection;
    return connection;
  }

  private drop(): void {
    const connection = this.connection;
    this.connection = undefined;
    connection?.destroy();
  }

  private async createTable(connection: mysql.Connection): Promise<void> {
    // DATETIME(6), not TIMESTAMP: no time zone conversion and no 2038 limit. The tag index is a
    // prefix index so long tags are allowed.
    await connection.query(`CREATE TABLE IF NOT EXISTS ${this.quoted} (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      \`time\` DATETIME(6) NOT NULL,
      time_nsec INT UNSIGNED NOT NULL,
      tag MEDIUMTEXT NOT NULL,
      record JSON NOT NULL,
      src_id VARCHAR(255) NULL,
      src_off BIGINT UNSIGNED NULL,
      KEY time_idx (\`time\`),
      KEY tag_time_idx (tag(191), \`time\`),
      UNIQUE KEY src_key (src_id, src_off)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
  }

  private async checkTable(connection: mysql.Connection): Promise<void> {
    const [rows] = await connection.query(
      'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = coalesce(?, database()) AND table_name = ?',
      [this.options.table.schema ?? null, this.options.table.table],
    );
    const have = new Set((rows as Array<{ name: string }>).map((r) => r.name.toLowerCase()));
    if (have.size === 0) throw new PermanentStoreError(`table ${plainName(this.options.table)} does not exist (--create makes it)`);
    const missing = COLUMNS.filter((c) => !have.has(c));
    if (missing.length > 0) {
      throw new PermanentStoreError(`table ${plainName(this.options.table)} lacks the column(s) ${missing.join(', ')}: expected (time DATETIME(6), time_nsec INT UNSIGNED, tag MEDIUMTEXT, record JSON)`);
    }
    const present = IDENTITY.every((c) => have.has(c));
    const [keys] = await connection.query(
      `SELECT index_name AS name, GROUP_CONCAT(column_name ORDER BY seq_in_index) AS cols FROM information_schema.statistics
        WHERE table_schema = coalesce(?, database()) AND table_name = ? AND non_unique = 0 AND sub_part IS NULL GROUP BY index_name`,
      [this.options.table.schema ?? null, this.options.table.table],
    );
    const unique = present && (keys as Array<{ cols: string }>).some((k) => String(k.cols).toLowerCase() === 'src_id,src_off');
    this.columns = { present, unique };
  }

  private classify(error: unknown): Error {
    if (error instanceof PermanentStoreError || error instanceof TransientStoreError) return error;
    const e = error as { code?: string; fatal?: boolean };
    const message = errorMessage(error);
    if (errnoCode(error) || (e.code && TRANSIENT_CODES.has(e.code)) || /closed state|connection lost/i.test(message)) {
      return new TransientStoreError(message, error);
    }
    return new PermanentStoreError(e.code ? `${message} (${e.code})` : message, error);
  }
}

/** Server and driver errors a retry can fix: lost or killed connections, shutdown, lock conflicts. */
const TRANSIENT_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_SERVER_SHUTDOWN', 'ER_CON_COUNT_ERROR',
  'ER_CONNECTION_KILLED', 'ER_QUERY_INTERRUPTED', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT',
  'ER_NET_READ_ERROR', 'ER_NET_READ_INTERRUPTED', 'ER_NET_ERROR_ON_WRITE', 'ER_NET_WRITE_INTERRUPTED',
  'ER_CLIENT_INTERACTION_TIMEOUT', 'ER_TOO_MANY_USER_CONNECTIONS', 'ER_NEW_ABORTING_CONNECTION',
  'ER_SERVER_SHUTDOWN', 'ER_ABORTING_CONNECTION', 'ER_QUERY_TIMEOUT', 'ER_STATEMENT_TIMEOUT',
]);
