/** The formats `logkit parse` knows, apart from the parsers so that its --help loads no parser code. */
export const PARSE_FORMATS = [
  'json', 'regexp', 'apache2', 'apache_error', 'nginx', 'syslog', 'ltsv', 'logfmt', 'csv', 'tsv', 'docker', 'cri', 'none',
] as const;
export type ParseFormat = (typeof PARSE_FORMATS)[number];
