import { createHash } from 'node:crypto';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import strftime from 'strftime';
import { canonicalEscaped } from '../../codec/escaped-utf8.js';
import { CliError, ExitCode } from '../../base/exit-codes.js';

const utcStrftime = strftime.utc();

/**
 * A file store path template: strftime fields (UTC, from the EVENT's time) and placeholders
 * `${tag}` and `${tag[N]}` (the Nth dot-separated part of the tag, from 0).
 *
 *   logs/${tag}/%Y/%m/%d/%H.ndjson.gz
 *
 * Safety: tags come from the network, so a placeholder's value is made one harmless path
 * component before it is inserted (safeComponent: `/`, `\`, `%`, control, invisible and format
 * characters are percent-encoded, a leading `.` too, so `.` and `..` can never be a component,
 * nor a hidden file made; two values that differ in their bytes never share a name). Every
 * rendered path is then checked to lie inside the template's base directory (the part before
 * the first field or placeholder); one that would not is refused.
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

/**
 * Characters a file name must not show as they are: path separators; `%` and `~` (the escape and
 * the hash marker, so every encoding decodes one way); control characters C0 and C1; format,
 * invisible and default-ignorable characters (bidi overrides, zero widths, BOM); separators other
 * than the ASCII space; private-use and noncharacters; U+FFFD; and lone surrogates (which have no
 * UTF-8 form: after canonicalEscaped they are only the escaped bytes U+DC80–U+DCFF).
 */
const ENCODED =
  /[/\\%~\uFFFD]|[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}]|(?! )\p{Zs}/gu;

/** A component longer than this (in bytes) is cut and given a hash of the whole. */
const MAX_COMPONENT_BYTES = 200;
const HASH_CHARS = 16;

/**
 * Encodes a value into one path component that cannot traverse, hide, break a line or deceive
 * the eye, and is injective on the value's bytes: two values never give the same component
 * unless a stage would write them as the same bytes (up to a 64-bit hash collision between two
 * values longer than 200 bytes). The value is first put in its canonical form (canonicalEscaped),
 * so a tag names the same file whether `store` reads it from its producer or after a stage that
 * wrote it again. A character to encode becomes its UTF-8 bytes as `%XX`, an invalid byte
 * (U+DC80 + byte) `%uDCXX`; a leading `.` becomes `%2E`; the empty value is `%_`; a value whose
 * encoding exceeds 200 bytes is cut and ends in `~` and a hash of the whole encoding.
 */
export function safeComponent(value: string): string {
  if (value === '') return '%_';
  let text = canonicalEscaped(value).replace(ENCODED, percentEncode);
  if (text.startsWith('.')) text = `%2E${text.slice(1)}`;
  if (Buffer.byteLength(text) > MAX_COMPONENT_BYTES) {
    // the encoding is well-formed (lone surrogates are encoded), so hashing its UTF-8 loses nothing
    const hash = createHash('sha256').update(text).digest('hex').slice(0, HASH_CHARS);
    const room = MAX_COMPONENT_BYTES - 1 - HASH_CHARS;
    let cut = text.slice(0, room);
    while (Buffer.byteLength(cut) > room) cut = cut.slice(0, -1);
    if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1); // never half a surrogate pair
    text = `${cut}~${hash}`;
  }
  return text;
}

function percentEncode(c: string): string {
  const code = c.charCodeAt(0);
  if (c.length === 1 && code >= 0xd800 && code <= 0xdfff) return `%u${code.toString(16).toUpperCase()}`;
  let out = '';
  for (const byte of Buffer.from(c, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
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
