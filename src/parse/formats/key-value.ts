import type { EventRecord } from '../../event/event.js';
import type { LineParser } from '../line-parser.js';

/** LTSV (http://ltsv.org): `label:value` pairs separated by tabs. */
export class LtsvParser implements LineParser {
  error = '';
  time: string | undefined = undefined;
  readonly ownsTime = false;

  parse(text: string): EventRecord | undefined {
    const record: EventRecord = {};
    let start = 0;
    while (start <= text.length) {
      let end = text.indexOf('\t', start);
      if (end < 0) end = text.length;
      if (end > start) {
        const colon = text.indexOf(':', start);
        if (colon < 0 || colon >= end || colon === start) {
          this.error = `LTSV field "${clip(text.slice(start, end))}" is not label:value`;
          return undefined;
        }
        record[text.slice(start, colon)] = text.slice(colon + 1, end);
      }
      start = end + 1;
    }
    return record;
  }
}

/**
 * logfmt (`ts=… level=info msg="quoted \"text\"" flag`): one left-to-right scan, linear.
 * Values stay text (use --types to convert); a bare key is `true`, as in go-logfmt.
 */
export class LogfmtParser implements LineParser {
  error = '';
  time: string | undefined = undefined;
  readonly ownsTime = false;

  parse(text: string): EventRecord | undefined {
    const record: EventRecord = {};
    const n = text.length;
    let i = 0;
    let pairs = 0;
    for (;;) {
      while (i < n && isSpace(text.charCodeAt(i))) i++;
      if (i >= n) break;
      const keyStart = i;
      while (i < n) {
        const c = text.charCodeAt(i);
        if (c === 61 /* = */ || isSpace(c) || c === 34 /* " */) break;
        i++;
      }
      if (i === keyStart) {
        this.error = `logfmt: expected a key at column ${i + 1}`;
        return undefined;
      }
      const key = text.slice(keyStart, i);
      if (i >= n || text.charCodeAt(i) !== 61) {
        if (i < n && text.charCodeAt(i) === 34) {
          this.error = `logfmt: unexpected quote at column ${i + 1}`;
          return undefined;
        }
        record[key] = true;
        continue;
      }
      i++; // '='
      pairs++;
      if (i < n && text.charCodeAt(i) === 34) {
        // Quoted value: find the closing quote, unescaping only when there is a backslash.
        let j = i + 1;
        let escaped = false;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === 92 /* \ */) {
            escaped = true;
            j += 2;
            continue;
          }
          if (c === 34) break;
          j++;
        }
        if (j >= n) {
          this.error = `logfmt: unterminated quoted value of "${clip(key)}"`;
          return undefined;
        }
        const raw = text.slice(i + 1, j);
        record[key] = escaped ? unescape(raw) : raw;
        i = j + 1;
      } else {
        const valueStart = i;
        while (i < n && !isSpace(text.charCodeAt(i))) i++;
        record[key] = text.slice(valueStart, i);
      }
    }
    if (pairs === 0) {
      this.error = 'not logfmt: no key=value pair';
      return undefined;
    }
    return record;
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' };

function unescape(raw: string): string {
  return raw.replace(/\\(.)/g, (_, c: string) => ESCAPES[c] ?? `\\${c}`);
}

export function clip(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
