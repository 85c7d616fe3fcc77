import type { EventRecord } from '../../event/event.js';
import type { LinearRegex } from '../../regex/linear-regex.js';
import type { LineParser } from '../line-parser.js';

/** A user's expression with named groups (RE2 syntax, linear time): each group becomes a field. */
export class RegexpParser implements LineParser {
  error = '';
  time: string | undefined = undefined;
  readonly ownsTime = false;

  constructor(private readonly regex: LinearRegex) {}

  parse(text: string): EventRecord | undefined {
    const m = this.regex.exec(text);
    if (m === null) {
      this.error = `does not match /${this.regex.source}/`;
      return undefined;
    }
    const record: EventRecord = {};
    const { names, indexes } = this.regex;
    for (let i = 0; i < names.length; i++) {
      const value = m[indexes[i]!];
      if (value !== undefined && value !== null) record[names[i]!] = value;
    }
    return record;
  }
}

/** `none`: the whole line becomes `message` (useful to re-key raw text, or with --nest). */
export class NoneParser implements LineParser {
  error = '';
  time: string | undefined = undefined;
  readonly ownsTime = false;

  parse(text: string): EventRecord | undefined {
    return { message: text };
  }
}
