import { ExitCode } from '../../base/exit-codes.js';
import { PermanentStoreError } from '../store-errors.js';
import type { DedupMode } from '../store-sink.js';
import { plainName, type TableName } from './identifier.js';

/** What a table has of the identity: the columns src_id and src_off, and a unique key on exactly them (in ClickHouse: a ReplacingMergeTree ordered by them). */
export interface IdentityColumns {
  present: boolean;
  unique: boolean;
}


/**
 * Decides whether a SQL store drops duplicates, from --dedup and what the table has. A table
 * made before identities existed is never altered behind the user's back (adding a unique key
 * to a large table locks it for a while): --dedup on refuses to start (exit 78) naming the
 * statements to run, --dedup auto stores without dedup and says so once.
 */
export function dedupMessages(
  mode: DedupMode,
  columns: IdentityColumns,
  table: TableName,
  log: (message: string) => void,
  /** What gives the table what it lacks (the statements to run), for the message. */
  remedy: string,
): boolean {
  if (mode === 'off') return false;
  if (columns.unique) return true;
  const missing = `${columns.present ? 'has no unique key on (src_id, src_off)' : 'has no identity columns (src_id, src_off)'}; to drop replays: ${remedy}`;
  if (mode === 'on') throw new PermanentStoreError(`--dedup on: table ${plainName(table)} ${missing}`, undefined, ExitCode.CONFIG);
  log(`table ${plainName(table)} ${missing} (until then every event is stored, replays included)`);
  return false;
}
