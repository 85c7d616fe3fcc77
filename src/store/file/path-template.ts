import { createHash } from 'node:crypto';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import strftime from 'strftime';
import { CliError, ExitCode } from '../../cli/exit-codes.js';

const utcStrftime = strftime.utc();

/**
 * A file store path template: strftime fields (UTC, from the EVENT's time) and placeholders
 * `${tag}` and `${tag[N]}` (the Nth dot-separated part of the tag, from 0).
 *
 *   logs/${tag}/%Y/%m/%d/%H.ndjson.gz
 *
 * Safety: tags come from the network, so a placeholder's value is made one harmless path
 * component before it is inserted — `/`, `\`, `%`, control characters (NUL, newline, …) are
 * percent-encoded, a leading `.` too (so `.` and `..` can never be a component, nor a hidden
 * file made), an empty value becomes `_`, and a value longer than 200 bytes is cut and given a
 * hash suffix. Every rendered path is then checked to lie inside the template's base directory
 * (the part before the first field or placeholder); one that would not is refused.
 */
export class PathTemplate {
  /** The directory every rendered path lies in. */
  readonly baseDir: string;
  /** The template's literal parts (strftime text) and placeholders, in order. */
  private readonly parts: Array<{ literal: string } | { tagPart: number | 'all' }> = [];
  /** Seconds per distinct rendering of the strftime fields (3600 when the finest field is the hour). */
  readonly sliceSeconds: number;
  private readonly literalCache = new Map<number, string[]>();
  private readonly componentCache = new Map<string, string>();
  /** Rendered and checked paths of the current time slice, by tag (a batch renders each once). */
  private pathCache = new Map<string, string>();
  private pathCacheBucket = -1;

  constructor(readonly template: string) {
    if (template === '' || template.includes('\0')) throw new CliError('the path template is empty or holds a NUL', ExitCode.USAGE);
    const placeholder = /\$\{([^}]*)\}/g;
    let last = 0;
    for (let m = placeholder.exec(template); m; m = placeholder.exec(template)) {
      this.parts.push({ literal: template.slice(last, m.index) });
      const name = m[1]!.trim();
      const index = /^tag\[(\d+)\]$/.exec(name);
      if (name === 'tag') this.parts.push({ tagPart: 'all' });
      else if (index) this.parts.push({ tagPart: Number(index[1]) });
      else throw new CliError(`path template: unknown placeholder \${${name}} (known: \${tag}, \${tag[N]})`, ExitCode.USAGE);
      last = m.index + m[0].length;
    }
    this.parts.push({ literal: template.slice(last) });
    const firstVariable = template.search(/\$\{|%/);
    const fixed = firstVariable < 0 ? template : template.slice(0, firstVariable);
    const fixedDir = fixed.includes('/') ? fixed.slice(0, fixed.lastIndexOf('/') + 1) : '';
    this.baseDir = resolve(fixedDir || '.');
    if (firstVariable < 0) this.sliceSeconds = Infinity;
    else this.sliceSeconds = sliceSecondsOf(template);
  }

  /** The absolute path for an event of this tag at this time (seconds since the epoch). */
  render(tag: string, sec: number): string {
    const bucket = this.sliceSeconds === Infinity ? 0 : Math.floor(sec / this.sliceSeconds);
    if (bucket !== this.pathCacheBucket || this.pathCache.size > 10_000) {
      this.pathCache = new Map();
      this.pathCacheBucket = bucket;
    }
    let path = this.pathCache.get(tag);
    if (path === undefined) {
      path = this.renderUncached(tag, sec, bucket);
      this.pathCache.set(tag, path);
    }
    return path;
  }

  private renderUncached(tag: string, sec: number, bucket: number): string {
    let literals = this.literalCache.get(bucket);
    if (!literals) {
      const date = new Date(sec * 1000);
      literals = this.parts.map((p) => ('literal' in p ? formatUtc(p.literal, date) : ''));
      if (this.literalCache.size > 1000) this.literalCache.clear();
      this.literalCache.set(bucket, literals);
    }
    let path = '';
    for (let i = 0; i < this.parts.length; i++) {
      const part = this.parts[i]!;
      path += 'literal' in part ? literals[i] : this.component(tag, part.tagPart);
    }
    const absolute = resolve(path);
    const inside = relative(this.baseDir, absolute);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside) || inside.split(sep).includes('..')) {
      throw new CliError(`path template renders ${JSON.stringify(path)} outside ${this.baseDir}`, ExitCode.USAGE);
    }
    return absolute;
  }

  private component(tag: string, part: number | 'all'): string {
    const key = part === 'all' ? tag : `${part}\0${tag}`;
    let value = this.componentCache.get(key);
    if (value === undefined) {
      value = safeComponent(part === 'all' ? tag : (tag.split('.')[part] ?? ''));
      if (this.componentCache.size > 10_000) this.componentCache.clear();
      this.componentCache.set(key, value);
    }
    return value;
  }
}

/** Encodes a value into one path component that cannot traverse, hide, or break a line. */
export function safeComponent(value: string): string {
  if (value === '') return '_';
  // eslint-disable-next-line no-control-regex
  let text = value.replace(/[\u0000-\u001f\u007f/\\%]|[\ud800-\udfff]/g, (c) => {
    const code = c.charCodeAt(0);
    if (code >= 0xd800 && code <= 0xdfff) return c; // surrogates: handled below
    return `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
  });
  if (text.startsWith('.')) text = `%2E${text.slice(1)}`;
  // lone surrogates cannot be written as UTF-8 file names: replace them
  text = wellFormed(text);
  if (Buffer.byteLength(text) > 200) {
    const hash = createHash('sha256').update(value).digest('hex').slice(0, 12);
    let cut = text.slice(0, 180);
    while (Buffer.byteLength(cut) > 180) cut = cut.slice(0, -1);
    text = `${wellFormed(cut)}~${hash}`;
  }
  return text;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * strftime on UTC. `%j` is computed here: the strftime package (0.10) is off by one for it in
 * UTC at the start of a day.
 */
function formatUtc(pattern: string, date: Date): string {
  if (!pattern.includes('%')) return pattern;
  const withDay = pattern.replace(/%%|%j/g, (m) => (m === '%j' ? String(dayOfYear(date)).padStart(3, '0') : m));
  return utcStrftime(withDay, date);
}

function dayOfYear(date: Date): number {
  return Math.floor((date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
}

/** How long one rendering of the fields lasts: the finest field decides (a cache key, not a rule). */
function sliceSecondsOf(template: string): number {
  const fields = [...template.matchAll(/%[-_0^#]?([A-Za-z%+])/g)].map((m) => m[1]!);
  let seconds = 86_400;
  for (const f of fields) {
    if (f === '%') continue;
    if ('HIklpP'.includes(f)) seconds = Math.min(seconds, 3600);
    else if ('MR'.includes(f)) seconds = Math.min(seconds, 60);
    else if (!'YmdyjFeCGgaAbBhuwDUWVx'.includes(f)) seconds = 1;
  }
  return seconds;
}
