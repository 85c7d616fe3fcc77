import { LinearRegex } from '../regex/linear-regex.js';
import { Apache2Parser, NginxParser } from './formats/access-log.js';
import { ApacheErrorParser } from './formats/apache-error.js';
import { CriParser, DockerParser } from './formats/container.js';
import { DelimitedParser } from './formats/delimited.js';
import { JsonParser } from './formats/json.js';
import { LogfmtParser, LtsvParser } from './formats/key-value.js';
import { NoneParser, RegexpParser } from './formats/regexp.js';
import { SyslogParser } from './formats/syslog.js';
import type { LineParser } from './line-parser.js';
import type { TimeZone } from './time/zone.js';

import type { ParseFormat } from './parse-formats.js';
export { PARSE_FORMATS, type ParseFormat } from './parse-formats.js';

export interface ParserSettings {
  /** regexp: the expression (already compiled, linear-time). */
  pattern?: LinearRegex;
  /** csv/tsv: the column names. */
  fields?: readonly string[];
  zone: TimeZone;
}

export function createLineParser(format: ParseFormat, settings: ParserSettings): LineParser {
  switch (format) {
    case 'json':
      return new JsonParser();
    case 'regexp':
      return new RegexpParser(settings.pattern!);
    case 'apache2':
      return new Apache2Parser(settings.zone);
    case 'apache_error':
      return new ApacheErrorParser(settings.zone);
    case 'nginx':
      return new NginxParser(settings.zone);
    case 'syslog':
      return new SyslogParser(settings.zone);
    case 'ltsv':
      return new LtsvParser();
    case 'logfmt':
      return new LogfmtParser();
    case 'csv':
    case 'tsv':
      return new DelimitedParser(format, settings.fields!);
    case 'docker':
      return new DockerParser();
    case 'cri':
      return new CriParser();
    case 'none':
      return new NoneParser();
  }
}
