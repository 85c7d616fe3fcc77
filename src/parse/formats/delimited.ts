import type { EventRecord } from '../../event/event.js';
import type { LineParser } from '../line-parser.js';

/**
 * CSV (RFC 4180 quoting: `"a ""quoted"" field"`) and TSV (plain tab split, as Fluentd's tsv)
 * lines, mapped onto the field names given with --fields. A line with more or fewer values than
 * names is an error rather than silently losing or inventing a column.
 */
export class DelimitedParser implements LineParser {
  error = '';
  time: string | undefined = undefined;
  readonly ownsTime = false;
  private readonly values: string[] = [];

  constructor(
    private readonly kind: 'csv' | 'tsv',
    private readonly fields: readonly string[],
  ) {}

  parse(text: string): EventRecord | undefined {
    const values = this.values;
    values.length = 0;
    if (this.kind === 'tsv') {
      let start = 0;
      for (;;) {
        const tab = text.indexOf('\t', start);
        values.push(text.slice(start, tab < 0 ? text.length : tab));
        if (tab < 0) break;
        start = tab + 1;
      }
    } else if (!this.splitCsv(text)) {
      return undefined;
    }
    if (values.length !== this.fields.length) {
      this.error = `${this.kind}: ${values.length} values for ${this.fields.length} fields (${this.fields.join(',')})`;
      return undefined;
    }
    const record: EventRecord = {};
    for (let i = 0; i < values.length; i++) record[this.fields[i]!] = values[i];
    return record;
  }

  private splitCsv(text: string): boolean {
    const n = text.length;
    let i = 0;
    for (;;) {
      if (text.charCodeAt(i) === 34) {
        let value = '';
        let j = i + 1;
        for (;;) {
          const q = text.indexOf('"', j);
          if (q < 0) {
            this.error = 'csv: unterminated quoted value';
            return false;
          }
          value += text.slice(j, q);
          if (text.charCodeAt(q + 1) === 34) {
            value += '"';
            j = q + 2;
            continue;
          }
          i = q + 1;
          break;
        }
        this.values.push(value);
        if (i < n && text.charCodeAt(i) !== 44) {
          this.error = `csv: unexpected character after a quoted value at column ${i + 1}`;
          return false;
        }
      } else {
        const comma = text.indexOf(',', i);
        const end = comma < 0 ? n : comma;
        this.values.push(text.slice(i, end));
        i = end;
      }
      if (i >= n) return true;
      i++; // the comma
      if (i === n) {
        this.values.push('');
        return true;
      }
    }
  }
}
