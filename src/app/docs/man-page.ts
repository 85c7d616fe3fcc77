import { ALL_EXIT_STATUSES, exitStatusText } from '../../base/exit-codes.js';
import { defaultText, rangeText, unitsParagraph, valuePlaceholder } from '../../cli/option-values.js';
import type { CommandSpec, OptionSpec } from '../../cli/spec.js';
import { usageLine } from '../../cli/spec.js';

/** Escapes text for roff: backslashes, leading dots/quotes, and hyphens that must stay ASCII. */
export function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1');
}

function optionSynopsis(name: string, o: OptionSpec): string {
  const flag = `\\fB\\-\\-${roff(name)}\\fR`;
  const short = o.alias ? `\\fB\\-${roff(o.alias)}\\fR, ` : '';
  const value = o.type === 'boolean' ? '' : ` \\fI${roff(valuePlaceholder(o))}\\fR`;
  return `${short}${flag}${value}`;
}

function optionDetails(o: OptionSpec): string {
  const notes: string[] = [];
  const range = rangeText(o);
  if (range) notes.push(`${range.replace(/^./, (c) => c.toUpperCase())}.`);
  const shownDefault = defaultText(o);
  if (shownDefault !== undefined) notes.push(`Default: ${shownDefault}.`);
  if (o.array) notes.push('May be given more than once.');
  if (o.required) notes.push('Required.');
  return roff([o.describe.replace(/\.?$/, '.'), ...notes].join(' '));
}

const DATE = '2026-11-21';

/** The man page of one command (section 1), generated from its spec. */
export function commandManPage(spec: CommandSpec, version: string, seeAlso: readonly string[]): string {
  const page = `logkit-${spec.name}`;
  const lines = [
    `.TH ${page.toUpperCase().replace(/-/g, '\\-')} 1 ${DATE} "logkit ${version}" "logkit manual"`,
    '.SH NAME',
    `${roff(page)} \\- ${roff(spec.summary)}`,
    '.SH SYNOPSIS',
    `.B ${roff(usageLine(spec))}`,
    '.SH DESCRIPTION',
    ...spec.description.split('\n\n').flatMap((p, i) => (i === 0 ? [roff(p)] : ['.PP', roff(p)])),
  ];
  if (spec.positionals.length > 0) {
    lines.push('.SH ARGUMENTS');
    for (const p of spec.positionals) lines.push('.TP', `\\fI${roff(p.name.toUpperCase())}\\fR${p.variadic ? '...' : ''}`, roff(p.describe.replace(/\.?$/, '.')));
  }
  lines.push('.SH OPTIONS');
  for (const [name, o] of Object.entries(spec.options)) lines.push('.TP', optionSynopsis(name, o), optionDetails(o));
  lines.push('.TP', '\\fB\\-h\\fR, \\fB\\-\\-help\\fR', 'Show help with examples and exit.');
  const units = unitsParagraph(spec);
  if (units) lines.push('.SH DURATIONS AND SIZES', roff(units));
  for (const [heading, text] of spec.sections ?? []) lines.push(`.SH ${heading.toUpperCase()}`, ...text.split('\n\n').flatMap((p, i) => (i === 0 ? [roff(p)] : ['.PP', roff(p)])));
  lines.push('.SH EXAMPLES');
  for (const [command, explanation] of spec.examples) lines.push('.PP', roff(explanation.replace(/^./, (c) => c.toUpperCase()) + ':'), '.RS 4', '.nf', `\\f(CW${roff(command)}\\fR`, '.fi', '.RE');
  lines.push('.SH EXIT STATUS', roff(exitStatusText(spec.exitStatuses)));
  lines.push('.SH SEE ALSO', seeAlso.map((name) => `\\fB${roff(name)}\\fR(1)`).join(', '));
  return lines.join('\n') + '\n';
}

/** The overview page, logkit(1): every command with its summary. */
export function overviewManPage(specs: readonly CommandSpec[], version: string): string {
  const lines = [
    `.TH LOGKIT 1 ${DATE} "logkit ${version}" "logkit manual"`,
    '.SH NAME',
    'logkit \\- composable log collection commands speaking the Fluentd Forward Protocol',
    '.SH SYNOPSIS',
    '.B logkit \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]',
    '.br',
    '.B logkit \\-\\-version',
    '.SH DESCRIPTION',
    roff(
      'logkit is a set of small commands that read and write log events on standard input and output, ' +
        'so that log collectors and aggregators are assembled with shell pipes or systemd units. An event is ' +
        'a tag, a time with nanoseconds and a record (a map). Between commands events travel as a MessagePack ' +
        'stream of Forward Protocol Message-mode entries [tag, time, record, options]; NDJSON is the other ' +
        'encoding. Inputs detect the encoding from the first byte; outputs write MessagePack to a pipe or file ' +
        'and a human format to a terminal.',
    ),
    '.SH COMMANDS',
  ];
  for (const spec of specs) lines.push('.TP', `\\fBlogkit\\-${roff(spec.name)}\\fR(1)`, roff(spec.summary.replace(/\.?$/, '.')));
  lines.push('.SH OPTIONS', '.TP', '\\fB\\-\\-version\\fR', 'Print the version and exit.', '.TP', '\\fB\\-h\\fR, \\fB\\-\\-help\\fR', 'List the commands and exit.');
  lines.push('.SH ENVIRONMENT', '.TP', '.B NO_COLOR', 'When set and not empty, the human format has no color.', '.TP', '.B FORCE_COLOR', 'When set (and not 0), the human format is colored even when not writing to a terminal.');
  lines.push('.SH EXIT STATUS', roff(exitStatusText(ALL_EXIT_STATUSES)));
  lines.push('.SH SEE ALSO', specs.map((s) => `\\fBlogkit\\-${roff(s.name)}\\fR(1)`).join(', '));
  return lines.join('\n') + '\n';
}
