import { CliError, ExitCode } from '../base/exit-codes.js';
import { TAG_RULE, isCleanTag } from '../event/tag.js';
import { LinearRegex } from '../regex/linear-regex.js';
import { fieldGetter } from './field-path.js';
import type { FieldMatch, RewriteRule, TagPlan } from './tag-stage.js';
import { TemplateError, compileTemplate, type Template } from './template.js';

export interface TagCommandOptions {
  setTag?: string;
  prefix?: string;
  removePrefix?: string;
  tagFromField?: string;
  rewrite: readonly string[];
  add: readonly string[];
  rename: readonly string[];
  remove: readonly string[];
  keep: readonly string[];
  include: readonly string[];
  exclude: readonly string[];
}

const usage = (message: string): CliError => new CliError(`tag: ${message}`, ExitCode.USAGE);

/** Compiles the command line once into a TagPlan; any malformed value is a usage error (exit 64). */
export function compileTagPlan(o: TagCommandOptions, env: NodeJS.ProcessEnv = process.env): TagPlan {
  for (const [name, value] of [['set-tag', o.setTag], ['prefix', o.prefix], ['remove-prefix', o.removePrefix], ['tag-from-field', o.tagFromField]] as const) {
    if (Array.isArray(value)) throw usage(`--${name} given more than once`);
  }
  return {
    include: o.include.map((text) => fieldMatch(text, '--include')),
    exclude: o.exclude.map((text) => fieldMatch(text, '--exclude')),
    setTag: o.setTag !== undefined ? tagTemplate(o.setTag, '--set-tag', false, env) : undefined,
    tagFromField: o.tagFromField !== undefined ? fieldGetter(nonEmpty(o.tagFromField, '--tag-from-field')) : undefined,
    rewrite: o.rewrite.map((text) => rewriteRule(text, env)),
    removePrefix: o.removePrefix !== undefined ? tagLiteral(o.removePrefix, '--remove-prefix') : undefined,
    prefix: o.prefix !== undefined ? tagLiteral(o.prefix, '--prefix') : undefined,
    rename: o.rename.map((text) => {
      const [from, to] = pair(text, '--rename', 'OLD=NEW');
      if (to === '') throw usage(`--rename "${text}": the new name is empty`);
      return [from, to] as const;
    }),
    add: o.add.map((text) => {
      const [key, value] = pair(text, '--add', 'KEY=VALUE');
      return [key, template(value, `--add ${key}`, false, env)] as const;
    }),
    remove: list(o.remove, '--remove'),
    keep: o.keep.length > 0 ? list(o.keep, '--keep') : undefined,
  };
}

function nonEmpty(text: string, option: string): string {
  if (text.trim() === '') throw usage(`${option} needs a value`);
  return text;
}

/** `KEY=VALUE` → [KEY, VALUE] (the value may itself contain =). */
function pair(text: string, option: string, shape: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw usage(`${option} "${text}": expected ${shape}`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

/** Repeatable comma lists: `--remove a,b --remove c` → [a, b, c]. */
function list(values: readonly string[], option: string): string[] {
  if (values.length === 0) return [];
  const names = values.flatMap((v) => v.split(',')).map((v) => v.trim());
  if (names.length === 0 || names.some((n) => n === '')) throw usage(`${option} "${values.join(',')}": expected FIELD,FIELD,...`);
  return names;
}

function template(text: string, option: string, captures: boolean, env: NodeJS.ProcessEnv): Template {
  try {
    return compileTemplate(text, { captures, env });
  } catch (error) {
    if (error instanceof TemplateError) throw usage(`${option}: ${error.message}`);
    throw error;
  }
}

/** A tag must be non-empty and free of whitespace; a constant one is checked now. */
function tagTemplate(text: string, option: string, captures: boolean, env: NodeJS.ProcessEnv): Template {
  const compiled = template(text, option, captures, env);
  if (compiled.constant) tagLiteral(String(compiled.render(undefined as never)), option);
  return compiled;
}

function tagLiteral(text: string, option: string): string {
  if (!isCleanTag(text)) throw usage(`${option} "${text}" is not a tag (${TAG_RULE})`);
  return text;
}

/** `FIELD /REGEX/flags` or `FIELD REGEX`. */
function fieldMatch(text: string, option: string): FieldMatch {
  const m = /^\s*(\S+)\s+(\S.*?)\s*$/s.exec(text);
  if (!m) throw usage(`${option} "${text}": expected 'FIELD /REGEX/'`);
  const field = m[1]!;
  return { field, get: fieldGetter(field), regex: LinearRegex.compile(m[2]!, `tag: ${option} ${field}`) };
}

/** `FIELD /REGEX/ NEW.TAG` (the tag may use $1…$9 and the placeholders of --add). */
function rewriteRule(text: string, env: NodeJS.ProcessEnv): RewriteRule {
  const m = /^\s*(\S+)\s+(\/.*\/[a-z]*|[^/\s]\S*)\s+(\S+)\s*$/s.exec(text);
  if (!m) throw usage(`--rewrite "${text}": expected 'FIELD /REGEX/ NEW.TAG'`);
  const field = m[1]!;
  const regex = LinearRegex.compile(m[2]!, `tag: --rewrite ${field}`);
  return { field, get: fieldGetter(field), regex, tag: tagTemplate(m[3]!, '--rewrite', true, env) };
}
