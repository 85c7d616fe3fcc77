import { defineCommand } from '../src/cli/spec.js';
import { INPUT_OPTIONS, OPERATION_OPTIONS, OUTPUT_OPTIONS } from '../src/cli/common-options.js';
import { ExitCode } from '../src/base/exit-codes.js';

/**
 * The repeatable options are plain string options: yargs collects a repeated one into an array,
 * and unlike an `array` option it does not swallow the FILE arguments that follow.
 */
function repeated(value: string | readonly string[] | undefined): string[] {
  return value === undefined ? [] : typeof value === 'string' ? [value] : [...value];
}

export default defineCommand(
  {
    name: 'tag',
    summary: 'name and reshape events: set or rewrite tags, add, rename, remove or keep fields, include or exclude events',
    description:
      'Reads events (MessagePack, NDJSON, or raw text lines, each becoming {message: LINE}) and writes them ' +
      'retagged and reshaped: what Fluentd users do with record_transformer, grep and rewrite_tag_filter. ' +
      'The steps run in this order: --include/--exclude choose events (by the record as it came in); the tag ' +
      'is set by --set-tag, then --tag-from-field, then the first matching --rewrite rule, then --remove-prefix ' +
      'and --prefix; the record is changed by --rename, then --add values are rendered (so they may copy any ' +
      'field), then --keep and --remove act, then the added fields are set.\n\n' +
      'Placeholders in --add, --set-tag and --rewrite values: ${hostname}; ${env.NAME} (read once at start, an ' +
      'unset variable is an error); ${tag}; ${tag_parts[N]} (N from 0, negative from the end), ${tag_prefix[N]}, ' +
      '${tag_suffix[N]}; ${record.FIELD}; ${time} (RFC 3339); in --rewrite also $1…$9, the capture groups; $$ is ' +
      'a literal $. A value that is exactly ${record.FIELD} keeps the field\'s type.\n\n' +
      'FIELD is a top-level key, or $.a.b for a nested one. Patterns are RE2 regular expressions (linear time, ' +
      'so a hostile record cannot stall the pipeline), written /REGEX/ or /REGEX/i; a field matches when its ' +
      'text (numbers printed, maps as JSON) contains a match, so anchor with ^ and $ for a whole-value match. ' +
      'Several --include options must all match; any matching --exclude drops the event. Every option is ' +
      'compiled once at start; a malformed one stops the command with exit status 64 before any input is read.',
    positionals: [{ name: 'file', type: 'string', variadic: true, describe: 'Files to read; none or - means standard input', completion: 'file' }],
    options: {
      'set-tag': { type: 'string', alias: 't', value: 'TAG', describe: 'Set every event\'s tag (placeholders allowed, e.g. app.${record.service})', group: 'Tag' },
      'tag-from-field': { type: 'string', value: 'FIELD', describe: 'Set the tag to this field\'s value (events without it keep their tag)', group: 'Tag' },
      rewrite: {
        type: 'string',
        value: "'FIELD /REGEX/ TAG'",
        describe: 'Set the tag when FIELD matches; TAG may use $1…$9 and placeholders; repeatable, the first matching rule wins',
        group: 'Tag',
      },
      'remove-prefix': { type: 'string', value: 'PREFIX', describe: 'Remove a leading PREFIX. from the tag', group: 'Tag' },
      prefix: { type: 'string', value: 'PREFIX', describe: 'Prepend PREFIX. to the tag', group: 'Tag' },
      add: { type: 'string', value: 'KEY=VALUE', describe: 'Add (or overwrite) a field; VALUE may use placeholders; repeatable', group: 'Record' },
      rename: { type: 'string', value: 'OLD=NEW', describe: 'Rename a field, keeping its place; repeatable', group: 'Record' },
      remove: { type: 'string', value: 'FIELD,...', describe: 'Remove these fields; repeatable', group: 'Record' },
      keep: { type: 'string', value: 'FIELD,...', describe: 'Keep only these fields (and the --add ones); repeatable', group: 'Record' },
      include: {
        type: 'string',
        value: "'FIELD /REGEX/'",
        describe: 'Pass only events whose FIELD matches; repeatable, all must match',
        group: 'Select',
      },
      exclude: { type: 'string', value: "'FIELD /REGEX/'", describe: 'Drop events whose FIELD matches; repeatable, any drops', group: 'Select' },
      ...INPUT_OPTIONS,
      ...OUTPUT_OPTIONS,
      ...OPERATION_OPTIONS,
    },
    exitStatuses: [ExitCode.DATA_ERROR, ExitCode.NO_INPUT, ExitCode.UNAVAILABLE, ExitCode.IO_ERROR],
    examples: [
      ["logkit tag --add 'host=${hostname}' --add 'env=${env.DEPLOY_ENV}' --prefix prod", 'label events at the source'],
      ["logkit tag --rewrite 'level /^(error|fatal)$/i alert.${tag}' --rewrite 'service /^(\\w+)$/ app.$1'", 'route by field values'],
      ['logkit tag --tag-from-field kubernetes_namespace --remove-prefix kube', 'tag by a field, strip a prefix'],
      ["logkit tag --exclude 'path /^\\/health/' --include 'level /warn|error/'", 'drop health checks, keep warnings and errors'],
      ["logkit tag --rename msg=message --remove password,token --add 'service=${tag_parts[1]}'", 'reshape records'],
      ["logkit tag --keep time,level,message --add 'node=${hostname}'", 'keep a few fields and add one'],
    ],
  },
  async (args, io) => {
    const { runTag } = await import('../src/tag/run-tag.js');
    await runTag({
      files: args.file,
      input: args.input,
      output: args.output,
      setTag: args.setTag,
      tagFromField: args.tagFromField,
      rewrite: repeated(args.rewrite),
      removePrefix: args.removePrefix,
      prefix: args.prefix,
      add: repeated(args.add),
      rename: repeated(args.rename),
      remove: repeated(args.remove),
      keep: repeated(args.keep),
      include: repeated(args.include),
      exclude: repeated(args.exclude),
      metrics: { metrics: args.metrics, stats: args.stats, statsIntervalMs: args.statsInterval },
    }, io);
  },
);
