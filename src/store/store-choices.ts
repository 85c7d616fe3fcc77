/** The choices of `logkit store`, apart from the sinks so that its --help loads no driver code. */
export const STORE_TARGETS = ['file', 'postgres', 'mysql', 'clickhouse'] as const;
export type StoreTarget = (typeof STORE_TARGETS)[number];
export const FILE_FORMATS = ['ndjson', 'msgpack', 'text'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];
export const FILE_COMPRESSIONS = ['gzip', 'none'] as const;
export type FileCompression = (typeof FILE_COMPRESSIONS)[number];
export const FSYNC_POLICIES = ['always', 'interval', 'never'] as const;
export type FsyncPolicy = (typeof FSYNC_POLICIES)[number];

/**
 * --dedup: on requires the destination to drop what it already committed (refusing to start
 * otherwise), off stores every event as it comes, auto drops duplicates where the table has
 * the identity key (always in the file store) and warns once where it does not.
 */
export const DEDUP_MODES = ['auto', 'on', 'off'] as const;
export type DedupMode = (typeof DEDUP_MODES)[number];
