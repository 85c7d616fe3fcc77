import { CliError, ExitCode } from '../base/exit-codes.js';
import type { FileFormat } from './file/file-format.js';
import type { FsyncPolicy } from './file/file-sink.js';
import type { CommitHook, DedupMode, StoreSink } from './store-sink.js';
import { parseTableName } from './sql/identifier.js';

import type { FileCompression, StoreTarget } from './store-choices.js';
export { STORE_TARGETS, type StoreTarget } from './store-choices.js';

export interface SinkArgs {
  target: StoreTarget;
  destination: string;
  table: string;
  create: boolean;
  dedup: DedupMode;
  /** ClickHouse request timeout. */
  timeoutMs: number;
  format?: FileFormat;
  compress?: FileCompression;
  gzipLevel: number;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  maxOpenFiles: number;
  messageKey: string;
}

/** Builds the sink a command line names; the drivers are imported only for their target. */
export async function createSink(args: SinkArgs, onCommit: CommitHook, log: (message: string) => void): Promise<StoreSink> {
  switch (args.target) {
    case 'file': {
      const { FileSink } = await import('./file/file-sink.js');
      const template = args.destination;
      const gzip = args.compress ? args.compress === 'gzip' : /\.gz$/i.test(template);
      const format = args.format ?? formatFromName(template);
      return new FileSink({
        template, format, gzip, gzipLevel: args.gzipLevel, fsync: args.fsync, fsyncIntervalMs: args.fsyncIntervalMs,
        maxOpenFiles: args.maxOpenFiles, messageKey: args.messageKey, dedup: args.dedup !== 'off', onCommit, log,
      });
    }
    case 'postgres': {
      expectScheme(args.destination, ['postgres:', 'postgresql:'], 'postgres://USER@HOST:5432/DATABASE');
      const { PostgresSink } = await import('./sql/postgres-sink.js');
      return new PostgresSink({ url: args.destination, table: parseTableName(args.table), create: args.create, dedup: args.dedup, onCommit, log });
    }
    case 'mysql': {
      expectScheme(args.destination, ['mysql:', 'mariadb:'], 'mysql://USER:PASSWORD@HOST:3306/DATABASE');
      const { MysqlSink } = await import('./sql/mysql-sink.js');
      const url = args.destination.replace(/^mariadb:/i, 'mysql:');
      return new MysqlSink({ url, table: parseTableName(args.table), create: args.create, dedup: args.dedup, onCommit, log });
    }
    case 'clickhouse': {
      expectScheme(args.destination, ['http:', 'https:', 'clickhouse:'], 'http://HOST:8123/DATABASE');
      const { ClickhouseSink } = await import('./sql/clickhouse-sink.js');
      return new ClickhouseSink({ url: args.destination, table: parseTableName(args.table), create: args.create, dedup: args.dedup, onCommit, log, timeoutMs: args.timeoutMs });
    }
  }
}

/** The file format a template's extension suggests (before any .gz). */
function formatFromName(template: string): FileFormat {
  const name = template.replace(/\.gz$/i, '');
  if (/\.(msgpack|mpk|mp)$/i.test(name)) return 'msgpack';
  if (/\.(log|txt)$/i.test(name)) return 'text';
  return 'ndjson';
}

function expectScheme(url: string, schemes: string[], example: string): void {
  let protocol: string;
  try {
    protocol = new URL(url).protocol.toLowerCase();
  } catch {
    throw new CliError(`${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//***@'))} is not a URL (expected ${example})`, ExitCode.USAGE);
  }
  if (!schemes.includes(protocol)) throw new CliError(`expected a ${schemes.join(' or ')} URL like ${example}, got ${protocol}`, ExitCode.USAGE);
}
