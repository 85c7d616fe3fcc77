import { hostname } from 'node:os';
import type { LogEvent } from '../event/event.js';
import { fieldGetter, fieldText } from './field-path.js';

/**
 * A value with placeholders, compiled once into parts so that rendering per event is a few
 * lookups and one concatenation:
 *   ${hostname}        this machine's host name
 *   ${env.NAME}        an environment variable (read once, at start; an unset one is an error)
 *   ${tag}             the event's tag; ${tag_parts[N]} one dot-separated part (negative N counts
 *                      from the end); ${tag_prefix[N]} parts 0..N joined; ${tag_suffix[N]} parts N..end
 *   ${record.FIELD}    a field of the record (`${record.$.a.b}` for a nested one)
 *   ${time}            the event time, RFC 3339 with nanoseconds
 *   $1 … $9            (--rewrite only) the regex's capture groups
 *   $$                 a literal $
 * A value that is exactly one ${record.FIELD} keeps the field's type (a number stays a number).
 */
export interface Template {
  /** Renders for an event; `captures` are --rewrite's groups. */
  render(event: LogEvent, captures?: ReadonlyArray<string | null | undefined>): unknown;
  readonly constant: boolean;
}

type Part = string | ((event: LogEvent, captures?: ReadonlyArray<string | null | undefined>) => string);

export class TemplateError extends Error {}

const PLACEHOLDER = /\$\{([^}]*)\}|\$(\d)|\$\$/g;

export function compileTemplate(text: string, options: { captures?: boolean; env?: NodeJS.ProcessEnv } = {}): Template {
  const env = options.env ?? process.env;
  const parts: Part[] = [];
  let last = 0;
  let single: ((event: LogEvent) => unknown) | undefined;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[0] === '$$') {
      parts.push('$');
      continue;
    }
    if (m[2] !== undefined) {
      if (!options.captures) throw new TemplateError(`$${m[2]} (a capture group) is only meaningful in --rewrite`);
      const n = Number(m[2]);
      parts.push((_, captures) => captures?.[n] ?? '');
      continue;
    }
    const name = m[1]!.trim();
    if (name === 'hostname') parts.push(hostname());
    else if (name.startsWith('env.')) {
      const variable = name.slice(4);
      const value = env[variable];
      if (value === undefined) throw new TemplateError(`environment variable ${variable} is not set (used as \${${name}})`);
      parts.push(value);
    } else if (name === 'tag') parts.push((event) => event.tag);
    else if (name === 'time') parts.push((event) => event.time.toISO());
    else if (name.startsWith('record.')) {
      const get = fieldGetter(name.slice(7));
      parts.push((event) => fieldText(get(event.record)) ?? '');
      if (m[0] === text) single = (event) => get(event.record) ?? null;
    } else {
      const tagPart = /^tag_(parts|prefix|suffix)\[(-?\d+)\]$/.exec(name);
      if (!tagPart) {
        throw new TemplateError(
          `unknown placeholder \${${name}} (use \${hostname}, \${env.NAME}, \${tag}, \${tag_parts[N]}, \${tag_prefix[N]}, \${tag_suffix[N]}, \${record.FIELD} or \${time})`,
        );
      }
      parts.push(tagPartGetter(tagPart[1] as 'parts' | 'prefix' | 'suffix', Number(tagPart[2])));
    }
  }
  if (last < text.length) parts.push(text.slice(last));
  const merged = mergeConstants(parts);
  if (single) return { render: single, constant: false };
  if (merged.length === 0) return { render: () => '', constant: true };
  if (merged.length === 1 && typeof merged[0] === 'string') {
    const value = merged[0];
    return { render: () => value, constant: true };
  }
  return {
    constant: false,
    render(event, captures) {
      let out = '';
      for (let i = 0; i < merged.length; i++) {
        const part = merged[i]!;
        out += typeof part === 'string' ? part : part(event, captures);
      }
      return out;
    },
  };
}

function tagPartGetter(kind: 'parts' | 'prefix' | 'suffix', index: number): Part {
  // A batch mostly shares one tag: split it once, not per event.
  let lastTag: string | undefined;
  let parts: string[] = [];
  return (event) => {
    if (event.tag !== lastTag) {
      lastTag = event.tag;
      parts = lastTag.split('.');
    }
    const i = index < 0 ? parts.length + index : index;
    if (i < 0 || i >= parts.length) return '';
    if (kind === 'parts') return parts[i]!;
    if (kind === 'prefix') return parts.slice(0, i + 1).join('.');
    return parts.slice(i).join('.');
  };
}

function mergeConstants(parts: Part[]): Part[] {
  const out: Part[] = [];
  for (const part of parts) {
    const previous = out[out.length - 1];
    if (typeof part === 'string' && typeof previous === 'string') out[out.length - 1] = previous + part;
    else out.push(part);
  }
  return out;
}
