import type { EventRecord, LogEvent } from '../event/event.js';
import { sanitizeTag } from '../event/tag.js';
import type { LinearRegex } from '../regex/linear-regex.js';
import { fieldText, type FieldGetter } from './field-path.js';
import type { Template } from './template.js';

/** `FIELD /REGEX/`: does the field's text match? (A missing field never matches.) */
export interface FieldMatch {
  field: string;
  get: FieldGetter;
  regex: LinearRegex;
}

/** `FIELD /REGEX/ NEW.TAG`: the first rule whose field matches gives the new tag. */
export interface RewriteRule extends FieldMatch {
  tag: Template;
}

export interface TagPlan {
  include: readonly FieldMatch[];
  exclude: readonly FieldMatch[];
  setTag: Template | undefined;
  tagFromField: FieldGetter | undefined;
  rewrite: readonly RewriteRule[];
  removePrefix: string | undefined;
  prefix: string | undefined;
  rename: ReadonlyArray<readonly [from: string, to: string]>;
  add: ReadonlyArray<readonly [key: string, value: Template]>;
  remove: readonly string[];
  keep: readonly string[] | undefined;
}

/**
 * The per-batch work of `logkit tag`, in a fixed order (the man page documents it):
 * 1. --include / --exclude choose events (on the record as it came in);
 * 2. the tag: --set-tag, --tag-from-field, --rewrite, --remove-prefix, --prefix;
 * 3. the record: --rename, then --add values are rendered (they may read any field), then
 *    --remove and --keep act, then the added fields are set (so --keep never drops them).
 * Everything was compiled once; an event costs only lookups and the matches it needs.
 */
export class TagStage {
  private readonly addValues: unknown[];
  /** --rename as old → new, and new → old (to drop a field a rename overwrites). */
  private readonly renames: Map<string, string>;
  private readonly renameTargets: Map<string, string>;

  constructor(private readonly plan: TagPlan) {
    this.addValues = new Array<unknown>(plan.add.length);
    this.renames = new Map(plan.rename);
    this.renameTargets = new Map(plan.rename.map(([from, to]) => [to, from]));
  }

  process(events: LogEvent[]): LogEvent[] {
    const p = this.plan;
    const filtering = p.include.length > 0 || p.exclude.length > 0;
    let out = events;
    if (filtering) {
      out = [];
      for (let i = 0; i < events.length; i++) if (this.selected(events[i]!)) out.push(events[i]!);
    }
    for (let i = 0; i < out.length; i++) {
      const event = out[i]!;
      this.retag(event);
      this.reshape(event);
    }
    return out;
  }

  private selected(event: LogEvent): boolean {
    const { include, exclude } = this.plan;
    for (let i = 0; i < include.length; i++) if (!matches(include[i]!, event.record)) return false;
    for (let i = 0; i < exclude.length; i++) if (matches(exclude[i]!, event.record)) return false;
    return true;
  }

  private retag(event: LogEvent): void {
    const p = this.plan;
    if (p.setTag) event.tag = String(p.setTag.render(event));
    if (p.tagFromField) {
      const value = fieldText(p.tagFromField(event.record));
      if (value !== undefined && value !== '') event.tag = value;
    }
    for (let i = 0; i < p.rewrite.length; i++) {
      const rule = p.rewrite[i]!;
      const text = fieldText(rule.get(event.record));
      if (text === undefined) continue;
      const m = rule.regex.exec(text);
      if (m === null) continue;
      const tag = String(rule.tag.render(event, m));
      if (tag !== '') event.tag = tag;
      break;
    }
    let tag = event.tag;
    if (p.removePrefix !== undefined) {
      // A tag that is only the prefix keeps it, unless --prefix gives it a new one: no empty tags.
      if (tag === p.removePrefix) tag = p.prefix !== undefined ? '' : tag;
      else if (tag.startsWith(p.removePrefix + '.')) tag = tag.slice(p.removePrefix.length + 1);
    }
    if (p.prefix !== undefined) tag = tag === '' ? p.prefix : `${p.prefix}.${tag}`;
    // a tag made from record fields is outside data: sanitized like a client's (one rule, src/event/tag.ts)
    event.tag = sanitizeTag(tag);
  }

  /** Renames act all at once (like a parallel assignment) and keep each field where it was. */
  private renamed(record: EventRecord): EventRecord {
    const out: EventRecord = {};
    for (const key in record) {
      const to = this.renames.get(key);
      if (to !== undefined) {
        out[to] = record[key];
        continue;
      }
      const from = this.renameTargets.get(key);
      if (from !== undefined && Object.hasOwn(record, from)) continue; // overwritten by that rename
      out[key] = record[key];
    }
    return out;
  }

  private reshape(event: LogEvent): void {
    const p = this.plan;
    if (p.rename.length === 0 && p.add.length === 0 && p.remove.length === 0 && p.keep === undefined) return;
    let record: EventRecord = event.record;
    if (p.rename.length > 0) record = this.renamed(record);
    const values = this.addValues;
    for (let i = 0; i < p.add.length; i++) {
      // Render with the record as renamed, before removals, so a value may copy a field that is then removed.
      event.record = record;
      values[i] = p.add[i]![1].render(event);
    }
    if (p.keep !== undefined) {
      const kept: EventRecord = {};
      for (const key of p.keep) if (Object.hasOwn(record, key)) kept[key] = record[key];
      record = kept;
    } else if (p.remove.length > 0) {
      const rest: EventRecord = {};
      for (const key in record) if (!p.remove.includes(key)) rest[key] = record[key];
      record = rest;
    }
    if (p.keep !== undefined && p.remove.length > 0) for (const key of p.remove) delete record[key];
    for (let i = 0; i < p.add.length; i++) record[p.add[i]![0]] = values[i];
    event.record = record;
  }
}

function matches(rule: FieldMatch, record: EventRecord): boolean {
  const text = fieldText(rule.get(record));
  return text !== undefined && rule.regex.test(text);
}
