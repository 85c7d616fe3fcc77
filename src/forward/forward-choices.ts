/** The choices of `logkit forward`, apart from the forwarder so that its --help loads none of it. */
export const FLUSH_MODES = ['immediate', 'interval'] as const;
export type FlushMode = (typeof FLUSH_MODES)[number];
export const COMPRESSIONS = ['none', 'gzip'] as const;
export type Compression = (typeof COMPRESSIONS)[number];
export const HEARTBEAT_TYPES = ['transport', 'tcp', 'udp', 'none'] as const;
export type HeartbeatType = (typeof HEARTBEAT_TYPES)[number];
