import { CliError, ExitCode } from '../../base/exit-codes.js';

/**
 * Table names come from the command line, but are still validated: a plain SQL identifier,
 * optionally qualified by a schema/database (`logs.events`). Anything else is refused rather
 * than escaped, so a name means the same thing in PostgreSQL, MySQL and ClickHouse.
 */
const NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

export interface TableName {
  schema?: string;
  table: string;
}

export function parseTableName(text: string): TableName {
  const parts = text.split('.');
  if (parts.length > 2 || !parts.every((p) => NAME.test(p))) {
    throw new CliError(`--table ${JSON.stringify(text)}: expected NAME or SCHEMA.NAME of letters, digits and _ (at most 63 each)`, ExitCode.USAGE);
  }
  return parts.length === 2 ? { schema: parts[0]!, table: parts[1]! } : { table: parts[0]! };
}

/** `"schema"."table"` (PostgreSQL) or `` `db`.`table` `` (MySQL, ClickHouse). */
export function quoteTable(name: TableName, quote: '"' | '`'): string {
  const q = (part: string): string => quote + part.split(quote).join(quote + quote) + quote;
  return name.schema ? `${q(name.schema)}.${q(name.table)}` : q(name.table);
}

/** The name without quotes, for index names and messages. */
export function plainName(name: TableName): string {
  return name.schema ? `${name.schema}.${name.table}` : name.table;
}

/** A URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
